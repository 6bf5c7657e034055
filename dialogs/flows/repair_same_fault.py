"""One fault, one ticket (issue 12): a public-area repair that an open ticket already covers
(same community, building and spot, same category, filed within the policy's `same_fault_hours`)
is not filed again. As soon as the place and the category are known, and before the owner is
asked for words and photos that would be thrown away, the owner is told the ticket's number and
follows it (progress, completion and survey, like its reporter); the agents' card counts one
more reporter. "不是同一个问题" undoes that and the repair goes on as its own ticket."""

from __future__ import annotations

from datetime import datetime, timedelta

from ..events import Inbound, TicketChanged
from ..session import Session
from ..steps import enter, step
from .repair_common import advance


async def _look(s: Session) -> dict:
    """The open ticket this report matches, and whether the owner now follows it; {} for none.
    Done once per place and category: asking again shows what was found, never joins twice."""
    d = s.d
    hours = s.policy.same_fault_hours
    if not hours:
        return {}
    match = await s.ports.tickets.open_public_match(
        d.get("pub_building", ""),
        d.get("pub_spot", ""),
        d.get("category"),
        s.now() - timedelta(hours=hours),
        community=(s.profile.get("unit") or {}).get("community", ""),
    )
    if match is None:
        return {}
    joined = await s.ports.tickets.subscribe(
        match.id, s.account_id, s.profile.get("owner_id"), s.now()
    )
    if joined:
        _card_changed(s, match.id)  # the card counts one more reporter
    arrive = match.promised_arrive_by
    return {
        "id": match.id,
        "number": match.number,
        "location": match.location,
        # a promise already past is not repeated to the next owner
        "arrive_by": arrive.isoformat() if arrive and arrive > s.now() else "",
        "joined": joined,
    }


@step("repair.same_fault", accepts={"choice"})
async def ask_same_fault(s: Session) -> None:
    if "same_fault" not in s.d:
        s.d["same_fault"] = await _look(s)
    found = s.d["same_fault"]
    if not found.get("id") or found.get("declined"):
        await advance(s)
        return
    s.ask(
        "repair_same_fault",
        [[(s.label("same_fault_ok"), "ok")], [(s.label("same_fault_other"), "other")]],
        number=found["number"],
        location=found["location"],
        category_label=s.policy.category_label("repair", s.d.get("category")),
        arrive_by=_when(found["arrive_by"]),
        already=not found["joined"],
    )


@ask_same_fault.on
async def on_same_fault(s: Session, ev: Inbound, value: str | None) -> None:
    found = s.d["same_fault"]
    if value == "ok":
        s.say("repair_same_fault_joined", number=found["number"])
        s.reset_dialog()
        await enter(s, "menu.show")
        return
    if found.get("joined") and await s.ports.tickets.unsubscribe(
        found["id"], s.account_id, s.now()
    ):
        _card_changed(s, found["id"])
    found["declined"] = True
    found["joined"] = False
    s.say("repair_same_fault_other")
    await advance(s)


def _card_changed(s: Session, ticket_id: int) -> None:
    s.durable = True
    s.effect(TicketChanged(ticket_id))


def _when(iso: str) -> datetime | None:
    return datetime.fromisoformat(iso) if iso else None
