"""Who is reporting, when the registry could not say: their relation to the unit, surname and
先生/女士 (the salutation; never the full name), and a phone to reach them."""

from __future__ import annotations

import re

from ..events import Inbound
from ..phone import normalize_phone
from ..session import Session
from ..steps import goto, step
from ..units import WORDS
from .identify import SMS_CHANNELS, finish

_TITLE_WORDS = re.compile("(" + "|".join(map(re.escape, WORDS["title_words"])) + ")$")
SURNAME = re.compile(r"^[\u4e00-\u9fff]{1,2}$")


@step("id.role", accepts={"choice"})
async def ask_role(s: Session) -> None:
    s.ask(
        "id_ask_role",
        [
            [(s.label("role_owner"), "owner")],
            [(s.label("role_family"), "family"), (s.label("role_tenant"), "tenant")],
        ],
    )


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
    text = _TITLE_WORDS.sub("", text)
    if not SURNAME.match(text):
        s.say("id_surname_unclear")
        await ask_surname(s)
        return
    s.d["surname"] = text
    await goto(s, "id.title")


@step("id.title", accepts={"choice"})
async def ask_title(s: Session) -> None:
    sn = s.d["surname"]
    s.ask("id_ask_title", [[(f"{sn}{title}", title) for title in WORDS["titles"]]])


@ask_title.on
async def on_title(s: Session, ev: Inbound, value: str | None) -> None:
    s.d["title"] = value
    if s.d.get("phone"):
        await _save_manual(s)
    else:
        await goto(s, "id.phone")


@step("id.phone", accepts={"contact", "text"}, text_limit=30)
async def ask_phone(s: Session) -> None:
    if s.channel in SMS_CHANNELS:
        # no contact button there: a number to reach them, typed (not proven)
        s.ask("id_sms_ask_contact_phone", [])
        return
    r = s.ask("id_ask_phone", [])
    r.request_contact = True


@ask_phone.on
async def on_phone(s: Session, ev: Inbound, value: str | None) -> None:
    phone = normalize_phone(ev.phone if ev.kind == "contact" else ev.text)
    if phone is None:
        s.say("id_phone_unclear")
        await ask_phone(s)
        return
    own_contact = ev.kind == "contact" and ev.contact_is_own
    # a typed number is proven only when it is the one this owner proved before
    proven_before = s.profile.get("phone_verified") and s.profile.get("phone") == phone
    s.d["phone"] = phone
    s.d["phone_verified"] = bool(own_contact or proven_before)
    if own_contact:
        await s.ports.verification.mark_verified(s.account_id, phone, s.now())
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
            "phone_verified": bool(s.d.get("phone_verified")),
            "identity_verified": False,
            "role": s.d.get("role", "owner"),
            "unit": ref,
        }
    )
    await finish(s)
