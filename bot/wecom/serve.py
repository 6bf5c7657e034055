"""WeChat alone (the WECOM_* settings and no BOT_TOKEN): the callback on the bot's HTTP server,
the pull, WeChat's sender and the follow-ups. The agents' group is on Telegram: its rows wait in
the outbox until the bot runs with a token."""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Callable
from contextlib import suppress

from ..cli import migrate_database, one_scheduler
from ..factory import build_app, build_senders
from ..jobs import background_jobs
from ..settings import Settings
from ..web_server import HttpServer
from .channel import build_wecom

log = logging.getLogger("bot")


async def run_wecom(
    settings: Settings,
    *,
    handle_signals: bool = True,
    on_ready: Callable[[asyncio.Event], None] | None = None,
) -> None:
    """Serve until a signal (or until `on_ready`'s receiver sets the event it is given)."""
    await migrate_database(settings.database_url)
    with one_scheduler(settings.database_url):
        await _serve(settings, handle_signals, on_ready)


async def _serve(settings: Settings, handle_signals: bool, on_ready) -> None:
    app = build_app(settings)
    senders = build_senders(app, None)
    http = None
    try:
        wecom = build_wecom(app, senders)
        http = HttpServer(settings.web_host, settings.web_port, [wecom.routes])
        await http.start()
        log.info("WeChat channel: callback on %s:%s", settings.web_host, settings.web_port)
        stop = asyncio.Event()
        async with background_jobs(app, senders) as runner:
            wecom.attach(runner)
            loop = asyncio.get_running_loop()
            signals = (signal.SIGTERM, signal.SIGINT) if handle_signals else ()
            for sig in signals:
                with suppress(NotImplementedError):
                    loop.add_signal_handler(sig, stop.set)
            try:
                if on_ready is not None:
                    on_ready(stop)
                await stop.wait()
            finally:
                for sig in signals:
                    with suppress(NotImplementedError):
                        loop.remove_signal_handler(sig)
    finally:
        if http is not None:
            await http.stop()
        for sender in senders.values():
            close = getattr(sender, "close", None)
            if close is not None:
                with suppress(Exception):
                    await close()
        await app.db.dispose()
