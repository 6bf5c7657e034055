"""The SMS channel's sender: delivers the verification codes the identity step queued
(storage/verification_repo.py writes one outbox row per code, channel "sms", in the step's
transaction), after commit. A row is claimed under a lease, sent through an `SmsSender`, and
marked sent; its code is then blanked in the stored payload, as it is when the row fails.

A network failure (or the provider's own trouble) is tried again with backoff; a refusal (a bad
signature, a number the provider will not text) fails the row for good: the owner asks for a new
code in the dialog. A code past its validity is never sent late. Only masked phones are logged,
never a code."""

from __future__ import annotations

import logging
import random
from datetime import datetime, timedelta

from dialogs.clock import Clock
from storage.outbox import ClaimedRow
from storage.uow import UnitOfWork
from storage.verification_repo import SEND_CODE, SMS, forget_code

from .sender import SmsSender, mask_phone

log = logging.getLogger(__name__)

# tries ended by a network error before a row is set aside (its code lives 5 minutes anyway)
MAX_ATTEMPTS = 6
# the provider's answers worth another try: not the message's fault
TRANSIENT = ("network", "bad_response", "InternalError", "RequestLimitExceeded")
# a request's longest wait (bot/sms/tencent.py TIMEOUT_SECONDS) and a margin: nothing is sent
# whose lease (storage/outbox.py LEASE) could run out before the answer
SEND_MARGIN = timedelta(seconds=15)


def transient(reason: str | None) -> bool:
    return any((reason or "").startswith(t) for t in TRANSIENT)


class SmsOutboxSender:
    channel = SMS

    def __init__(self, sessionmaker, sms: SmsSender, clock: Clock, *, poll_seconds: float = 1.0):
        self.sessionmaker = sessionmaker
        self.sms = sms
        self.clock = clock
        # a code is awaited by an owner in the chat: looked for every second
        self.poll_seconds = poll_seconds

    async def deliver(self, ids: list[int] | None = None, min_age: timedelta | None = None) -> int:
        """Send what is due (or just `ids`); returns how many codes went out."""
        sent = 0
        while True:
            async with UnitOfWork(self.sessionmaker) as uow:
                rows = await uow.outbox.claim(
                    self.clock.now(), ids=ids, min_age=min_age, channels=(self.channel,)
                )
                await uow.commit()
            if not rows:
                return sent
            sent += await self._send_batch(rows)
            if ids is not None:
                ids = [i for i in ids if i not in {r.id for r in rows}]
                if not ids:
                    return sent

    async def deliver_left_over(self) -> int:
        """The background job: codes left by a crash or waiting to be tried again."""
        return await self.deliver()

    async def _send_batch(self, rows: list[ClaimedRow]) -> int:
        sent, i = 0, 0
        try:
            for i, row in enumerate(rows):
                now = self.clock.now()
                if row.lease_until is not None and now > row.lease_until - SEND_MARGIN:
                    # held up: what is left goes back rather than out after another sender
                    # may have taken it
                    await self._release(rows[i:], now)
                    return sent
                sent += await self._send_one(row, now)
        except BaseException:
            try:
                await self._release(rows[i:], self.clock.now())
            except Exception:
                log.exception("sms: could not release claimed rows; the lease will")
            raise
        return sent

    async def _send_one(self, row: ClaimedRow, now: datetime) -> int:
        who = mask_phone(row.chat_id)
        code = str(row.payload.get("code") or "")
        until = row.ref.get("until")
        if row.method != SEND_CODE or not code:
            return await self._fail(row, f"nothing to send ({row.method})")
        if until and now >= datetime.fromisoformat(until):
            log.info("sms %s: code to %s expired before it could be sent", row.id, who)
            return await self._fail(row, "expired before it could be sent")
        try:
            result = await self.sms.send_code(row.chat_id, code)
        except Exception as e:  # the Protocol says it never raises: a bug sets the row aside
            log.exception("sms %s: unexpected error", row.id)
            return await self._fail(row, repr(e))
        if result.ok:
            async with UnitOfWork(self.sessionmaker) as uow:
                await uow.outbox.mark_sent(row.id, self.clock.now())
                await forget_code(uow.session, row.id)
                await uow.commit()
            return 1
        reason = result.reason or "error"
        if transient(reason) and row.attempts < MAX_ATTEMPTS:
            delay = min(60.0, 2.0**row.attempts) * (0.5 + random.random())
            log.warning(
                "sms %s: code to %s not sent (%s), retry in %.1fs", row.id, who, reason, delay
            )
            async with UnitOfWork(self.sessionmaker) as uow:
                await uow.outbox.retry_later(
                    row.id, self.clock.now() + timedelta(seconds=delay), reason
                )
                await uow.commit()
            return 0
        log.warning("sms %s: code to %s refused for good: %s", row.id, who, reason)
        return await self._fail(row, reason)

    async def _fail(self, row: ClaimedRow, error: str) -> int:
        async with UnitOfWork(self.sessionmaker) as uow:
            await uow.outbox.fail(row.id, error)
            await forget_code(uow.session, row.id)
            await uow.commit()
        return 0

    async def _release(self, rows: list[ClaimedRow], when: datetime) -> None:
        async with UnitOfWork(self.sessionmaker) as uow:
            await uow.outbox.release([r.id for r in rows], when, "released")
            await uow.commit()
