"""The ticket card in the agents' group: rendered from the ticket as it is now, with the buttons
its state allows; updated in place (several pending edits merge into the latest)."""

from __future__ import annotations

from typing import Any

from dialogs.ticket_machine import OPEN
from storage.models import Ticket
from storage.uow import UnitOfWork

from .context import PRIORITY_CARD, PRIORITY_CARD_EDIT, Desk


def card_buttons(desk: Desk, t: Ticket) -> list[list[tuple[str, str]]]:
    if t.status == "new":
        first = (
            ("agent_btn_grab", f"d:grab:{t.id}")
            if (t.urgent and desk.policy.grab_urgent)
            else ("agent_btn_take", f"d:take:{t.id}")
        )
        return [[first, ("agent_btn_takeover", f"d:tkov:{t.id}")]]
    if t.status in OPEN:
        return [
            [
                ("agent_btn_dispatch", f"d:disp:{t.id}"),
                ("agent_btn_progress", f"d:prog:{t.id}"),
                ("agent_btn_complete", f"d:done:{t.id}"),
            ],
            [
                ("agent_btn_escalate", f"d:esc:{t.id}"),
                ("agent_btn_takeover", f"d:tkov:{t.id}"),
                ("agent_btn_reassign", f"d:rsn:{t.id}"),
            ],
        ]
    if t.status == "done":
        return [
            [("agent_btn_takeover", f"d:tkov:{t.id}"), ("agent_btn_resurvey", f"d:resurvey:{t.id}")]
        ]
    if t.status == "closed":
        return [[("agent_btn_resurvey", f"d:resurvey:{t.id}")]]
    return []


async def card_context(desk: Desk, uow: UnitOfWork, t: Ticket) -> dict[str, Any]:
    details = t.details or {}
    work = []
    for wo, w in await uow.desk.work_orders(t.id):
        due = desk.texts.env.filters["when"](wo.due_at, desk.clock.now()) if wo.due_at else ""
        before = (" " + desk.texts.button("time_before", when=due)) if due else ""
        work.append(f"{wo.department}{w.name if w else ''}{before}")
    events = await uow.desk.events(t.id)
    last = ""
    if events:
        e = events[-1]
        last = desk.texts.buttons.get(f"event_{e.action}", e.action) + (
            f":{e.note}" if e.note else ""
        )
    category_label = desk.policy.category_label(t.kind, t.category) if t.kind != "consult" else ""
    return {
        "t": t,
        "salutation": details.get("salutation", ""),
        "role": details.get("reporter_role", ""),
        "identity_verified": details.get("identity_verified", True),
        "category_label": category_label,
        "photos": await uow.desk.photo_count(t.id),
        "handler": t.handler_name,
        "work": work,
        "last_event": last,
        # the owner's chosen visit, so the card and the owner show the same times
        "window": details.get("slot_window"),
        "slot": details.get("slot_label", ""),
        "open": t.status in OPEN,
    }


async def card_payload(desk: Desk, uow: UnitOfWork, t: Ticket) -> dict[str, Any]:
    text = desk.texts.render(
        "agent_card", {"now": desk.clock.now(), **await card_context(desk, uow, t)}
    )
    payload: dict[str, Any] = {"text": text[:4096], "parse_mode": "HTML"}
    markup = desk.keyboard(card_buttons(desk, t))
    payload["reply_markup"] = markup or {"inline_keyboard": []}
    return payload


async def post_card(desk: Desk, uow: UnitOfWork, t: Ticket) -> list[int]:
    if not desk.agent_chat_id:
        return []
    return [
        await uow.outbox.add(
            desk.agent_chat_id,
            await card_payload(desk, uow, t),
            desk.clock.now(),
            priority=PRIORITY_CARD,
            purpose="card",
            ticket_id=t.id,
            ref={"ticket_id": t.id},
        )
    ]


async def refresh_card(desk: Desk, uow: UnitOfWork, t: Ticket) -> list[int]:
    """Edit the card in place to show the current state and handler."""
    if not desk.agent_chat_id:
        return []
    await uow.desk.supersede_card_edits(t.id)
    return [
        await uow.outbox.add(
            desk.agent_chat_id,
            await card_payload(desk, uow, t),
            desk.clock.now(),
            method="editMessageText",
            priority=PRIORITY_CARD_EDIT,
            purpose="card_edit",
            ticket_id=t.id,
            ref={"ticket_id": t.id},
        )
    ]
