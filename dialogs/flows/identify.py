"""Who and where the owner is (核实业户信息, the 3A/3E case in DOMAIN.md).

A shared contact (or, on WeChat, a typed phone proven by an SMS code: identify_sms.py) is
matched against the registry and read back; otherwise the unit is given step by step
(identify_unit.py), and who is reporting (identify_person.py)."""

from __future__ import annotations

from ..events import Inbound
from ..phone import looks_like_phone, normalize_phone
from ..session import Session
from ..steps import enter, entry, goto, step
from ..units import UnitRef
from . import identify_sms  # noqa: F401  (WeChat's id.contact: its steps registered with these)

# channels with no contact to share (WeChat): a typed phone is proven by an SMS code instead
SMS_CHANNELS = frozenset({"wecom"})


def phone_unproven(s: Session) -> bool:
    """A WeChat owner who has not typed an SMS code back: may report (marked 身份未核实), and
    sees only the tickets reported from this account."""
    return s.channel in SMS_CHANNELS and not s.profile.get("phone_verified")


def unit_dict(ref: UnitRef, verified: bool) -> dict:
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
    s.say(
        "identified", unit_label=s.profile["unit"]["label"], verified=s.profile["unit"]["verified"]
    )
    await enter(s, "emergency.attach_identity")
    await enter(s, "menu.show")


# --- contact ----------------------------------------------------------------------------------
@step("id.contact", accepts={"contact", "choice", "text"})
async def ask_contact(s: Session) -> None:
    if s.channel in SMS_CHANNELS:
        await enter(s, "id.sms")
        return
    r = s.ask("id_ask_contact", [[(s.label("id_manual"), "manual")]])
    r.request_contact = True


@ask_contact.on
async def on_contact(s: Session, ev: Inbound, value: str | None) -> None:
    if s.channel in SMS_CHANNELS:
        await enter(s, "id.sms")
        return
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
    # a number outside mainland China / Hong Kong cannot be in the registry: step by step,
    # and a phone to reach them is asked for later (id.phone)
    phone = normalize_phone(ev.phone)
    s.d["phone"] = phone
    s.say("id_contact_received")
    if phone:
        # a contact of the sender's own proves the phone, as an SMS code does on WeChat
        s.d["phone_verified"] = True
        await s.ports.verification.mark_verified(s.account_id, phone, s.now())
    await match_phone(s, phone)


@entry("id.match_phone")
async def match_phone(s: Session, phone: str | None) -> None:
    """A proven phone against the registry: one owner is read back, several are offered, none
    goes step by step. Shared by the Telegram contact and WeChat's SMS code."""
    matches = await s.ports.registry.owners_by_phone(phone) if phone else []
    s.d["matches"] = [
        {
            "owner_id": m.owner_id,
            "surname": m.surname,
            "title": m.salutation,
            "unit": unit_dict(m.unit, True),
        }
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
    rows = [
        [(f"{m['unit']['label']} · {m['surname']}{m['title']}", str(i))]
        for i, m in enumerate(s.d["matches"])
    ]
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
            "phone_verified": bool(s.d.get("phone_verified")),
            "identity_verified": True,
            "role": "owner",
            "unit": m["unit"],
        }
    )
    await finish(s)
