"""The unit, step by step, picked from the registry's known units wherever possible; a typed
unit the registry lacks is offered the nearest known units (the 3A/3E lesson); what stays
unmatched is kept and marked "unit not verified" so an agent checks it."""

from __future__ import annotations

from ..events import Inbound
from ..session import Session
from ..steps import goto, step
from ..units import (
    building_label,
    clean_part,
    nearest,
    room_label,
    unit_label,
    unit_part_label,
)
from .identify import unit_dict

MAX_BUTTONS = 24


@step("id.community", accepts={"choice", "text"}, text_limit=40)
async def ask_community(s: Session) -> None:
    communities = await s.ports.registry.communities()
    if len(communities) <= 1:
        s.d["community"] = communities[0] if communities else ""
        await goto(s, "id.building")
        return
    s.ask("id_ask_community", [[(c, c)] for c in communities[:MAX_BUTTONS]])


@ask_community.on
async def on_community(s: Session, ev: Inbound, value: str | None) -> None:
    communities = await s.ports.registry.communities()
    if value is None:
        close = nearest(ev.text, communities, limit=1) if ev.text else []
        value = close[0] if close else ev.text.strip()
    s.d["community"] = value
    await goto(s, "id.building")


async def _known_or_suggest(
    s: Session, ev: Inbound, value: str | None, known: list[str], field: str, next_key: str
) -> None:
    """Take a picked designator, or check a typed one against the known ones (3A/3E)."""
    if value is not None:
        s.d[field] = value
        await goto(s, next_key)
        return
    typed = clean_part(ev.text)
    exact = [k for k in known if clean_part(k) == typed]
    if exact or not known:
        s.d[field] = exact[0] if exact else typed
        if not exact:
            s.d["unverified"] = True
        await goto(s, next_key)
        return
    s.d["suggest"] = {
        "field": field,
        "typed": typed,
        "options": nearest(typed, known),
        "next": next_key,
    }
    await goto(s, "id.suggest")


@step("id.building", accepts={"choice", "text"}, text_limit=20)
async def ask_building(s: Session) -> None:
    known = await s.ports.registry.buildings(s.d.get("community", ""))
    rows = _grid([(building_label(b), b) for b in known]) if len(known) <= MAX_BUTTONS else []
    s.ask("id_ask_building", rows)


@ask_building.on
async def on_building(s: Session, ev: Inbound, value: str | None) -> None:
    known = await s.ports.registry.buildings(s.d.get("community", ""))
    await _known_or_suggest(s, ev, value, known, "building", "id.unit")


@step("id.unit", accepts={"choice", "text"}, text_limit=20)
async def ask_unit(s: Session) -> None:
    known = await s.ports.registry.units(s.d.get("community", ""), s.d["building"])
    if known == [""]:
        s.d["unit"] = ""
        await goto(s, "id.room")
        return
    rows = _grid([(unit_part_label(u), u) for u in known]) if len(known) <= MAX_BUTTONS else []
    s.ask("id_ask_unit", rows, building=s.d["building"])


@ask_unit.on
async def on_unit(s: Session, ev: Inbound, value: str | None) -> None:
    known = await s.ports.registry.units(s.d.get("community", ""), s.d["building"])
    await _known_or_suggest(s, ev, value, known, "unit", "id.room")


@step("id.room", accepts={"choice", "text"}, text_limit=20)
async def ask_room(s: Session) -> None:
    known = await s.ports.registry.rooms(s.d.get("community", ""), s.d["building"], s.d["unit"])
    rows = (
        _grid([(room_label(r), r) for r in known], per_row=4) if len(known) <= MAX_BUTTONS else []
    )
    s.ask("id_ask_room", rows, building=s.d["building"], unit=s.d["unit"])


@ask_room.on
async def on_room(s: Session, ev: Inbound, value: str | None) -> None:
    known = await s.ports.registry.rooms(s.d.get("community", ""), s.d["building"], s.d["unit"])
    await _known_or_suggest(s, ev, value, known, "room", "id.unit_confirm")


@step("id.suggest", accepts={"choice"})
async def ask_suggest(s: Session) -> None:
    sg = s.d["suggest"]
    fmt = {"building": building_label, "unit": unit_part_label, "room": room_label}[sg["field"]]
    rows = [[(fmt(o), o)] for o in sg["options"]]
    rows.append([(s.label("id_keep_typed", typed=fmt(sg["typed"])), "\x00typed")])
    s.ask("id_suggest", rows, typed=fmt(sg["typed"]), has_options=bool(sg["options"]))


@ask_suggest.on
async def on_suggest(s: Session, ev: Inbound, value: str | None) -> None:
    sg = s.d.pop("suggest")
    if value == "\x00typed":
        s.d[sg["field"]] = sg["typed"]
        s.d["unverified"] = True
    else:
        s.d[sg["field"]] = value
    await goto(s, sg["next"])


async def _resolve_unit(s: Session) -> None:
    """The unit as given, looked up once in the registry: verified and its owner, or kept as
    typed and marked not verified."""
    found = None
    if not s.d.get("unverified"):
        found = await s.ports.registry.find_unit(
            s.d.get("community", ""), s.d["building"], s.d["unit"], s.d["room"]
        )
    if found:
        ref, owner_id = found
        s.d["unit_ref"] = unit_dict(ref, True)
        s.d["unit_owner_id"] = owner_id
    else:
        label = unit_label(s.d.get("community", ""), s.d["building"], s.d["unit"], s.d["room"])
        s.d["unit_ref"] = {
            "unit_id": None,
            "community": s.d.get("community", ""),
            "building": s.d["building"],
            "unit": s.d["unit"],
            "room": s.d["room"],
            "label": label,
            "verified": False,
        }
        s.d["unit_owner_id"] = None


@step("id.unit_confirm", accepts={"choice"})
async def ask_unit_confirm(s: Session) -> None:
    if "unit_ref" not in s.d:
        await _resolve_unit(s)
    ref = s.d["unit_ref"]
    s.ask(
        "id_unit_confirm",
        [[(s.label("yes"), "yes"), (s.label("id_redo_unit"), "redo")]],
        unit_label=ref["label"],
        verified=ref["verified"],
    )


@ask_unit_confirm.on
async def on_unit_confirm(s: Session, ev: Inbound, value: str | None) -> None:
    if value == "redo":
        for k in ("building", "unit", "room", "unverified", "unit_ref"):
            s.d.pop(k, None)
        await goto(s, "id.building")
        return
    await goto(s, "id.role")


def _grid(items: list[tuple[str, str]], per_row: int = 3) -> list[list[tuple[str, str]]]:
    return [items[i : i + per_row] for i in range(0, len(items), per_row)]
