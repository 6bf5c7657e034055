"""Telegram's sender: delivers the outbox rows of the Telegram channel after commit (claims under
a lease, waits at least retry_after on 429, backs off on network errors) and marks a row sent
only once Telegram accepted it. Other channels' rows are left to their own senders.

Every message goes this way, an owner's own replies too: the handler wakes the sender for its
step's rows right after commit. Telegram's limits and a 429's pause are kept by `Limits`
(bot/rate_limit.py), shared by every process when Redis is configured; a chat whose owner
refused the bot (403) gets no more requests until the owner writes again."""

from __future__ import annotations

import asyncio
import logging
import random
from datetime import datetime, timedelta
from pathlib import Path

from aiogram import Bot
from aiogram.exceptions import (
    TelegramAPIError,
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
    TelegramUnauthorizedError,
)
from aiogram.methods import (
    CopyMessage,
    EditMessageText,
    SendDocument,
    SendMessage,
    SendPhoto,
)
from aiogram.types import BufferedInputFile, FSInputFile

from desk.commands import Take
from dialogs.clock import Clock
from storage.sent_marks import SentMarks
from storage.uow import UnitOfWork

from .desk.callbacks import pack
from .outbound import TELEGRAM
from .rate_limit import Limits, LocalLimits
from .rendering import WECOM_MEDIA

log = logging.getLogger(__name__)

METHODS = {
    "sendMessage": SendMessage,
    "sendPhoto": SendPhoto,
    "editMessageText": EditMessageText,
    "copyMessage": CopyMessage,
}
# a file on this machine (a report's charts and CSV, bot/reports/pack.py): payload {path, caption}
FILE_METHODS = {
    "sendPhotoFile": (SendPhoto, "photo"),
    "sendDocumentFile": (SendDocument, "document"),
}
# tries ended by a network or server error before a row is set aside (a 429 is not one: it
# is Telegram pacing us, and a row waits through any number of them)
MAX_ATTEMPTS = 8
# 401: the token was revoked or replaced while running; nothing can be sent with it, so the
# sender waits this long before trying again (a restart with a good token sends at once)
UNAUTHORIZED_PAUSE = timedelta(seconds=60)
# one request's longest wait; with SEND_MARGIN it keeps every send inside its row's lease
# (storage/outbox.py LEASE), so no other sender ever takes a row that is still on its way
SEND_TIMEOUT = 10
SEND_MARGIN = timedelta(seconds=SEND_TIMEOUT + 5)


class OutboxSender:
    channel = TELEGRAM

    def __init__(
        self,
        sessionmaker,
        bot: Bot,
        clock: Clock,
        *,
        poll_seconds: float = 1.0,
        group_chat_id: str = "",
        texts=None,
        rate: float = 28.0,
        chat_rate: float = 1.0,
        chat_burst: float = 3.0,
        rate_clock=None,
        limits: Limits | None = None,
    ):
        self.sessionmaker = sessionmaker
        self.marks = SentMarks(sessionmaker)
        self.bot = bot
        self.clock = clock
        self.group_chat_id = str(group_chat_id or "")
        self.texts = texts
        # Telegram's limits: shared by every process through Redis when the factory passes
        # them, else this process's own (the group's minute read back from the outbox)
        own = LocalLimits(
            self._group_sent_times,
            rate=rate,
            chat_rate=chat_rate,
            chat_burst=chat_burst,
            rate_clock=rate_clock,
        )
        self.limits: Limits = limits or own
        if getattr(self.limits, "fallback", False) is None:
            # Redis down: this process's own limits keep the sending going
            self.limits.fallback = own
        self.group_limit = getattr(self.limits, "group_window", None)
        self.on_blocked = None  # set by the factory: an owner who blocked the bot
        # set by the factory when WeChat runs: media_id -> Media (bot/wecom/api.py media_get)
        self.fetch_media = None
        self._held_until = None  # 401: this process's token was refused
        self.poll_seconds = poll_seconds  # how often deliver_left_over runs (bot/jobs.py)

    async def _group_sent_times(self, chat_id: str, since):
        async with UnitOfWork(self.sessionmaker) as uow:
            return await uow.outbox.sent_times(self.channel, chat_id, since)

    async def _stopped(self, now):
        """Until when no request may go out (a 429 anywhere, or our token refused)."""
        if self._held_until is not None and now < self._held_until:
            return self._held_until
        return await self.limits.paused(now)

    async def deliver(self, ids: list[int] | None = None, min_age: timedelta | None = None) -> int:
        """Send what is due (or just `ids`); returns how many were sent."""
        sent = 0
        while True:
            now = self.clock.now()
            if await self._stopped(now):
                return sent  # Telegram said 429: no request before retry_after has passed
            async with UnitOfWork(self.sessionmaker) as uow:
                rows = await uow.outbox.claim(
                    now, ids=ids, min_age=min_age, channels=(self.channel,)
                )
                claimed = {r.id for r in rows}
                rows = await self._set_aside_unreachable(uow, rows)
                await uow.commit()
            if not claimed:
                return sent
            n, stopped, deferred = await self._send_batch(rows)
            sent += n
            if ids is not None:
                # a handler's own rows: done once each was claimed (no further claim to find
                # that nothing is left)
                ids = [i for i in ids if i not in claimed]
                if not ids:
                    return sent
            if stopped or (deferred and ids is not None):
                return sent

    async def deliver_claimed(self, rows: list, reachable: frozenset[str] = frozenset()) -> int:
        """Send rows a step wrote already claimed (OutboxRepo.born_claimed), right after its
        commit: no transaction to claim them. `reachable`: chats known open (the owner who
        just wrote); any other owner's chat is checked for a 403 first."""
        rows = sorted(
            (r for r in rows if r.channel == self.channel), key=lambda r: (r.priority, r.id)
        )
        if not rows:
            return 0
        until = await self._stopped(self.clock.now())
        if until is not None:
            await self._release(rows, until, "paused by 429")
            return 0
        if any(r.chat_id not in reachable and r.chat_id != self.group_chat_id for r in rows):
            async with UnitOfWork(self.sessionmaker) as uow:
                rows = await self._set_aside_unreachable(uow, rows)
                await uow.commit()
        n, _, _ = await self._send_batch(rows)
        return n

    async def _set_aside_unreachable(self, uow: UnitOfWork, rows: list) -> list:
        """Rows for a chat whose owner refused the bot (a 403) are set aside without a request;
        the flag clears when the owner writes again (bot/followups/unreachable.py)."""
        chats = sorted({r.chat_id for r in rows if r.chat_id != self.group_chat_id})
        gone = await uow.outbox.unreachable_chats(self.channel, chats)
        if not gone:
            return rows
        for row in rows:
            if row.chat_id in gone:
                await uow.outbox.fail(row.id, "403 earlier: the owner is unreachable", tried=False)
        return [r for r in rows if r.chat_id not in gone]

    async def _send_batch(self, rows: list) -> tuple[int, bool, bool]:
        """(sent, stopped, deferred). Every claimed row leaves here settled or released: none
        is left to wait out its lease, even when something raises."""
        sent, deferred = 0, False
        held: dict[str, datetime] = {}  # a chat whose earlier row waits: its later ones too
        refused: set[str] = set()  # chats that answered 403 in this batch
        i = 0
        try:
            for i, row in enumerate(rows):
                now = self.clock.now()
                if row.chat_id in refused:
                    await self._in_tx(
                        lambda uow, row=row: uow.outbox.fail(row.id, "403 earlier", tried=False)
                    )
                    continue
                if row.chat_id in held:
                    # keep one chat's order: a later row waits behind an earlier deferred one
                    await self._defer(row, held[row.chat_id], "chat order")
                    continue
                if row.chat_id != self.group_chat_id:
                    wait = await self.limits.chat(row.chat_id)
                    if wait > 0:
                        held[row.chat_id] = now + timedelta(seconds=wait)
                        await self._defer(row, held[row.chat_id], "chat limit")
                        deferred = True
                        continue
                while (wait := await self.limits.overall()) > 0:
                    await asyncio.sleep(wait)
                if row.chat_id == self.group_chat_id and self.group_chat_id:
                    # the agents' group is a scarce channel: wait for the window, and fold
                    # backed-up new cards into one digest
                    now = self.clock.now()
                    free_at = await self.limits.group(row.chat_id, row.id, now)
                    if free_at is not None:
                        await self._defer(row, free_at, "group limit", fold=row.purpose == "card")
                        deferred = True
                        continue
                now = self.clock.now()
                until = await self._stopped(now)
                if until is not None:
                    # a 429 seen meanwhile (here or in another process): nothing more goes out
                    await self._release(rows[i:], until, "paused by 429")
                    return sent, True, deferred
                lease = getattr(row, "lease_until", None)
                if lease is not None and now > lease - SEND_MARGIN:
                    # the batch was held up (limits, slow requests): what is left goes back
                    # rather than be sent after another sender may have taken it
                    await self._release(rows[i:], now, "lease running out")
                    return sent, True, deferred
                outcome = await self._send_one(row)
                if await self._settle(row, outcome, rows[i + 1 :]):
                    sent += 1
                elif outcome[0] in ("429", "retry", "hold"):
                    return sent, True, deferred
                elif outcome[2].startswith("403"):
                    refused.add(row.chat_id)
        except BaseException:
            # claimed and not settled: back to pending at once (a row already settled is not
            # in 'sending' any more, and is left as it is)
            try:
                await self._release(rows[i:], self.clock.now(), "interrupted")
            except Exception:
                log.exception("outbox: could not release claimed rows; the lease will")
            raise
        return sent, False, deferred

    async def _in_tx(self, work) -> None:
        async with UnitOfWork(self.sessionmaker) as uow:
            await work(uow)
            await uow.commit()

    async def _defer(self, row, when, why: str, *, fold: bool = False) -> None:
        """Held back by a limit: not tried, so the claim does not count as an attempt."""
        async with UnitOfWork(self.sessionmaker) as uow:
            if fold:
                await self._fold_cards(uow, row)
            await uow.outbox.retry_later(row.id, when, why, counts=False)
            await uow.commit()

    async def _release(self, rows: list, when, why: str) -> None:
        await self._in_tx(lambda uow: uow.outbox.release([r.id for r in rows], when, why))

    async def _settle(self, row, outcome, rest: list) -> bool:
        """Write what the request came to; True when the row was sent. A 429, a network error
        or a refused token stops the batch: the rows after it are released at once."""
        kind, delay, error, message_id = outcome
        if kind == "sent":
            await self.marks.sent(row, self.clock.now(), message_id)
            return True
        if kind == "429":
            # Telegram's flood control: every process waits (bot/rate_limit.py)
            await self.limits.pause(self.clock.now(), delay.total_seconds())
        async with UnitOfWork(self.sessionmaker) as uow:
            now = self.clock.now()
            if kind == "429":
                # not the message's fault: not an attempt, however many come
                await uow.outbox.retry_later(row.id, now + delay, error, counts=False)
                await uow.outbox.release([r.id for r in rest], now + delay, "paused by 429")
            elif kind == "retry":
                if row.attempts >= MAX_ATTEMPTS:
                    await uow.outbox.fail(row.id, error)
                else:
                    await uow.outbox.retry_later(row.id, now + delay, error)
                # this chat's later rows keep their place behind it; the others go at once
                same = [r.id for r in rest if r.chat_id == row.chat_id]
                await uow.outbox.release(same, now + delay, "chat order")
                await uow.outbox.release([r.id for r in rest if r.id not in same], now)
            elif kind == "hold":
                # not the message's fault: back to pending, due now, the try not counted
                await uow.outbox.release([row.id, *(r.id for r in rest)], now, error)
            else:
                await uow.outbox.fail(row.id, error)
                if error.startswith("403") and self.on_blocked is not None:
                    await self.on_blocked(uow, row)
            await uow.commit()
        return kind == "sent"

    async def _fold_cards(self, uow: UnitOfWork, row) -> None:
        """New cards backed up behind the group's limit become one digest with a 接单 button
        per ticket; their full cards follow as edits-turned-sends when they next change."""
        from dialogs.events import Reply

        from .rendering import payloads

        waiting = [
            r
            for r in await uow.outbox.pending_for_chat(self.channel, row.chat_id, "card")
            if r.id != row.id
        ]
        if len(waiting) < 1 or self.texts is None:
            return
        ids = [row.id] + [r.id for r in waiting]
        tickets = [
            t
            for t in [
                await uow.cases.ticket(r.ticket_id, lock=False)
                for r in [row, *waiting]
                if r.ticket_id
            ]
            if t is not None
        ]
        await uow.outbox.set_state(ids, "folded")
        digest = payloads(
            Reply("agent_digest", {"tickets": tickets, "now": self.clock.now()}), self.texts
        )[-1]
        digest["reply_markup"] = {
            "inline_keyboard": [
                [
                    {
                        "text": f"{self.texts.button('agent_btn_take')} {t.number}",
                        "callback_data": pack(Take(t.id)),
                    }
                ]
                for t in tickets[:20]
            ]
        }
        await uow.outbox.add(
            row.chat_id,
            digest,
            self.clock.now(),
            channel=self.channel,
            priority=3,
            purpose="digest",
            ref={"tickets": [t.id for t in tickets]},
        )

    async def _send_one(self, row) -> tuple[str, timedelta | None, str, int | None]:
        """(kind, delay, error, message id): sent, 429, retry, hold or fail."""
        if row.method == WECOM_MEDIA:
            return await self._send_wecom_media(row)
        method_cls = METHODS.get(row.method, SendMessage)
        try:
            params = {"chat_id": row.chat_id, **row.payload}
            if row.method == "editMessageText":
                card_id = await self._card_message_id(row.ticket_id)
                if card_id is None:
                    # the card was folded into a digest or never sent: send it anew
                    method_cls = SendMessage
                else:
                    params["message_id"] = card_id
            if row.method in FILE_METHODS:
                request = _file_request(row)
                if request is None:
                    log.error("outbox %s: the file to send is gone, set aside", row.id)
                    return "fail", None, "file missing", None
            else:
                request = method_cls.model_validate(params)
            result = await self.bot(request, request_timeout=SEND_TIMEOUT)
            return "sent", None, "", getattr(result, "message_id", None)
        except TelegramBadRequest as e:
            if "not modified" in e.message:
                return "sent", None, "", None
            log.error("outbox %s: bad request, set aside: %s", row.id, e.message)
            return "fail", None, f"400 {e.message}", None
        except TelegramRetryAfter as e:
            log.warning("outbox %s: 429, retry after %ss", row.id, e.retry_after)
            return "429", timedelta(seconds=e.retry_after), "429", None
        except (TelegramNetworkError, TelegramServerError) as e:
            delay = min(300.0, 2**row.attempts) * (0.5 + random.random())
            log.warning("outbox %s: %s, retry in %.1fs", row.id, type(e).__name__, delay)
            return "retry", timedelta(seconds=delay), type(e).__name__, None
        except TelegramForbiddenError as e:
            log.warning("outbox %s: blocked (%s)", row.id, e.message)
            return "fail", None, f"403 {e.message}", None
        except TelegramUnauthorizedError as e:
            log.error("outbox: 401 %s: the bot token was refused; sending paused", e.message)
            self._held_until = self.clock.now() + UNAUTHORIZED_PAUSE
            return "hold", None, f"401 {e.message}", None
        except Exception as e:  # a bug must not stop the sender: set the row aside, say why
            log.exception("outbox %s: unexpected error", row.id)
            return "fail", None, repr(e), None

    async def _send_wecom_media(self, row) -> tuple[str, timedelta | None, str, int | None]:
        """A WeChat owner's photo or file for the agents' group: fetched from WeChat now (it is
        kept there three days), posted as a photo or a document."""
        if self.fetch_media is None:
            return "fail", None, "no WeChat channel to fetch the media from", None
        _, kind, media_id = (str(row.payload.get("media", "")).split(":", 2) + ["", ""])[:3]
        try:
            media = await self.fetch_media(media_id)
        except Exception as e:  # noqa: BLE001  (WeComError, network): retried like a send
            if getattr(e, "retryable", True):
                delay = min(300.0, 2**row.attempts) * (0.5 + random.random())
                return "retry", timedelta(seconds=delay), type(e).__name__, None
            return "fail", None, f"media {getattr(e, 'errcode', '')}", None
        name = media.filename or ("photo.jpg" if kind == "image" else f"{kind or 'file'}.bin")
        upload = BufferedInputFile(media.content, filename=name)
        method = (
            SendPhoto(chat_id=row.chat_id, photo=upload)
            if kind == "image"
            else SendDocument(chat_id=row.chat_id, document=upload)
        )
        try:
            result = await self.bot(method, request_timeout=SEND_TIMEOUT)
        except TelegramRetryAfter as e:
            return "429", timedelta(seconds=e.retry_after), "429", None
        except (TelegramNetworkError, TelegramServerError) as e:
            delay = min(300.0, 2**row.attempts) * (0.5 + random.random())
            return "retry", timedelta(seconds=delay), type(e).__name__, None
        except TelegramAPIError as e:
            return "fail", None, f"media {type(e).__name__}", None
        return "sent", None, "", getattr(result, "message_id", None)

    async def _card_message_id(self, ticket_id: int | None) -> int | None:
        if ticket_id is None:
            return None
        async with UnitOfWork(self.sessionmaker) as uow:
            t = await uow.cases.ticket(ticket_id, lock=False)
            return t.card_message_id if t is not None else None

    async def close(self) -> None:
        """At shutdown: the shared limits' Redis connections, the marks' own connection."""
        self.marks.close()
        close = getattr(self.limits, "close", None)
        if close is not None:
            await close()

    async def deliver_left_over(self) -> int:
        """The background job: rows left by a crash or waiting on retry_after go out here."""
        # rows a handler is about to send itself are left to it for a moment, so one chat's
        # messages keep their order
        return await self.deliver(min_age=timedelta(seconds=2))


def _file_request(row):
    """sendPhotoFile / sendDocumentFile: the file uploaded from disk, None when it is gone."""
    method_cls, field = FILE_METHODS[row.method]
    path = Path(str(row.payload.get("path", "")))
    if not path.is_file():
        return None
    caption = row.payload.get("caption") or None
    return method_cls(chat_id=row.chat_id, caption=caption, **{field: FSInputFile(path)})
