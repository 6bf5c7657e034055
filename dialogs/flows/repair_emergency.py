"""Emergencies are the one exception to "readback first" (DOMAIN.md): gas, or a person trapped
in an elevator, gets the safety advice at once and an urgent ticket with what is known; the
readback afterwards completes it."""

from __future__ import annotations

from ..events import Inbound
from ..session import Session
from ..steps import goto, step
from ..units import WORDS
from . import filing
from .repair_common import advance, draft


def emergency_cue(s: Session, *texts: str) -> str | None:
    if s.has_cue("gas", *texts):
        return "gas"
    if s.has_cue("trapped", *texts):
        return "trapped"
    return None


async def emergency(s: Session, kind: str) -> None:
    """Safety first, then an urgent ticket with what is known; the readback completes it later."""
    d = s.d
    d["urgent"] = True
    d["emergency"] = kind
    d["slot"] = "asap"
    if kind == "gas":
        d.setdefault("category", "gas")
        d.setdefault("place", "home")
        d.setdefault("area", "")
    else:
        d.setdefault("category", "elevator")
        if "place" not in d:
            d.update(
                place="public",
                pub_building=s.profile["unit"]["building"],
                pub_floor="",
                pub_spot=WORDS["elevator_spot"],
            )
        d.setdefault("pub_building", s.profile["unit"]["building"])
        d.setdefault("pub_floor", "")
        d.setdefault("pub_spot", WORDS["elevator_spot"])
    s.say(f"emergency_{kind}_advice")
    if d.get("ticket_id"):
        return
    ticket_draft = draft(s)
    ticket = await filing.file_ticket(s, ticket_draft)
    d["ticket_id"] = ticket.id
    d["ticket_number"] = ticket.number
    s.say(
        "emergency_ticket_created",
        ticket=ticket,
        department=ticket_draft.department,
        unit_label=ticket_draft.unit_label,
    )


async def intercept(s: Session, ev: Inbound) -> bool:
    """Typed words of gas or someone trapped, at any repair step, go straight to the emergency."""
    if ev.kind != "text" or s.d.get("emergency"):
        return False
    kind = emergency_cue(s, ev.text)
    if kind is None:
        return False
    if s.state["step"] in ("description",):
        return False  # the description step records the words first, then raises the alarm
    s.d.setdefault("description", ev.text)
    await emergency(s, kind)
    await advance(s)
    return True


# --- where --------------------------------------------------------------------------------------


@step("repair.emergency_kind", accepts={"choice"})
async def ask_emergency_kind(s: Session) -> None:
    s.ask(
        "repair_ask_emergency_kind",
        [
            [(s.label("emergency_gas"), "gas")],
            [(s.label("emergency_trapped"), "trapped")],
            [(s.label("emergency_neither"), "neither")],
        ],
    )


@ask_emergency_kind.on
async def on_emergency_kind(s: Session, ev: Inbound, value: str | None) -> None:
    if value == "neither":
        await goto(s, "repair.where")
        return
    await emergency(s, value or "gas")
    await advance(s)
