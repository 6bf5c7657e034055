"""`python -m bot run`: long polling (bot/acked_polling.py), or webhook mode when WEBHOOK_URL is
set (bot/webhook.py), and the background jobs beside it (bot/jobs.py).

Nothing is sent before getMe has accepted the token (bot/startup.py): the sender and the
background jobs start only then, so a bad token never turns pending messages into failures.
Either way an update is acknowledged only after its step has committed."""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Awaitable, Callable, Sequence
from contextlib import suppress
from typing import Protocol

from aiogram import Bot, Dispatcher

from .acked_polling import AckedPolling
from .cli import migrate_database, one_scheduler
from .factory import build_app, build_dispatcher
from .jobs import background_jobs
from .settings import Settings
from .startup import RETRY_DELAYS, make_bot, wait_for_telegram

log = logging.getLogger("bot")


class Ingress(Protocol):
    """Where updates come in: AckedPolling or WebhookServer."""

    async def prepare(self) -> None: ...
    async def run(self) -> None: ...
    def request_stop(self) -> None: ...
    async def stop(self) -> None: ...


async def run_polling(
    settings: Settings,
    *,
    retry_delays: Sequence[float] = RETRY_DELAYS,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    handle_signals: bool = True,
    on_ready: Callable[[Ingress], None] | None = None,
) -> None:
    """Serve until a signal (or `on_ready`'s receiver calls stop())."""
    bot = make_bot(settings)  # a malformed token stops here, before the database is touched
    try:
        await migrate_database(settings.database_url)
        with one_scheduler(settings.database_url):
            me = await wait_for_telegram(bot, settings, delays=retry_delays, sleep=sleep)
            log.info("token accepted: @%s", me.username)
            await _serve(settings, bot, handle_signals, on_ready)
    finally:
        await bot.session.close()


def make_ingress(settings: Settings, dp: Dispatcher, bot: Bot, extra_routes=()) -> Ingress:
    if settings.webhook_mode:
        from .webhook import WebhookServer  # aiohttp's server only where it serves

        return WebhookServer(dp, bot, settings, extra_routes)
    return AckedPolling(dp, bot)


async def _serve(settings: Settings, bot: Bot, handle_signals: bool, on_ready) -> None:
    app = build_app(settings)
    dp, _ = build_dispatcher(app, bot)
    wecom = http = None
    try:
        if settings.wecom_enabled:
            from .wecom.channel import build_wecom  # WeChat beside Telegram (README: WeChat)

            wecom = build_wecom(app, dp["senders"])
        routes = [wecom.routes] if wecom is not None else []
        ingress = make_ingress(settings, dp, bot, routes)
        await ingress.prepare()
        if wecom is not None and not settings.webhook_mode:
            from .web_server import HttpServer

            http = HttpServer(settings.web_host, settings.web_port, routes)
            await http.start()
        async with background_jobs(app, dp["senders"]) as runner:
            if wecom is not None:
                wecom.attach(runner)
            signals = (signal.SIGTERM, signal.SIGINT) if handle_signals else ()
            loop = asyncio.get_running_loop()
            for sig in signals:
                with suppress(NotImplementedError):  # no signal handlers on Windows
                    loop.add_signal_handler(sig, ingress.request_stop)
            try:
                if on_ready is not None:
                    on_ready(ingress)
                await ingress.run()
            finally:
                for sig in signals:
                    with suppress(NotImplementedError):
                        loop.remove_signal_handler(sig)
    finally:
        if http is not None:
            await http.stop()
        # after the jobs stopped: nothing sends any more (Redis connections, own sqlite handle)
        for sender in dp.get("senders", {}).values():
            close = getattr(sender, "close", None)
            if close is not None:
                with suppress(Exception):
                    await close()
        await app.db.dispose()
