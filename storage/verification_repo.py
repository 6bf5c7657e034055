"""SMS codes that prove a typed phone (WeChat gives no number): issued, checked, and the proven
phone recorded on the account. Never commits; the unit of work does.

A code is kept only as a salted HMAC-SHA256 (a fresh salt per row) and compared in constant
time; the code itself lives only in its SMS's outbox row, written in the same transaction and
blanked once sent (bot/sms/outbox_sender.py). Nothing here is logged."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime

import phonenumbers
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from dialogs.ports import CODE_INTERVAL, CODE_TRIES, CODE_VALID, Checked, Issued

from .models import Account, OutboxMessage, SmsCode
from .outbox import OutboxRepo

SMS = "sms"
SEND_CODE = "send_code"
# set on the sessionmaker when an SMS provider is configured (offer_sms_codes): the one bit of
# configuration the identity step needs from the wiring, carried by every session it makes
SMS_CODES_INFO = "sms_codes"
_HASH_SCHEME = "s1"
# one number, one issue at a time across instances (PostgreSQL): the "one a minute" check and
# the insert cannot interleave. SQLite takes the file's write lock at BEGIN already.
_LOCK_PHONE = sa.text("SELECT pg_advisory_xact_lock(hashtext('sms:' || :phone))")


def offer_sms_codes(sessionmaker: async_sessionmaker) -> None:
    """Tell the identity step that codes can be sent (the factory, when SMS is configured)."""
    info = dict(sessionmaker.kw.get("info") or {})
    info[SMS_CODES_INFO] = True
    sessionmaker.configure(info=info)


def e164(phone: str) -> str:
    """+8613800000301 from the canonical 13800000301 (or 85291234567): what the provider takes."""
    n = phonenumbers.parse("+" + phone if phone.startswith("852") else phone, "CN")
    return phonenumbers.format_number(n, phonenumbers.PhoneNumberFormat.E164)


def new_code() -> str:
    return f"{secrets.randbelow(10**6):06d}"


def hash_code(account_id: int, phone: str, code: str, salt: bytes | None = None) -> str:
    """s1$<salt>$<HMAC-SHA256(salt, account:phone:code)>: the code is bound to who asked for it
    and for which number, so a row copied elsewhere proves nothing."""
    salt = salt if salt is not None else secrets.token_bytes(16)
    digest = hmac.new(salt, f"{account_id}:{phone}:{code}".encode(), hashlib.sha256).hexdigest()
    return f"{_HASH_SCHEME}${salt.hex()}${digest}"


def code_matches(stored: str, account_id: int, phone: str, code: str) -> bool:
    try:
        scheme, salt_hex, _ = stored.split("$", 2)
        salt = bytes.fromhex(salt_hex)
    except ValueError:
        return False
    if scheme != _HASH_SCHEME:
        return False
    return hmac.compare_digest(stored, hash_code(account_id, phone, code, salt))


async def forget_code(session: AsyncSession, row_id: int) -> None:
    """The SMS went out (or never will): its code is not kept in the outbox any longer."""
    await session.execute(
        sa.update(OutboxMessage)
        .where(OutboxMessage.id == row_id, OutboxMessage.channel == SMS)
        .values(payload={"code": ""})
    )


class VerificationRepo:
    def __init__(self, session: AsyncSession, outbox: OutboxRepo):
        self.s = session
        # the unit of work's own outbox: its rows are the ones the handler wakes senders for
        self.outbox = outbox

    async def available(self) -> bool:
        return bool(self.s.info.get(SMS_CODES_INFO))

    async def issue_code(self, account_id: int, phone: str, now: datetime) -> Issued:
        conn = await self.s.connection()
        if conn.dialect.name == "postgresql":
            await conn.execute(_LOCK_PHONE, {"phone": phone})
        last = await self.s.scalar(
            sa.select(SmsCode.created_at)
            .where(SmsCode.phone == phone)
            .order_by(SmsCode.created_at.desc())
            .limit(1)
        )
        if last is not None and now < last + CODE_INTERVAL:
            return Issued(False, next_at=last + CODE_INTERVAL)
        code = new_code()
        row = SmsCode(
            account_id=account_id,
            phone=phone,
            code_hash=hash_code(account_id, phone, code),
            created_at=now,
            expires_at=now + CODE_VALID,
            tries=0,
        )
        self.s.add(row)
        await self.s.flush()
        await self.outbox.add(
            e164(phone),
            {"code": code},
            now,
            channel=SMS,
            method=SEND_CODE,
            purpose="sms_code",
            # a code that could not go out in time is not sent late (the sender checks)
            ref={"until": row.expires_at.isoformat()},
        )
        return Issued(True, expires_at=row.expires_at)

    async def check_code(self, account_id: int, phone: str, code: str, now: datetime) -> Checked:
        row = await self.s.scalar(
            sa.select(SmsCode)
            .where(SmsCode.account_id == account_id, SmsCode.phone == phone)
            .order_by(SmsCode.created_at.desc(), SmsCode.id.desc())
            .limit(1)
        )
        if row is None or row.verified_at is not None:
            return Checked("expired")
        if row.tries >= CODE_TRIES:
            return Checked("exhausted")
        if now >= row.expires_at:
            return Checked("expired")
        if code_matches(row.code_hash, account_id, phone, code):
            # conditional: the same code typed twice at once proves the phone once
            done = await self.s.execute(
                sa.update(SmsCode)
                .where(SmsCode.id == row.id, SmsCode.verified_at.is_(None))
                .values(verified_at=now)
            )
            return Checked("ok") if done.rowcount else Checked("expired")
        res = await self.s.execute(
            sa.update(SmsCode)
            .where(SmsCode.id == row.id, SmsCode.tries < CODE_TRIES)
            .values(tries=SmsCode.tries + 1)
            .returning(SmsCode.tries)
        )
        tries = res.scalar_one_or_none()
        left = CODE_TRIES - (tries if tries is not None else CODE_TRIES)
        return Checked("wrong", left) if left > 0 else Checked("exhausted")

    async def mark_verified(self, account_id: int, phone: str, now: datetime) -> None:
        await self.s.execute(
            sa.update(Account)
            .where(Account.id == account_id)
            .values(phone=phone, phone_verified=True)
        )
