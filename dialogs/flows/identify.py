"""Who and where the owner is (核实业户信息, the 3A/3E case in DOMAIN.md).

A shared contact is matched against the registry and read back; otherwise the unit is given
step by step, picked from the registry's known units wherever possible. What stays unmatched is
kept and marked "unit not verified" for an agent to check.
"""

from __future__ import annotations

import re

from ..events import Inbound
from ..phone import looks_like_phone, normalize_phone
from ..session import Session
from ..steps import goto, step
from ..units import UnitRef, clean_part, nearest, unit_label

MAX_BUTTONS = 24
SURNAME = re.compile(r"^[\u4e00-\u9fff]{1,2}$")


def _unit_dict(ref: UnitRef, verified: bool) -> dict:
    return {
        "unit_id": ref.unit_id,
        "community": ref.community,
        "building": ref.building,
        "unit": ref.unit,
        "room": ref.room,
        "label": ref.label(),
        "verified": verified,
    }


async def finish(s: Session) -> None:
    """Identification done: on to what the owner came for, or the menu."""
    from . import menu

    s.say("identified", unit_label=s.profile["unit"]["label"],
          verified=s.profile["unit"]["verified"])
    await menu.show_menu(s)


# --- contact ----------------------------------------------------------------------------------
@step("id.contact", accepts={"contact", "choice", "text"})
async def ask_contact(s: Session) -> None:
    r = s.ask("id_ask_contact", [[(s.label("id_manual"), "manual")]])
    r.request_contact = True


@ask_contact.on
async def on_contact(s: Session, ev: Inbound, value: str | None) -> None:
    if value == "manual":
        s.d["for_other"] = True
        await goto(s, "id.community")
        return
    if ev.kind == "text":
        # a typed number cannot be shown to be the sender's own: ask for the button instead
        s.say("id_typed_phone" if looks_like_phone(ev.text) else "bad_use_buttons")
        await ask_contact(s)
        return
    if not ev.contact_is_own:
        s.say("id_not_own_contact")
        await ask_contact(s)
        return
    phone = normalize_phone(ev.phone)
    s.d["phone"] = phone
    s.say("id_contact_received")
    matches = await s.ports.registry.owners_by_phone(phone)
    s.d["matches"] = [
        {"owner_id": m.owner_id, "surname": m.surname, "title": m.salutation,
         "unit": _unit_dict(m.unit, True)}
        for m in matches
    ]
    if not matches:
        s.say("id_phone_not_found")
        await goto(s, "id.community")
    elif len(matches) == 1:
        s.d["match"] = s.d["matches"][0]
        await goto(s, "id.confirm")
    else:
        await goto(s, "id.pick")


@step("id.pick", accepts={"choice"})
async def ask_pick(s: Session) -> None:
    rows = [[(f"{m['unit']['label']} · {m['surname']}{m['title']}", str(i))]
            for i, m in enumerate(s.d["matches"])]
    rows.append([(s.label("id_none_of_these"), "none")])
    s.ask("id_pick_unit", rows)


@ask_pick.on
async def on_pick(s: Session, ev: Inbound, value: str | None) -> None:
    if value == "none":
        await goto(s, "id.community")
        return
    s.d["match"] = s.d["matches"][int(value or 0)]
    await goto(s, "id.confirm")


@step("id.confirm", accepts={"choice"})
async def ask_confirm(s: Session) -> None:
    m = s.d["match"]
    s.ask(
        "id_confirm",
        [[(s.label("yes"), "yes"), (s.label("no"), "no")]],
        unit_label=m["unit"]["label"],
        who=f"{m['surname']}{m['title']}",
    )


@ask_confirm.on
async def on_confirm(s: Session, ev: Inbound, value: str | None) -> None:
    if value == "no":
        s.say("id_manual_intro")
        await goto(s, "id.community")
        return
    m = s.d["match"]
    s.profile.update(
        {
            "salutation": f"{m['surname']}{m['title']}",
            "surname": m["surname"],
            "owner_id": m["owner_id"],
            "phone": s.d["phone"],
            "identity_verified": True,
            "role": "owner",
            "unit": m["unit"],
        }
    )
    await finish(s)


# --- the unit, step by step -------------------------------------------------------------------
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
    s.d["suggest"] = {"field": field, "typed": typed, "options": nearest(typed, known),
                      "next": next_key}
    await goto(s, "id.suggest")


@step("id.building", accepts={"choice", "text"}, text_limit=20)
async def ask_building(s: Session) -> None:
    known = await s.ports.registry.buildings(s.d.get("community", ""))
    rows = _grid([(f"{b}栋", b) for b in known]) if len(known) <= MAX_BUTTONS else []
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
    rows = _grid([(f"{u}单元", u) for u in known]) if len(known) <= MAX_BUTTONS else []
    s.ask("id_ask_unit", rows, building=s.d["building"])


@ask_unit.on
async def on_unit(s: Session, ev: Inbound, value: str | None) -> None:
    known = await s.ports.registry.units(s.d.get("community", ""), s.d["building"])
    await _known_or_suggest(s, ev, value, known, "unit", "id.room")


@step("id.room", accepts={"choice", "text"}, text_limit=20)
async def ask_room(s: Session) -> None:
    known = await s.ports.registry.rooms(s.d.get("community", ""), s.d["building"], s.d["unit"])
    rows = _grid([(f"{r}室", r) for r in known], per_row=4) if len(known) <= MAX_BUTTONS else []
    s.ask("id_ask_room", rows, building=s.d["building"], unit=s.d["unit"])


@ask_room.on
async def on_room(s: Session, ev: Inbound, value: str | None) -> None:
    known = await s.ports.registry.rooms(s.d.get("community", ""), s.d["building"], s.d["unit"])
    await _known_or_suggest(s, ev, value, known, "room", "id.unit_done")


@step("id.suggest", accepts={"choice"})
async def ask_suggest(s: Session) -> None:
    sg = s.d["suggest"]
    suffix = {"building": "栋", "unit": "单元", "room": "室"}[sg["field"]]
    rows = [[(f"{o}{suffix}", o)] for o in sg["options"]]
    rows.append([(s.label("id_keep_typed", typed=f"{sg['typed']}{suffix}"), "\x00typed")])
    s.ask("id_suggest", rows, typed=f"{sg['typed']}{suffix}", has_options=bool(sg["options"]))


@ask_suggest.on
async def on_suggest(s: Session, ev: Inbound, value: str | None) -> None:
    sg = s.d.pop("suggest")
    if value == "\x00typed":
        s.d[sg["field"]] = sg["typed"]
        s.d["unverified"] = True
    else:
        s.d[sg["field"]] = value
    await goto(s, sg["next"])


@step("id.unit_done", accepts=set())
async def unit_done(s: Session) -> None:
    found = None
    if not s.d.get("unverified"):
        found = await s.ports.registry.find_unit(
            s.d.get("community", ""), s.d["building"], s.d["unit"], s.d["room"]
        )
    if found:
        ref, owner_id = found
        s.d["unit_ref"] = _unit_dict(ref, True)
        s.d["unit_owner_id"] = owner_id
    else:
        label = unit_label(s.d.get("community", ""), s.d["building"], s.d["unit"], s.d["room"])
        s.d["unit_ref"] = {"unit_id": None, "community": s.d.get("community", ""),
                           "building": s.d["building"], "unit": s.d["unit"],
                           "room": s.d["room"], "label": label, "verified": False}
        s.d["unit_owner_id"] = None
    await goto(s, "id.unit_confirm")


@unit_done.on
async def _unit_done_never(s: Session, ev: Inbound, value: str | None) -> None:  # pragma: no cover
    await unit_done(s)


@step("id.unit_confirm", accepts={"choice"})
async def ask_unit_confirm(s: Session) -> None:
    ref = s.d["unit_ref"]
    s.ask("id_unit_confirm", [[(s.label("yes"), "yes"), (s.label("id_redo_unit"), "redo")]],
          unit_label=ref["label"], verified=ref["verified"])


@ask_unit_confirm.on
async def on_unit_confirm(s: Session, ev: Inbound, value: str | None) -> None:
    if value == "redo":
        for k in ("building", "unit", "room", "unverified", "unit_ref"):
            s.d.pop(k, None)
        await goto(s, "id.building")
        return
    await goto(s, "id.role")


@step("id.role", accepts={"choice"})
async def ask_role(s: Session) -> None:
    s.ask("id_ask_role", [[(s.label("role_owner"), "owner")],
                          [(s.label("role_family"), "family"), (s.label("role_tenant"), "tenant")]])


@ask_role.on
async def on_role(s: Session, ev: Inbound, value: str | None) -> None:
    s.d["role"] = value
    await goto(s, "id.surname")


@step("id.surname", accepts={"text"}, text_limit=10)
async def ask_surname(s: Session) -> None:
    s.ask("id_ask_surname", [])


@ask_surname.on
async def on_surname(s: Session, ev: Inbound, value: str | None) -> None:
    text = ev.text.strip()
    text = re.sub(r"(先生|女士|小姐|太太)$", "", text)
    if not SURNAME.match(text):
        s.say("id_surname_unclear")
        await ask_surname(s)
        return
    s.d["surname"] = text
    await goto(s, "id.title")


@step("id.title", accepts={"choice"})
async def ask_title(s: Session) -> None:
    sn = s.d["surname"]
    s.ask("id_ask_title", [[(f"{sn}女士", "女士"), (f"{sn}先生", "先生")]])


@ask_title.on
async def on_title(s: Session, ev: Inbound, value: str | None) -> None:
    s.d["title"] = value
    if s.d.get("phone"):
        await _save_manual(s)
    else:
        await goto(s, "id.phone")


@step("id.phone", accepts={"contact", "text"}, text_limit=30)
async def ask_phone(s: Session) -> None:
    r = s.ask("id_ask_phone", [])
    r.request_contact = True


@ask_phone.on
async def on_phone(s: Session, ev: Inbound, value: str | None) -> None:
    phone = normalize_phone(ev.phone if ev.kind == "contact" else ev.text)
    if not (7 <= len(phone) <= 12):
        s.say("id_phone_unclear")
        await ask_phone(s)
        return
    s.d["phone"] = phone
    s.say("id_contact_received")
    await _save_manual(s)


async def _save_manual(s: Session) -> None:
    ref = s.d["unit_ref"]
    s.profile.update(
        {
            "salutation": f"{s.d['surname']}{s.d['title']}",
            "surname": s.d["surname"],
            # the owner of record is the unit's registered owner, whoever is reporting
            "owner_id": s.d.get("unit_owner_id") if s.d.get("role") == "owner" else None,
            "unit_owner_id": s.d.get("unit_owner_id"),
            "phone": s.d["phone"],
            "identity_verified": False,
            "role": s.d.get("role", "owner"),
            "unit": ref,
        }
    )
    await finish(s)


def _grid(items: list[tuple[str, str]], per_row: int = 3) -> list[list[tuple[str, str]]]:
    return [items[i : i + per_row] for i in range(0, len(items), per_row)]
