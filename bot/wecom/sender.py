"""WeChat's sender (微信客服): delivers the outbox rows of the "wecom" channel after commit, and
marks a row sent only once WeChat accepted it.

WeChat takes 5 messages per owner within 48 hours of the owner's last message, so one owner's
rows in a batch are merged into as few messages as WeChat's limits allow (texts joined with a
blank line, a menu only at the end), and a message the budget cannot carry is held, not sent
(bot/wecom/budget.py): the owner's next message releases it. Each message carries our own msgid
(wx<row id>), so a send retried after a lost answer is recognised by WeChat, not shown twice.

Failures: busy, no answer, 5xx → retried with backoff (MAX_ATTEMPTS tries); 95001 → held, as
the budget; our credentials refused → sending paused; anything else (40058, a used welcome_code)
→ set aside for good, logged by errcode, never with the owner's text. A row whose lease is about
to run out is released rather than sent (storage/outbox.py LEASE)."""

from __future__ import annotations

import asyncio
import logging
import random
from datetime import datetime, timedelta

from dialogs.clock import Clock
from storage.uow import UnitOfWork

from . import budget
from .api import WeComApi, WeComError
from .budget import ON_EVENT, Message, OnUnreachable, plan
from .render import METHOD, public

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 8
# one request's longest wait (a token refresh included); with SEND_MARGIN it keeps every send
# inside its row's lease, so no other sender takes a row that is still on its way
SEND_TIMEOUT = 10.0
SEND_MARGIN = timedelta(seconds=SEND_TIMEOUT + 5)
# our setup refused (secret, corp id, open_kfid, IP allow-list, API rights), not the message:
# nothing can go out until it is fixed, so sending pauses instead of failing every row
SETUP_ERRORS = frozenset({40001, 40013, 40014, 41001, 42001, 48002, 60020, 95000})
SETUP_PAUSE = timedelta(seconds=60)


class WeComSender:
    channel = budget.WECOM

    def __init__(
        self,
        sessionmaker,
        api: WeComApi,
        clock: Clock,
        open_kfid: str,
        *,
        poll_seconds: float = 1.0,
    ):
        self.sessionmaker = sessionmaker
        self.api = api
        self.clock = clock
        self.open_kfid = open_kfid
        self.poll_seconds = poll_seconds  # how often deliver_left_over runs (bot/jobs.py)
        # set by the factory: a push WeChat's budget cannot carry (the handler phones the owner;
        # a survey becomes a phone 回访), as for an owner who blocked the Telegram bot
        self.on_unreachable: OnUnreachable | None = None
        self._paused_until: datetime | None = None

    def _paused(self, now: datetime) -> datetime | None:
        if self._paused_until is not None and now < self._paused_until:
            return self._paused_until
        return None

    async def deliver(self, ids: list[int] | None = None, min_age: timedelta | None = None) -> int:
        """Send what is due (or just `ids`); returns how many rows were sent."""
        sent = 0
        while True:
            now = self.clock.now()
            if self._paused(now):
                return sent
            async with UnitOfWork(self.sessionmaker) as uow:
                rows = await uow.outbox.claim(
                    now, ids=ids, min_age=min_age, channels=(self.channel,)
                )
                await uow.commit()
            if not rows:
                return sent
            n, stopped = await self._send_batch(rows)
            sent += n
            if ids is not None:
                ids = [i for i in ids if i not in {r.id for r in rows}]
                if not ids:
                    return sent
            if stopped:
                return sent

    async def deliver_claimed(self, rows: list, reachable: frozenset[str] = frozenset()) -> int:
        """Send rows a step wrote already claimed, right after its commit. The same owners' rows
        waiting in the outbox (held ones the step released) are taken along and go first,
        merged with the step's reply. `reachable` is accepted as Telegram's sender takes it;
        on WeChat the budget decides."""
        rows = [r for r in rows if r.channel == self.channel]
        if not rows:
            return 0
        now = self.clock.now()
        until = self._paused(now)
        if until is not None:
            await self._release(rows, until, "paused: setup refused")
            return 0
        more = await self._waiting(rows, now)
        n, _ = await self._send_batch(sorted([*more, *rows], key=lambda r: (r.priority, r.id)))
        return n

    async def _waiting(self, rows: list, now: datetime) -> list:
        """The same owners' rows due and unclaimed, claimed now to go with the step's."""
        own = {r.id for r in rows}
        try:
            async with UnitOfWork(self.sessionmaker) as uow:
                chats = sorted({r.chat_id for r in rows})
                ids = [i for i in await budget.waiting(uow, chats, now) if i not in own]
                if not ids:
                    return []
                more = await uow.outbox.claim(
                    now, limit=len(ids), ids=ids, channels=(self.channel,)
                )
                await uow.commit()
                return more
        except Exception:
            # the step's own rows go all the same; the others are the background job's
            log.exception("wecom outbox: could not take the owners' waiting rows along")
            return []

    async def deliver_left_over(self) -> int:
        """The background job: rows left by a crash, retries, pushes from the desk."""
        # rows a step is about to send itself are left to it for a moment, so they merge there
        return await self.deliver(min_age=timedelta(seconds=2))

    async def close(self) -> None:
        await self.api.aclose()

    # --- one batch ---------------------------------------------------------------------------
    async def _send_batch(self, rows: list) -> tuple[int, bool]:
        """(rows sent, stopped). Every claimed row leaves here settled or released, even when
        something raises."""
        messages = plan(rows)
        done: set[int] = set()
        sent = 0
        try:
            owners = await self._owners({m.chat for m in messages if m.method == METHOD})
            for msg in messages:
                if all(r.id in done for r in msg.rows):
                    continue  # held or released with an earlier message of this owner
                now = self.clock.now()
                rest = [r for r in rows if r.id not in done]
                until = self._paused(now)
                if until is not None:
                    await self._release(rest, until, "paused: setup refused")
                    return sent, True
                if any(r.lease_until and now > r.lease_until - SEND_MARGIN for r in msg.rows):
                    await self._release(rest, now, "lease running out")
                    return sent, True
                later = [r for r in rest if r.chat_id == msg.chat]
                left, seen = owners.get(msg.chat, (None, None))
                if msg.method == METHOD and left is not None and left <= 0:
                    await self._hold(later, seen, "beyond WeChat's budget", refused=False)
                    done.update(r.id for r in later)
                    continue
                kind, delay, error = await self._request(msg)
                if kind == "sent":
                    await self._mark_sent(msg)
                    sent += len(msg.rows)
                    done.update(r.id for r in msg.rows)
                    if msg.method == METHOD and left is not None:
                        owners[msg.chat] = (left - 1, seen)
                elif kind == "budget":
                    await self._hold(later, seen, error, refused=True)
                    done.update(r.id for r in later)
                elif kind == "retry":
                    await self._retry(msg, later, rest, delay, error)
                    return sent, True
                elif kind == "pause":
                    self._paused_until = now + SETUP_PAUSE
                    await self._release(rest, now, error)
                    return sent, True
                else:
                    await self._in_tx(lambda uow, m=msg, e=error: _fail(uow, m.rows, e))
                    done.update(r.id for r in msg.rows)
        except BaseException:
            try:
                await self._release([r for r in rows if r.id not in done], self.clock.now(), "")
            except Exception:
                log.exception("wecom outbox: could not release claimed rows; the lease will")
            raise
        return sent, False

    async def _owners(self, chats: set[str]) -> dict[str, tuple[int, datetime | None]]:
        """Each owner's budget left now, and when they last wrote (a hold checks it again)."""
        if not chats:
            return {}
        now = self.clock.now()
        async with UnitOfWork(self.sessionmaker) as uow:
            found = {c: await budget.account_for(uow, c) for c in sorted(chats)}
        return {
            c: (budget.left(acc, now), acc.last_inbound_at)
            for c, acc in found.items()
            if acc is not None
        }

    async def _request(self, msg: Message) -> tuple[str, timedelta, str]:
        """(kind, delay, error): sent, budget, retry, pause or fail."""
        body = public(msg.body)
        ids = [r.id for r in msg.rows]
        try:
            async with asyncio.timeout(SEND_TIMEOUT):
                if msg.method == ON_EVENT:
                    code = str(body.pop("code", ""))
                    await self.api.send_msg_on_event(code, body, msg.msgid)
                else:
                    await self.api.send_msg(msg.chat, self.open_kfid, msg.msgid, body)
            return "sent", timedelta(0), ""
        except WeComError as e:
            error = f"wecom errcode {e.errcode}"
            if e.budget_exhausted and msg.method == METHOD:
                log.info("wecom outbox %s: 95001, held until the owner writes", ids)
                return "budget", timedelta(0), error
            if e.retryable:
                return "retry", self._backoff(msg), error
            if e.errcode in SETUP_ERRORS:
                log.error("wecom outbox: errcode %s, our setup refused; sending paused", e.errcode)
                return "pause", timedelta(0), error
            log.error("wecom outbox %s (%s): errcode %s, set aside", ids, msg.method, e.errcode)
            return "fail", timedelta(0), error
        except TimeoutError:
            return "retry", self._backoff(msg), "timeout"
        except Exception as e:  # a bug must not stop the sender: set the rows aside, say why
            log.exception("wecom outbox %s: unexpected error", ids)
            return "fail", timedelta(0), type(e).__name__

    def _backoff(self, msg: Message) -> timedelta:
        tries = max(r.attempts for r in msg.rows)
        delay = min(300.0, 2.0**tries) * (0.5 + random.random())
        log.warning("wecom outbox %s: no answer, retry in %.1fs", [r.id for r in msg.rows], delay)
        return timedelta(seconds=delay)

    # --- settling ------------------------------------------------------------------------------
    async def _in_tx(self, work) -> None:
        async with UnitOfWork(self.sessionmaker) as uow:
            await work(uow)
            await uow.commit()

    async def _release(self, rows: list, when: datetime, why: str) -> None:
        ids = [r.id for r in rows]
        if ids:
            await self._in_tx(lambda uow: uow.outbox.release(ids, when, why))

    async def _mark_sent(self, msg: Message) -> None:
        now = self.clock.now()
        # every row of a merged message keeps its msgid's row id: a msg_send_fail names them
        key = msg.rows[-1].id

        async def work(uow: UnitOfWork) -> None:
            for row in msg.rows:
                await uow.outbox.mark_sent(row.id, now, key)
            if msg.method == METHOD:
                await budget.spent(uow, msg.chat)  # the greeting is not counted

        await self._in_tx(work)

    async def _retry(self, msg: Message, later: list, rest: list, delay, error: str) -> None:
        now = self.clock.now()

        async def work(uow: UnitOfWork) -> None:
            for row in msg.rows:
                if row.attempts >= MAX_ATTEMPTS:
                    await uow.outbox.fail(row.id, error)
                else:
                    await uow.outbox.retry_later(row.id, now + delay, error)
            # this owner's later rows keep their place behind it; the others go at once
            mine = {r.id for r in msg.rows}
            await uow.outbox.release([r.id for r in later if r.id not in mine], now + delay)
            await uow.outbox.release([r.id for r in rest if r.chat_id != msg.chat], now)

        await self._in_tx(work)

    async def _hold(self, rows: list, seen: datetime | None, why: str, *, refused: bool) -> None:
        """This owner's rows wait for their next message (bot/wecom/budget.py hold)."""
        now = self.clock.now()
        ids = [r.id for r in rows]

        async def work(uow: UnitOfWork, tell) -> None:
            if await budget.hold(uow, rows, seen, now, why, refused=refused, tell=tell):
                log.info("wecom outbox %s: held until the owner writes (%s)", ids, why)

        try:
            await self._in_tx(lambda uow: work(uow, self.on_unreachable))
        except Exception:
            # the rows are held all the same: a failing hook must not send them round again
            log.exception("wecom outbox %s: telling the handler failed", ids)
            await self._in_tx(lambda uow: work(uow, None))


async def _fail(uow: UnitOfWork, rows: list, error: str) -> None:
    for row in rows:
        await uow.outbox.fail(row.id, error)
