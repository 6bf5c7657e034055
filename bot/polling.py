"""`python -m bot run`: long polling, and the background jobs beside it (bot/jobs.py).

Nothing is sent before getMe has accepted the token (bot/startup.py): the sender and the
background jobs start only then, so a bad token never turns pending messages into failures."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence

from aiogram import Dispatcher

from .cli import StartupError, migrate_database
from .factory import build_app, build_dispatcher
from .followups.scheduler import SchedulerLocked, SqliteSchedulerLock
from .jobs import background_jobs
from .settings import Settings
from .startup import RETRY_DELAYS, make_bot, wait_for_telegram

log = logging.getLogger("bot")


async def run_polling(
    settings: Settings,
    *,
    retry_delays: Sequence[float] = RETRY_DELAYS,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    handle_signals: bool = True,
    on_ready: Callable[[Dispatcher], None] | None = None,
) -> None:
    bot = make_bot(settings)  # a malformed token stops here, before the database is touched
    try:
        await migrate_database(settings.database_url)
        lock = None
        if settings.database_url.startswith("sqlite"):
            lock = SqliteSchedulerLock(settings.database_url)
            try:
                lock.acquire()
            except SchedulerLocked as e:
                raise StartupError("cli_scheduler_locked", code=2, path=lock.path) from e
        try:
            me = await wait_for_telegram(bot, settings, delays=retry_delays, sleep=sleep)
            log.info("token accepted: @%s", me.username)
            await _serve(settings, bot, handle_signals, on_ready)
        finally:
            if lock is not None:
                lock.release()
    finally:
        await bot.session.close()


async def _serve(settings: Settings, bot, handle_signals: bool, on_ready) -> None:
    app = build_app(settings)
    dp, _ = build_dispatcher(app, bot)
    try:
        async with background_jobs(app, dp["senders"]):
            log.info("bot starting (long polling)")
            if on_ready is not None:
                on_ready(dp)
            await dp.start_polling(bot, handle_signals=handle_signals)
    finally:
        await app.db.dispose()
