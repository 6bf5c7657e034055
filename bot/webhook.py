"""Webhook mode (WEBHOOK_URL and WEBHOOK_SECRET set): the bot's HTTP server receives Telegram's
updates at /telegram/webhook and answers /healthz.

An update is answered 200 only after its step has committed (acknowledge after commit, as in
bot/acked_polling.py): Telegram delivers anything else again. A request without the right
secret header gets 401 and nothing is read from it; a body that is not an update gets 400 before
anything is stored; the database away gets 503, so Telegram tries again later. An update that
fails by itself is answered 500 a few times (POISON_ATTEMPTS, counted in this process), then
200 with the failure logged, so one bad update does not hold back the ones Telegram queues
behind it. Several instances may serve one PostgreSQL behind a proxy (README: Deployment)."""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
from collections import OrderedDict

from aiogram import Bot, Dispatcher
from aiogram.exceptions import TelegramAPIError, TelegramNetworkError
from aiogram.types import Update
from aiohttp import web
from pydantic import ValidationError

from .cli import StartupError
from .ingress import POISON_ATTEMPTS, describe, feed, is_transient
from .settings import Settings

log = logging.getLogger(__name__)

WEBHOOK_PATH = "/telegram/webhook"
HEALTH_PATH = "/healthz"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
# seconds a stop waits for requests in progress to finish their step
SHUTDOWN_GRACE = 8.0


class WebhookReceiver:
    def __init__(self, dp: Dispatcher, bot: Bot, secret: str):
        self.dp, self.bot = dp, bot
        self._secret = secret.encode()
        self._failures: OrderedDict[int, int] = OrderedDict()  # update id -> failed attempts

    async def receive(self, request: web.Request) -> web.Response:
        given = request.headers.get(SECRET_HEADER, "").encode("utf-8", "replace")
        if not hmac.compare_digest(given, self._secret):
            return web.Response(status=401)
        try:
            update = Update.model_validate(
                json.loads(await request.read()), context={"bot": self.bot}
            )
        except (ValueError, ValidationError):  # not JSON, not UTF-8, or not an update
            return web.Response(status=400)
        try:
            await feed(self.dp, self.bot, update)
        except Exception as e:  # noqa: BLE001 - the status code tells Telegram what to do
            return self._failed(update, e)
        self._failures.pop(update.update_id, None)
        return web.Response(text="ok")

    def _failed(self, update: Update, error: Exception) -> web.Response:
        if is_transient(error):
            log.warning(
                "%s not stored (%s); Telegram will retry", describe(update), type(error).__name__
            )
            return web.Response(status=503)
        failures = self._failures.pop(update.update_id, 0) + 1
        if failures >= POISON_ATTEMPTS:
            log.error("%s failed %d times; passed over", describe(update), failures, exc_info=error)
            return web.Response(text="passed over")
        self._failures[update.update_id] = failures
        while len(self._failures) > 1000:  # ids Telegram stopped retrying
            self._failures.popitem(last=False)
        log.warning("%s failed (%s); Telegram will retry", describe(update), type(error).__name__)
        return web.Response(status=500)


async def healthz(_request: web.Request) -> web.Response:
    return web.Response(text="ok")


def make_web_app(dp: Dispatcher, bot: Bot, secret: str, extra_routes=()) -> web.Application:
    app = web.Application()
    app.router.add_post(WEBHOOK_PATH, WebhookReceiver(dp, bot, secret).receive)
    app.router.add_get(HEALTH_PATH, healthz)
    for add in extra_routes:  # WeChat's callback, on the same port (bot/wecom/callback.py)
        add(app)
    return app


class WebhookServer:
    """prepare (listen, then setWebhook), run until stopped, as bot/acked_polling.py does."""

    def __init__(self, dp: Dispatcher, bot: Bot, settings: Settings, extra_routes=()):
        self.dp, self.bot, self.settings = dp, bot, settings
        self.extra_routes = list(extra_routes)
        self.runner: web.AppRunner | None = None
        self._stop = asyncio.Event()
        self._stopped = asyncio.Event()

    async def prepare(self) -> None:
        s = self.settings
        secret = s.webhook_secret.get_secret_value()
        # no access log: the dispatcher logs each update already
        self.runner = web.AppRunner(
            make_web_app(self.dp, self.bot, secret, self.extra_routes),
            access_log=None,
            shutdown_timeout=SHUTDOWN_GRACE,
        )
        await self.runner.setup()
        try:
            await web.TCPSite(self.runner, s.web_host, s.web_port).start()
            # listening first: Telegram's first delivery may follow setWebhook at once. Every
            # instance sets the same address; none deletes it on stop, the others still serve
            await self.bot.set_webhook(
                s.webhook_url,
                secret_token=secret,
                allowed_updates=self.dp.resolve_used_update_types(),
                drop_pending_updates=False,
            )
        except TelegramAPIError as e:
            await self.runner.cleanup()
            if isinstance(e, TelegramNetworkError):
                raise
            raise StartupError(
                "cli_webhook_refused", code=2, url=s.webhook_url, error=e.message
            ) from e
        except BaseException:
            await self.runner.cleanup()
            raise
        log.info("webhook mode: %s:%s%s", s.web_host, s.web_port, WEBHOOK_PATH)

    def request_stop(self) -> None:
        self._stop.set()

    async def stop(self) -> None:
        self._stop.set()
        await self._stopped.wait()

    async def run(self) -> None:
        self._stopped.clear()
        data = {"dispatcher": self.dp, "bots": (self.bot,), **self.dp.workflow_data}
        await self.dp.emit_startup(bot=self.bot, **data)
        try:
            await self._stop.wait()
        finally:
            try:
                if self.runner is not None:
                    await self.runner.cleanup()  # requests in progress finish their step
                await self.dp.emit_shutdown(bot=self.bot, **data)
            finally:
                self._stopped.set()
