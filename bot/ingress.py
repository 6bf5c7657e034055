"""One update from Telegram, fed to the dispatcher until its step has committed. Long polling
(bot/acked_polling.py) and the webhook (bot/webhook.py) acknowledge an update only after this
returns: acknowledge after commit (issue 10), so a crash in the middle leaves it with Telegram,
which delivers it again; the update-id dedupe (accounts.first_time) applies it once.

A failure is one of two kinds, and each is treated as it deserves:
- *transient*: the database or the network is away (a refused connection, "database is locked",
  a lost connection, PostgreSQL shutting down). The update is tried again for as long as it
  takes: nothing could be processed meanwhile, and giving up would lose it.
- *poison*: this update itself fails (text the database refuses, a bug on one path). It is tried
  POISON_ATTEMPTS times, then logged and passed over, so one update cannot stall every owner
  behind it. Its unit of work rolled back, so nothing of it was stored."""

from __future__ import annotations

import logging
from typing import Any

from aiogram import Bot, Dispatcher
from aiogram.exceptions import TelegramNetworkError, TelegramRetryAfter, TelegramServerError
from aiogram.methods import TelegramMethod
from aiogram.types import Update
from sqlalchemy import exc as sa_exc

log = logging.getLogger(__name__)

POISON_ATTEMPTS = 3
# PostgreSQL error classes that say "not now" rather than "not this": connection exception,
# transaction rollback (serialization, deadlock), insufficient resources, lock not available,
# operator intervention (shutdown, cannot connect now), system error, no such database yet
TRANSIENT_SQLSTATES = ("08", "40", "53", "55", "57", "58", "3D")
TRANSIENT_ERRORS = (
    OSError,  # ConnectionRefusedError and the like, raised unwrapped by asyncpg
    TimeoutError,
    sa_exc.OperationalError,  # SQLite's "database is locked", "unable to open database file"
    sa_exc.InterfaceError,
    sa_exc.DisconnectionError,
    sa_exc.TimeoutError,  # no pooled connection came free
    TelegramNetworkError,
    TelegramServerError,
    TelegramRetryAfter,
)


def is_transient(error: BaseException) -> bool:
    seen: set[int] = set()
    todo: list[BaseException | None] = [error]
    while todo:
        e = todo.pop()
        if e is None or id(e) in seen:
            continue
        seen.add(id(e))
        if isinstance(e, TRANSIENT_ERRORS):
            return True
        if isinstance(e, sa_exc.DBAPIError) and e.connection_invalidated:
            return True
        sqlstate = getattr(e, "sqlstate", None)
        if isinstance(sqlstate, str) and sqlstate[:2] in TRANSIENT_SQLSTATES:
            return True
        todo += [getattr(e, "orig", None), e.__cause__]
    return False


def describe(update: Update) -> str:
    """For the log: the update's id and kind, never its content (owners' words and phones)."""
    kinds = [k for k in update.model_fields_set if k != "update_id"]
    return f"update {update.update_id} ({', '.join(sorted(kinds)) or 'empty'})"


def ordering_key(update: Update) -> str:
    """Updates of one chat are handled in the order Telegram sent them; other chats' run beside
    them. An owner's private chat is the owner; the agents' group is one chat, so two taps on
    one card are taken one after the other, as they came."""
    for kind in update.model_fields_set - {"update_id"}:
        event = getattr(update, kind, None)
        chat = getattr(event, "chat", None) or getattr(
            getattr(event, "message", None), "chat", None
        )
        if chat is not None:
            return f"chat:{chat.id}"
        user = getattr(event, "from_user", None)
        if user is not None:
            return f"user:{user.id}"
    return f"update:{update.update_id}"


async def feed(dp: Dispatcher, bot: Bot, update: Update, **data: Any) -> None:
    """The update's handlers, run to their end: the unit of work has committed (or rolled back
    and raised) when this returns."""
    response = await dp.feed_update(bot, update, **data)
    if isinstance(response, TelegramMethod):  # a handler's "answer as the webhook reply"
        await bot(response)
