"""WeChat's identity step: 微信客服 gives no verified phone, so the owner types their mobile
number, gets a 6-digit code by SMS and types it back (valid 5 minutes, 5 tries, one code a
minute per number: dialogs/ports.py). A proven phone is matched against the registry exactly as
a Telegram contact is (identify.py, id.match_phone).

The owner may go on without it (先报事，稍后验证): they identify step by step and can report,
the ticket marked 身份未核实, and see only this account's tickets until they prove the phone,
later, from 我的工单."""

from __future__ import annotations

import re
import unicodedata
from datetime import datetime

import phonenumbers

from ..events import Inbound
from ..phone import normalize_phone
from ..ports import CODE_TRIES, CODE_VALID
from ..session import Session
from ..steps import enter, entry, goto, reprompt, step

_CODE = re.compile(r"^\d{6}$")
_SEPARATORS = re.compile(r"[\s\-.]+")
_MOBILE = (phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE)
MINUTES = int(CODE_VALID.total_seconds() // 60)
# proving the phone later (from 我的工单): the step to return to, the profile kept
LATER = "sms_then"


def _later(s: Session) -> bool:
    return bool(s.d.get(LATER))


def is_mobile(phone: str) -> bool:
    """A canonical phone (dialogs/phone.py) that can receive an SMS: not a landline."""
    hk = phone.startswith("852") and len(phone) == 11
    n = phonenumbers.parse("+" + phone if hk else phone, None if hk else "CN")
    return phonenumbers.number_type(n) in _MOBILE


def _code(text: str) -> str:
    """What was typed, as a code would be: full-width digits and spaces forgiven."""
    return _SEPARATORS.sub("", unicodedata.normalize("NFKC", text or ""))


def _tail(s: Session) -> str:
    return (s.d.get("sms_phone") or "")[-4:]


# --- entries ------------------------------------------------------------------------------------
@entry("id.sms")
async def start_sms(s: Session) -> None:
    """In place of the contact button (identify.py id.contact) on a channel that has none."""
    if not await s.ports.verification.available():
        # no SMS provider configured: nothing can be proven now, and the owner is not kept
        # waiting for a code that cannot come
        s.say("id_sms_unavailable", later=_later(s))
        await _go_on_unverified(s)
        return
    await goto(s, "id.sms_phone")


@entry("id.sms_later")
async def verify_later(s: Session, back: str) -> None:
    """An owner who went on unverified proves the phone now; back to `back` afterwards."""
    s.reset_dialog()
    s.d[LATER] = back
    await start_sms(s)


# --- the phone ----------------------------------------------------------------------------------
@step("id.sms_phone", accepts={"text", "choice"}, text_limit=200)
async def ask_phone(s: Session) -> None:
    rows = []
    if s.profile.get("phone_verified") and s.profile.get("phone"):
        # identifying again (更换房屋): the number proven before serves without a new code
        rows.append([(s.label("id_sms_use_proven", tail=s.profile["phone"][-4:]), "proven")])
    rows.append([(s.label("id_sms_not_now" if _later(s) else "id_sms_skip"), "skip")])
    s.ask("id_sms_ask_phone", rows, later=_later(s))


@ask_phone.on
async def on_phone(s: Session, ev: Inbound, value: str | None) -> None:
    if value == "skip":
        await _skip(s)
    elif value == "proven":
        await _proven(s, s.profile["phone"], fresh=False)
    elif not await _typed_phone(s, ev.text):
        await ask_phone(s)


async def _typed_phone(s: Session, text: str) -> bool:
    """A typed number gets a code; False (and a polite word why) when it cannot."""
    phone = normalize_phone(text)
    if phone is None:
        # digits enough to be meant as a number, or words where the number was asked for
        s.say("id_sms_phone_unclear", digits=sum(ch.isdigit() for ch in _code(text)) >= 5)
        return False
    if not is_mobile(phone):
        s.say("id_sms_not_mobile")
        return False
    await _issue(s, phone)
    return True


async def _issue(s: Session, phone: str) -> None:
    now = s.now()
    live = s.d.get("sms_phone") == phone and s.d.get("sms_until")
    live = bool(live) and now < datetime.fromisoformat(s.d["sms_until"])
    res = await s.ports.verification.issue_code(s.account_id, phone, now)
    s.d["sms_phone"] = phone
    if res.ok:
        s.d["sms_until"] = res.expires_at.isoformat()
        s.d["sms_fresh"] = True
        await goto(s, "id.sms_code")
        return
    # one code a minute per number: when the next may go, and meanwhile the code already sent
    s.say("id_sms_too_soon", tail=phone[-4:], next_at=res.next_at)
    if not live:
        s.d.pop("sms_until", None)
    await goto(s, "id.sms_code" if live else "id.sms_renew")


# --- the code -----------------------------------------------------------------------------------
def _code_rows(s: Session) -> list[list[tuple[str, str]]]:
    return [
        [(s.label("id_sms_resend"), "resend")],
        [(s.label("id_sms_change"), "change")],
        [(s.label("id_sms_not_now" if _later(s) else "id_sms_skip"), "skip")],
    ]


@step("id.sms_code", accepts={"text", "choice"}, text_limit=200)
async def ask_code(s: Session) -> None:
    s.ask(
        "id_sms_ask_code",
        _code_rows(s),
        tail=_tail(s),
        until=datetime.fromisoformat(s.d["sms_until"]),
        minutes=MINUTES,
        fresh=s.d.pop("sms_fresh", False),
    )


@step("id.sms_renew", accepts={"text", "choice"}, text_limit=200)
async def ask_renew(s: Session) -> None:
    """The code expired or was tried CODE_TRIES times: a new one, another number, or later."""
    s.ask("id_sms_ask_renew", _code_rows(s), tail=_tail(s), later=_later(s))


async def on_code(s: Session, ev: Inbound, value: str | None) -> None:
    if value == "resend":
        await _issue(s, s.d["sms_phone"])
    elif value == "change":
        await goto(s, "id.sms_phone")
    elif value == "skip":
        await _skip(s)
    elif _CODE.match(_code(ev.text)):
        await _check(s, _code(ev.text))
    elif normalize_phone(ev.text) is not None:
        # another number typed where the code was awaited: a code for that one
        if not await _typed_phone(s, ev.text):
            await reprompt(s)
    else:
        s.say("id_sms_code_unclear")
        await reprompt(s)


ask_code.on(on_code)
ask_renew.on(on_code)


async def _check(s: Session, code: str) -> None:
    phone = s.d["sms_phone"]
    res = await s.ports.verification.check_code(s.account_id, phone, code, s.now())
    if res.outcome == "ok":
        await _proven(s, phone, fresh=True)
    elif res.outcome == "wrong":
        s.say("id_sms_code_wrong", tries_left=res.tries_left)
        await reprompt(s)
    else:
        s.say(f"id_sms_code_{res.outcome}", tries=CODE_TRIES, minutes=MINUTES)
        s.d.pop("sms_until", None)
        await goto(s, "id.sms_renew")


# --- the outcome --------------------------------------------------------------------------------
async def _proven(s: Session, phone: str, fresh: bool) -> None:
    """The phone is the owner's: recorded at once (account and profile), then matched against
    the registry like a Telegram contact. Proving it later from 我的工单 keeps a profile the
    registry has nothing better for."""
    await s.ports.verification.mark_verified(s.account_id, phone, s.now())
    s.profile["phone"] = phone
    s.profile["phone_verified"] = True
    back = s.d.get(LATER)
    for key in ("sms_phone", "sms_until", "sms_fresh"):
        s.d.pop(key, None)
    s.d["phone"] = phone
    s.d["phone_verified"] = True
    if fresh:
        s.say("id_sms_verified", tail=phone[-4:])
    if back and s.profile.get("unit") and not await s.ports.registry.owners_by_phone(phone):
        s.say("id_sms_verified_kept")
        s.reset_dialog()
        await goto(s, back)
        return
    await enter(s, "id.match_phone", phone=phone)


async def _skip(s: Session) -> None:
    s.say("id_sms_skipped", later=_later(s))
    await _go_on_unverified(s)


async def _go_on_unverified(s: Session) -> None:
    """Back where a later proof was asked from; or identified step by step, the typed number
    kept only as a number to reach the owner."""
    back = s.d.get(LATER)
    if back:
        s.reset_dialog()
        await goto(s, back)
        return
    if s.d.get("sms_phone"):
        s.d["phone"] = s.d["sms_phone"]
    s.d["phone_verified"] = False
    for key in ("sms_phone", "sms_until", "sms_fresh"):
        s.d.pop(key, None)
    await goto(s, "id.community")
