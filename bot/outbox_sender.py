"""Delivers outbox rows after commit: claims under a lease, waits at least retry_after on 429,
backs off on network errors, and marks a row sent only once Telegram accepted it."""

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
)
from aiogram.methods import EditMessageText, SendMessage, SendPhoto

from dialogs.clock import Clock
from storage.uow import UnitOfWork

log = logging.getLogger(__name__)

METHODS = {"sendMessage": SendMessage, "sendPhoto": SendPhoto, "editMessageText": EditMessageText}
MAX_ATTEMPTS = 8


class OutboxSender:
    def __init__(self, sessionmaker, bot: Bot, clock: Clock, *, poll_seconds: float = 1.0):
        self.sessionmaker = sessionmaker
        self.bot = bot
        self.clock = clock
        self.poll_seconds = poll_seconds
        self._wake = asyncio.Event()
        self._stopping = False

    def wake(self) -> None:
        self._wake.set()

    async def deliver(self, ids: list[int] | None = None,
                      min_age: timedelta | None = None) -> int:
        """Send what is due (or just `ids`); returns how many were sent."""
        sent = 0
        while True:
            now = self.clock.now()
            async with UnitOfWork(self.sessionmaker) as uow:
                rows = await uow.outbox.claim(now, ids=ids, min_age=min_age)
                await uow.commit()
            if not rows:
                return sent
            for row in rows:
                outcome = await self._send_one(row)
                async with UnitOfWork(self.sessionmaker) as uow:
                    now = self.clock.now()
                    if outcome is None:
                        await uow.outbox.mark_sent(row.id, now)
                        sent += 1
                    elif outcome[0] == "retry":
                        if row.attempts >= MAX_ATTEMPTS:
                            await uow.outbox.fail(row.id, outcome[2])
                        else:
                            await uow.outbox.retry_later(row.id, now + outcome[1], outcome[2])
                    else:
                        await uow.outbox.fail(row.id, outcome[2])
                    await uow.commit()
                if outcome is not None and outcome[0] == "retry":
                    # keep this chat's order: stop here, the rest goes after the wait
                    return sent

    async def _send_one(self, row):
        method_cls = METHODS.get(row.method, SendMessage)
        try:
            method = method_cls.model_validate({"chat_id": row.chat_id, **row.payload})
            await self.bot(method)
            return None
        except TelegramRetryAfter as e:
            log.warning("outbox %s: 429, retry after %ss", row.id, e.retry_after)
            return ("retry", timedelta(seconds=e.retry_after), "429")
        except (TelegramNetworkError, TelegramServerError) as e:
            delay = min(300.0, 2 ** row.attempts) * (0.5 + random.random())
            log.warning("outbox %s: %s, retry in %.1fs", row.id, type(e).__name__, delay)
            return ("retry", timedelta(seconds=delay), type(e).__name__)
        except TelegramForbiddenError as e:
            log.warning("outbox %s: blocked (%s)", row.id, e.message)
            return ("fail", None, f"403 {e.message}")
        except TelegramBadRequest as e:
            log.error("outbox %s: bad request, set aside: %s", row.id, e.message)
            return ("fail", None, f"400 {e.message}")
        except Exception as e:  # a bug must not stop the sender: set the row aside, say why
            log.exception("outbox %s: unexpected error", row.id)
            return ("fail", None, repr(e))

    async def run(self) -> None:
        """Background loop: rows left by a crash or waiting on retry_after go out here."""
        while not self._stopping:
            try:
                # rows a handler is about to send itself are left to it for a moment, so one
                # chat's messages keep their order
                await self.deliver(min_age=timedelta(seconds=2))
            except Exception:
                log.exception("outbox loop error")
            try:
                await asyncio.wait_for(self._wake.wait(), timeout=self.poll_seconds)
            except TimeoutError:
                pass
            self._wake.clear()

    def stop(self) -> None:
        self._stopping = True
        self._wake.set()
