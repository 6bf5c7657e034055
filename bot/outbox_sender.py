"""Telegram's sender: delivers the outbox rows of the Telegram channel after commit (claims under
a lease, waits at least retry_after on 429, backs off on network errors) and marks a row sent
only once Telegram accepted it. Other channels' rows are left to their own senders."""

from __future__ import annotations

import asyncio
import logging
import random
from datetime import timedelta

from aiogram import Bot
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
    TelegramUnauthorizedError,
)
from aiogram.methods import CopyMessage, EditMessageText, SendMessage, SendPhoto

from desk.commands import Take
from dialogs.clock import Clock
from storage.uow import UnitOfWork

from .desk.callbacks import pack
from .outbound import TELEGRAM
from .rate_limit import TokenBucket, WindowLimiter

log = logging.getLogger(__name__)

METHODS = {
    "sendMessage": SendMessage,
    "sendPhoto": SendPhoto,
    "editMessageText": EditMessageText,
    "copyMessage": CopyMessage,
}
GROUP_PER_MINUTE = 20
MAX_ATTEMPTS = 8
# 401: the token was revoked or replaced while running; nothing can be sent with it, so the
# sender waits this long before trying again (a restart with a good token sends at once)
UNAUTHORIZED_PAUSE = timedelta(seconds=60)


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
    ):
        self.sessionmaker = sessionmaker
        self.bot = bot
        self.clock = clock
        self.group_chat_id = str(group_chat_id or "")
        self.texts = texts
        self.group_limit = WindowLimiter(GROUP_PER_MINUTE, timedelta(minutes=1))
        # Telegram: ~30 messages a second overall, about one a second per chat
        # paced, not bursty: a burst of `rate` on top of the steady rate would break the
        # one-second window Telegram counts in
        self.overall = TokenBucket(rate, 1.0, rate_clock)
        self.per_chat = TokenBucket(chat_rate, chat_burst, rate_clock)
        self.on_blocked = None  # set by the factory: an owner who blocked the bot
        self._resume_at = None
        self.poll_seconds = poll_seconds  # how often deliver_left_over runs (bot/jobs.py)

    async def deliver(self, ids: list[int] | None = None, min_age: timedelta | None = None) -> int:
        """Send what is due (or just `ids`); returns how many were sent."""
        sent = 0
        while True:
            now = self.clock.now()
            if self._resume_at is not None and now < self._resume_at:
                return sent  # Telegram said 429: no request before retry_after has passed
            async with UnitOfWork(self.sessionmaker) as uow:
                rows = await uow.outbox.claim(
                    now, ids=ids, min_age=min_age, channels=(self.channel,)
                )
                await uow.commit()
            if not rows:
                return sent
            deferred = False
            held_chats: dict[str, timedelta] = {}
            for row in rows:
                if row.chat_id in held_chats:
                    # keep one chat's order: a later row waits behind an earlier deferred one
                    async with UnitOfWork(self.sessionmaker) as uow:
                        await uow.outbox.retry_later(
                            row.id,
                            self.clock.now() + held_chats[row.chat_id],
                            "chat order",
                            counts=False,
                        )
                        await uow.commit()
                    continue
                if row.chat_id != self.group_chat_id:
                    wait = self.per_chat.wait(row.chat_id)
                    if wait > 0:
                        held_chats[row.chat_id] = timedelta(seconds=wait)
                        async with UnitOfWork(self.sessionmaker) as uow:
                            await uow.outbox.retry_later(
                                row.id,
                                self.clock.now() + timedelta(seconds=wait),
                                "chat limit",
                                counts=False,
                            )
                            await uow.commit()
                        deferred = True
                        continue
                    self.per_chat.take(row.chat_id)
                wait = self.overall.wait()
                if wait > 0:
                    await asyncio.sleep(wait)
                self.overall.take()
                if row.chat_id == self.group_chat_id and self.group_chat_id:
                    # the agents' group is a scarce channel: wait for the window, and fold
                    # backed-up new cards into one digest
                    now = self.clock.now()
                    if self.group_limit.available(row.chat_id, now) <= 0:
                        async with UnitOfWork(self.sessionmaker) as uow:
                            if row.purpose == "card":
                                await self._fold_cards(uow, row)
                            await uow.outbox.retry_later(
                                row.id,
                                self.group_limit.next_free(row.chat_id, now),
                                "group limit",
                                counts=False,
                            )
                            await uow.commit()
                        deferred = True
                        continue
                    self.group_limit.record(row.chat_id, now)
                outcome, message_id = await self._send_one(row)
                async with UnitOfWork(self.sessionmaker) as uow:
                    now = self.clock.now()
                    if outcome is None:
                        await uow.outbox.mark_sent(row.id, now, message_id)
                        if row.purpose in ("card", "card_edit") and row.ticket_id and message_id:
                            await uow.cases.set_card_message(row.ticket_id, message_id)
                        sent += 1
                    elif outcome[0] == "hold":
                        # not the message's fault: back to pending, due now, the try not counted;
                        # the rest of this batch goes back too instead of waiting out its lease
                        for held in [row, *rows[rows.index(row) + 1 :]]:
                            await uow.outbox.retry_later(held.id, now, outcome[2], counts=False)
                    elif outcome[0] == "retry":
                        if row.attempts >= MAX_ATTEMPTS:
                            await uow.outbox.fail(row.id, outcome[2])
                        else:
                            await uow.outbox.retry_later(row.id, now + outcome[1], outcome[2])
                    else:
                        await uow.outbox.fail(row.id, outcome[2])
                        if outcome[2].startswith("403") and self.on_blocked is not None:
                            await self.on_blocked(uow, row)
                    await uow.commit()
                if outcome is not None and outcome[0] in ("retry", "hold"):
                    # keep this chat's order: stop here, the rest goes after the wait
                    return sent
            if deferred and ids is not None:
                return sent

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

    async def _send_one(self, row):
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
            result = await self.bot(method_cls.model_validate(params))
            return None, getattr(result, "message_id", None)
        except TelegramBadRequest as e:
            if "not modified" in e.message:
                return None, None
            log.error("outbox %s: bad request, set aside: %s", row.id, e.message)
            return ("fail", None, f"400 {e.message}"), None
        except TelegramRetryAfter as e:
            log.warning("outbox %s: 429, retry after %ss", row.id, e.retry_after)
            self._resume_at = self.clock.now() + timedelta(seconds=e.retry_after)
            return ("retry", timedelta(seconds=e.retry_after), "429"), None
        except (TelegramNetworkError, TelegramServerError) as e:
            delay = min(300.0, 2**row.attempts) * (0.5 + random.random())
            log.warning("outbox %s: %s, retry in %.1fs", row.id, type(e).__name__, delay)
            return ("retry", timedelta(seconds=delay), type(e).__name__), None
        except TelegramForbiddenError as e:
            log.warning("outbox %s: blocked (%s)", row.id, e.message)
            return ("fail", None, f"403 {e.message}"), None
        except TelegramUnauthorizedError as e:
            log.error("outbox: 401 %s: the bot token was refused; sending paused", e.message)
            self._resume_at = self.clock.now() + UNAUTHORIZED_PAUSE
            return ("hold", None, f"401 {e.message}"), None
        except Exception as e:  # a bug must not stop the sender: set the row aside, say why
            log.exception("outbox %s: unexpected error", row.id)
            return ("fail", None, repr(e)), None

    async def _card_message_id(self, ticket_id: int | None) -> int | None:
        if ticket_id is None:
            return None
        async with UnitOfWork(self.sessionmaker) as uow:
            t = await uow.cases.ticket(ticket_id, lock=False)
            return t.card_message_id if t is not None else None

    async def deliver_left_over(self) -> int:
        """The background job: rows left by a crash or waiting on retry_after go out here."""
        # rows a handler is about to send itself are left to it for a moment, so one chat's
        # messages keep their order
        return await self.deliver(min_age=timedelta(seconds=2))
