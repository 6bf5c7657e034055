"""The ticket card in the agents' group: rendered from the ticket as it is now, with the buttons
its state allows; updated in place (several pending edits merge into the latest)."""

from __future__ import annotations

from typing import Any

from desk.casework import card_buttons as buttons_for
from desk.effects import Button
from desk.machine import OPEN
from desk.model import Case
from storage.models import Ticket
from storage.uow import UnitOfWork

from ..outbound import Card
from .buttons import stamped
from .context import PRIORITY_CARD, PRIORITY_CARD_EDIT, Desk


def card_buttons(desk: Desk, t: Ticket) -> tuple[tuple[Button, ...], ...]:
    """The buttons the ticket's state allows (decided by the core); none on a ticket merged
    into another: its work goes on there."""
    if t.merged_into is not None:
        return ()
    case = Case(
        id=t.id,
        number=t.number,
        kind=t.kind,
        category=t.category,
        department=t.department,
        status=t.status,
        urgent=t.urgent,
        reporter_account_id=t.reporter_account_id,
    )
    return stamped(buttons_for(case, desk.policy), t)


async def card_context(desk: Desk, uow: UnitOfWork, t: Ticket) -> dict[str, Any]:
    details = t.details or {}
    work = []
    for wo, w in await uow.cases.work_orders(t.id):
        due = desk.texts.env.filters["when"](wo.due_at, desk.clock.now()) if wo.due_at else ""
        before = (" " + desk.texts.button("time_before", when=due)) if due else ""
        work.append(f"{wo.department}{w.name if w else ''}{before}")
    events = await uow.cases.events(t.id)
    last = ""
    if events:
        e = events[-1]
        last = desk.texts.labels.get(f"event_{e.action}", e.action) + (
            f"：{e.note}" if e.note else ""  # full-width, as every sentence agents read
        )
    category_label = desk.policy.category_label(t.kind, t.category) if t.kind != "consult" else ""
    # where the owner reported from (微信 on the card): the agents reach them there
    reporter = await uow.accounts.account(t.reporter_account_id)
    return {
        "t": t,
        "salutation": details.get("salutation", ""),
        "role": details.get("reporter_role", ""),
        "identity_verified": details.get("identity_verified", True),
        # a WeChat owner who reported before typing the SMS code back
        "reporter_verified": t.reporter_verified,
        "channel": reporter.channel if reporter is not None else "",
        "category_label": category_label,
        "photos": await uow.cases.photo_count(t.id),
        "handler": t.handler_name,
        "work": work,
        "last_event": last,
        # the owner's chosen visit, so the card and the owner show the same times
        "window": details.get("slot_window"),
        "slot": details.get("slot_label", ""),
        "open": t.status in OPEN,
        # one fault, one ticket: its reporter and the owners who reported the same fault since
        "reporters": await uow.cases.reporters(t.id),
        "merged_into": await _number(uow, t.merged_into),
    }


async def _number(uow: UnitOfWork, ticket_id: int | None) -> str:
    other = await uow.cases.ticket(ticket_id, lock=False) if ticket_id is not None else None
    return other.number if other is not None else ""


async def card(desk: Desk, uow: UnitOfWork, t: Ticket, *, edit: bool = False) -> Card:
    return Card("agent_card", await card_context(desk, uow, t), card_buttons(desk, t), edit=edit)


async def post_card(desk: Desk, uow: UnitOfWork, t: Ticket) -> list[int]:
    if desk.outbound.agents is None:
        return []
    return await desk.outbound.write(
        uow,
        desk.outbound.agents,
        await card(desk, uow, t),
        priority=PRIORITY_CARD,
        purpose="card",
        ticket_id=t.id,
        ref={"ticket_id": t.id},
    )


async def refresh_card(desk: Desk, uow: UnitOfWork, t: Ticket) -> list[int]:
    """Edit the card in place to show the current state and handler."""
    if desk.outbound.agents is None:
        return []
    await uow.outbox.supersede_card_edits(t.id)
    return await desk.outbound.write(
        uow,
        desk.outbound.agents,
        await card(desk, uow, t, edit=True),
        priority=PRIORITY_CARD_EDIT,
        purpose="card_edit",
        ticket_id=t.id,
        ref={"ticket_id": t.id},
    )
