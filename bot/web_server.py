"""The bot's HTTP server when Telegram is not in webhook mode: WeChat's callback
(bot/wecom/callback.py) and /healthz on WEB_HOST:WEB_PORT. In webhook mode the webhook's server
(bot/webhook.py) carries the same routes on the same port."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence

from aiohttp import web

log = logging.getLogger(__name__)

HEALTH_PATH = "/healthz"
SHUTDOWN_GRACE = 8.0

Routes = Callable[[web.Application], None]


async def healthz(_request: web.Request) -> web.Response:
    return web.Response(text="ok")


def make_app(routes: Sequence[Routes]) -> web.Application:
    app = web.Application(client_max_size=256 * 1024)
    app.router.add_get(HEALTH_PATH, healthz)
    for add in routes:
        add(app)
    return app


class HttpServer:
    def __init__(self, host: str, port: int, routes: Sequence[Routes]):
        self.host, self.port, self.routes = host, port, list(routes)
        self.runner: web.AppRunner | None = None

    async def start(self) -> None:
        self.runner = web.AppRunner(
            make_app(self.routes), access_log=None, shutdown_timeout=SHUTDOWN_GRACE
        )
        await self.runner.setup()
        try:
            site = web.TCPSite(self.runner, self.host, self.port)
            await site.start()
        except BaseException:
            await self.runner.cleanup()
            raise
        if self.port == 0:  # a free port was asked for (tests): the one given
            self.port = self.runner.addresses[0][1]
        log.info("http server: %s:%s", self.host, self.port)

    async def stop(self) -> None:
        if self.runner is not None:
            await self.runner.cleanup()  # requests in progress finish
            self.runner = None
