"""复述确认 (DOMAIN.md): the whole repair record read back, unit in bold, with 确认 / 修改 / 取消;
修改 changes one field and comes back here; only 确认 creates (or completes) the ticket."""

from __future__ import annotations

from ..events import Inbound
from ..session import Session
from ..steps import enter, goto, step
from . import filing
from .repair_common import EDITABLE, END_PUNCTUATION, advance, draft, location_text, slot_label


@step("repair.readback", accepts={"choice"})
async def ask_readback(s: Session) -> None:
    d = s.d
    slot = slot_label(s, d.get("slot"))
    rows = [[(s.label("confirm"), "confirm"), (s.label("modify"), "modify")]]
    if not d.get("ticket_id"):
        rows[0].append((s.label("cancel"), "cancel"))
    location = location_text(s)
    # the owner's own words read back as speech, without the trailing full stop or a place
    # they already named ("卫生间马桶下方一直渗水" is not "卫生间卫生间…")
    description = d.get("description", "").strip().rstrip(END_PUNCTUATION)
    s.ask(
        "repair_readback",
        rows,
        unit_label=s.profile["unit"]["label"],
        place=d.get("place"),
        location=location,
        location_in_description=bool(location) and location in description[:20],
        category_label=s.policy.category_label("repair", d.get("category")),
        description=description,
        photos=sum(1 for a in d.get("attachments", []) if a["kind"] == "photo"),
        urgent=bool(d.get("urgent")),
        slot=slot or "",
        window=d.get("slot_window"),
        asap=d.get("slot") == "asap",
        ticket_number=d.get("ticket_number", ""),
    )


@ask_readback.on
async def on_readback(s: Session, ev: Inbound, value: str | None) -> None:
    if value == "modify":
        await goto(s, "repair.edit")
        return
    if value == "cancel":
        s.say("repair_cancelled")
        s.reset_dialog()
        await enter(s, "menu.show")
        return
    ticket_draft = draft(s)
    if s.d.get("ticket_id"):
        ticket = await s.ports.tickets.complete_emergency(s.d["ticket_id"], ticket_draft, s.now())
        s.durable = True
        if ticket is not None:
            filing.ticket_changed(s, ticket)
            s.say("emergency_completed", ticket=ticket)
    else:
        ticket = await filing.file_ticket(s, ticket_draft)
        advice = s.policy.repair_categories.get(ticket_draft.category or "", {}).get("advice", "")
        s.say(
            "repair_created",
            ticket=ticket,
            department=ticket_draft.department,
            unit_label=ticket_draft.unit_label,
            place=s.d.get("place"),
            location=location_text(s),
            category_label=s.policy.category_label("repair", ticket_draft.category),
            urgent=ticket_draft.urgent,
            slot=ticket_draft.details.get("slot_label", ""),
            window=ticket_draft.details.get("slot_window"),
            earlier_than_slot=ticket_draft.details.get("earlier_than_slot", False),
            advice=advice,
            unit_verified=ticket_draft.unit_verified,
        )
    s.reset_dialog()
    await enter(s, "menu.show")


@step("repair.edit", accepts={"choice"})
async def ask_edit(s: Session) -> None:
    rows = [
        [(s.label("edit_where"), "where"), (s.label("edit_category"), "category")],
        [(s.label("edit_description"), "description"), (s.label("edit_urgency"), "urgency")],
    ]
    if s.d.get("place") == "home":
        rows[1].append((s.label("edit_slot"), "slot"))
    rows.append([(s.label("back_to_readback"), "back")])
    s.ask("repair_ask_edit", rows)


@ask_edit.on
async def on_edit(s: Session, ev: Inbound, value: str | None) -> None:
    if value == "back":
        await goto(s, "repair.readback")
        return
    if value == "description":
        # keep the photos already sent; only the words are asked again
        s.d.pop("description", None)
        s.d["photos_done"] = True
        await goto(s, "repair.description")
        return
    if s.d.get("emergency") and value in ("urgency", "category"):
        s.say("emergency_stays_urgent")
        await goto(s, "repair.readback")
        return
    for k in EDITABLE.get(value or "", ()):
        s.d.pop(k, None)
    await advance(s)
