"""Safety first, wherever the owner is (DOMAIN.md: gas, someone trapped, fire or smoke, a serious
leak, sparks from wiring): the safety advice at once, an urgent ticket at once, then at most the
one short question that helps the rescue. The same danger takes the same path, category and
promised times whether it was typed at the menu, in a complaint, in 补充, to a person, in a
survey comment, or reported through the repair dialog."""

from __future__ import annotations

import re

from ..events import Inbound
from ..session import Session
from ..steps import enter, entry, goto, step
from ..units import WORDS, building_label, clean_part
from . import filing
from .repair_common import draft as repair_draft

# kinds whose danger is usually at home, where the owner's flat is the first place to look
_HOME_KINDS = ("gas", "electric", "flood", "fire")


def detect(s: Session, text: str) -> str | None:
    """The emergency a text describes, by the word lists of cues.toml [emergency]."""
    if not text:
        return None
    for kind, rule in s.cues.get("emergency", {}).items():
        if any(w in text for w in rule.get("any", [])):
            return kind
        groups = rule.get("all") or []
        if groups and all(any(w in text for w in g) for g in groups):
            return kind
    return None


async def intercept(s: Session, ev: Inbound) -> bool:
    """Called before any step sees a text (or a photo's caption). True when it was handled."""
    if ev.kind not in ("text", "photo") or s.state.flow == "emergency":
        return False
    if s.state.flow == "repair" and s.d.get("emergency"):
        return False
    kind = detect(s, ev.text)
    if kind is None:
        return False
    if s.state.flow == "human":
        # a person is reading: the words still reach them, and the owner is kept safe meanwhile
        await _advice_and_ticket(s, kind, ev, {})
        return False
    await raise_emergency(s, kind, ev)
    return True


@entry("emergency.raise")
async def raise_emergency(s: Session, kind: str, ev: Inbound | None = None) -> None:
    """Start (or turn the repair dialog into) the emergency path."""
    if s.state.flow == "repair":
        d = s.d  # what the repair dialog already knows is kept
    else:
        s.state.pause()
        d = {}
    s.state.data = d
    s.set_step("emergency", "start")
    await _advice_and_ticket(s, kind, ev, d)
    if not s.profile.get("unit"):
        # not identified yet: the ticket stands; who and where follows from the contact
        s.profile["emergency_ticket"] = d["ticket_id"]
        s.reset_dialog()
        await goto(s, "id.contact")
        return
    await _next_question(s)


async def _advice_and_ticket(s: Session, kind: str, ev: Inbound | None, d: dict) -> None:
    text = (ev.text if ev else "").strip()
    d["emergency"] = kind
    d["urgent"] = True
    d["urgent_chosen"] = True
    d["slot"] = "asap"
    d["photos_done"] = True
    d["category"] = s.policy.emergencies.get(kind, {}).get("category", "other")
    if text and text not in d.get("description", ""):
        d["description"] = (d.get("description", "") + " " + text).strip()
    d.setdefault("description", "")
    if ev is not None and ev.kind == "photo" and ev.file_id:
        d.setdefault("attachments", []).append({"kind": "photo", "file_id": ev.file_id})
    _place_from_words(s, kind, text, d)
    s.say(
        f"emergency_{kind}_advice",
        gas_phone=s.policy.gas_emergency_phone,
        fire_phone=s.policy.fire_phone,
    )
    if d.get("ticket_id"):
        return
    saved, s.state.data = s.state.data, d
    ticket_draft = repair_draft(s)
    ticket = await filing.file_ticket(s, ticket_draft)
    s.state.data = saved
    d["ticket_id"] = ticket.id
    d["ticket_number"] = ticket.number
    s.say(
        "emergency_ticket_created",
        ticket=ticket,
        kind=kind,
        department=ticket_draft.department,
        phone=s.profile.get("phone", ""),
        identified=bool(s.profile.get("unit")),
    )


def _place_from_words(s: Session, kind: str, text: str, d: dict) -> None:
    if "place" in d:
        return
    if kind == "trapped":
        d["place"] = "public"
        d["pub_spot"] = WORDS["elevator_spot"]
        d["pub_floor"] = ""
        building = _named(text, WORDS["building_suffixes"])
        if building:
            d["pub_building"] = clean_part(building)
        lift = _named(text, WORDS["lift_suffixes"])
        if lift:
            d["lift"] = lift
        floor = _named(text, WORDS["floor_suffixes"])
        if floor:
            d["pub_floor"] = floor + WORDS["floor_suffixes"][0]
        return
    spot = next((p for p in s.policy.public_spots if p in text), "")
    if spot:
        # "楼道里冒烟了": a public place, in the owner's own building unless another is named
        building = _named(text, WORDS["building_suffixes"])
        d.update(place="public", pub_spot=spot, pub_floor="")
        d["pub_building"] = clean_part(building) if building else _own_building(s)
        return
    if kind in _HOME_KINDS:
        area = next((a for a in s.policy.home_locations if a in text), "")
        d["place"] = "home"
        d["area"] = area


def _own_building(s: Session) -> str:
    return (s.profile.get("unit") or {}).get("building", "")


def _named(text: str, suffixes: list[str]) -> str:
    """The number said before one of these words ("5号楼" → 5), or ""."""
    alternatives = "|".join(map(re.escape, suffixes))
    m = re.search(rf"([0-9A-Za-z]{{1,4}})\s*(?:{alternatives})", text)
    return m.group(1) if m else ""


async def _next_question(s: Session) -> None:
    d = s.d
    if d["emergency"] == "trapped":
        await goto(s, "emergency.people" if d.get("pub_building") else "emergency.lift")
    else:
        await goto(s, "emergency.confirm")


# --- the one short question -------------------------------------------------------------------


@step("emergency.confirm", accepts={"choice"})
async def ask_confirm(s: Session) -> None:
    d = s.d
    s.ask(
        "emergency_ask_place",
        [[(s.label("emergency_place_yes"), "yes"), (s.label("emergency_place_no"), "no")]],
        unit_label=s.profile["unit"]["label"],
        area=d.get("area", ""),
        kind=d["emergency"],
    )


@ask_confirm.on
async def on_confirm(s: Session, ev: Inbound, value: str | None) -> None:
    if value == "no":
        await goto(s, "emergency.where")
        return
    await finish(s)


@step("emergency.where", accepts={"text"}, text_limit=60)
async def ask_where(s: Session) -> None:
    s.ask("emergency_ask_where", [])


@ask_where.on
async def on_where(s: Session, ev: Inbound, value: str | None) -> None:
    s.d["place"] = "public"
    s.d["pub_building"], s.d["pub_floor"] = "", ""
    s.d["pub_spot"] = ev.text.strip()
    await finish(s)


@step("emergency.lift", accepts={"choice", "text"}, text_limit=30)
async def ask_lift(s: Session) -> None:
    own = s.profile["unit"]["building"]
    known = await s.ports.registry.buildings(s.profile["unit"].get("community", ""))
    ordered = [own] + [b for b in known if b != own]
    items = [(building_label(b), b) for b in ordered[:8]]
    s.ask("emergency_ask_lift", [items[i : i + 4] for i in range(0, len(items), 4)])


@ask_lift.on
async def on_lift(s: Session, ev: Inbound, value: str | None) -> None:
    if value is not None:
        s.d["pub_building"] = value
    else:
        text = ev.text.strip()
        building = _named(text, WORDS["building_suffixes"]) or clean_part(text)
        s.d["pub_building"] = clean_part(building)
        lift = _named(text, WORDS["lift_suffixes"])
        if lift:
            s.d["lift"] = lift
    await goto(s, "emergency.people")


@step("emergency.people", accepts={"choice", "text"}, text_limit=20)
async def ask_people(s: Session) -> None:
    items = [(s.label(k), v) for k, v in WORDS["people_choices"].items()]
    s.ask("emergency_ask_people", [items])


@ask_people.on
async def on_people(s: Session, ev: Inbound, value: str | None) -> None:
    s.d["people"] = value if value is not None else ev.text.strip()[:10]
    await finish(s)


# --- the end: the ticket completed with what was said ---------------------------------------------


def _location(s: Session) -> str:
    d = s.d
    if d.get("place") == "public":
        building = building_label(d["pub_building"]) if d.get("pub_building") else ""
        lift = d.get("lift", "")
        lift_text = s.label("emergency_lift_number", n=lift) if lift else ""
        return f"{building}{lift_text}{d.get('pub_floor', '')}{d.get('pub_spot', '')}"
    return d.get("area", "")


async def _complete_ticket(s: Session) -> object | None:
    """Everything the owner said so far goes on the urgent ticket, and the card is updated."""
    d = s.d
    ticket_draft = repair_draft(s)
    ticket_draft.location = _location(s)
    if d.get("people"):
        ticket_draft.details["people"] = d["people"]
    ticket = await s.ports.tickets.complete_emergency(d["ticket_id"], ticket_draft, s.now())
    s.durable = True
    if ticket is not None:
        filing.ticket_changed(s, ticket)
    return ticket


async def finish(s: Session) -> None:
    ticket = await _complete_ticket(s)
    if ticket is not None:
        s.say("emergency_completed", ticket=ticket, people=s.d.get("people", ""))
    s.reset_dialog()
    await enter(s, "menu.show")


@entry("emergency.keep_ticket")
async def keep_ticket(s: Session) -> None:
    """/menu or /cancel after the urgent ticket was made: nothing the owner said is thrown away,
    and the owner is told truthfully that the urgent ticket stands."""
    ticket = await _complete_ticket(s)
    if ticket is not None:
        s.say("emergency_ticket_stands", ticket=ticket)
    s.reset_dialog()


@entry("emergency.attach_identity")
async def attach_identity(s: Session) -> None:
    """An owner who reported an emergency before identifying: the urgent ticket gets the unit
    and phone once they are known."""
    ticket_id = s.profile.pop("emergency_ticket", None)
    if not ticket_id:
        return
    ticket_draft = filing.build_draft(
        s,
        kind="repair",
        category=None,
        urgent=True,
        description="",
        location="",
        emergency=True,
    )
    ticket = await s.ports.tickets.attach_identity(ticket_id, ticket_draft, s.now())
    s.durable = True
    if ticket is not None:
        filing.ticket_changed(s, ticket)
        s.say("emergency_identity_added", ticket=ticket)
