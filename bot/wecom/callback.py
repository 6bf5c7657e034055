"""WeChat's callback on the bot's HTTP server: GET /wecom/callback answers the URL check (the
decrypted echostr, as bare text); POST /wecom/callback carries an encrypted event.

The `kf_msg_or_event` event only rings the bell: it is answered `success` at once (WeCom drops
the connection after 5 s and posts the same event again, 3 times in all) and the messages are
pulled in the background (bot/wecom/puller.py). Nothing from the internet is trusted before its
signature is checked: a bad signature gets 403, anything else malformed 400, each logged once
without its content; never a 500."""

from __future__ import annotations

import logging
from collections.abc import Callable

from aiohttp import web

from .crypto import CallbackRejected, WeComCrypto

log = logging.getLogger(__name__)

CALLBACK_PATH = "/wecom/callback"
MAX_BODY = 64 * 1024  # an envelope is a few hundred bytes; anything near this is not WeCom


class WeComCallback:
    def __init__(self, crypto: WeComCrypto, ring: Callable[[str, str], None]):
        self.crypto = crypto
        # ring(open_kfid, token): wakes the puller; returns at once
        self.ring = ring

    def routes(self, app: web.Application) -> None:
        app.router.add_get(CALLBACK_PATH, self.verify_url)
        app.router.add_post(CALLBACK_PATH, self.receive)

    @staticmethod
    def _query(request: web.Request, *names: str) -> list[str] | None:
        values = [request.query.get(n, "") for n in names]
        return values if all(values) else None

    def _rejected(self, e: CallbackRejected) -> web.Response:
        log.warning("wecom callback refused: %s", e.reason)
        return web.Response(status=403 if e.reason == "bad_signature" else 400)

    async def verify_url(self, request: web.Request) -> web.Response:
        """Saving the callback URL in the WeCom admin console: the echostr, decrypted."""
        q = self._query(request, "msg_signature", "timestamp", "nonce", "echostr")
        if q is None:
            log.warning("wecom callback refused: missing query parameters")
            return web.Response(status=400)
        try:
            echo = self.crypto.open_echostr(*q)
        except CallbackRejected as e:
            return self._rejected(e)
        return web.Response(text=echo, content_type="text/plain")

    async def receive(self, request: web.Request) -> web.Response:
        q = self._query(request, "msg_signature", "timestamp", "nonce")
        if q is None:
            log.warning("wecom callback refused: missing query parameters")
            return web.Response(status=400)
        if (request.content_length or 0) > MAX_BODY:
            log.warning("wecom callback refused: body too large")
            return web.Response(status=400)
        body = await request.content.read(MAX_BODY + 1)
        if len(body) > MAX_BODY:
            log.warning("wecom callback refused: body too large")
            return web.Response(status=400)
        try:
            event = self.crypto.open_callback(*q, body)
        except CallbackRejected as e:
            return self._rejected(e)
        if event.get("Event") == "kf_msg_or_event":
            self.ring(event.get("OpenKfId", ""), event.get("Token", ""))
        # anything else (another app's events on this URL) is acknowledged and left
        return web.Response(text="success", content_type="text/plain")
