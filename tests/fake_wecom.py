"""A fake WeCom 微信客服 server over real HTTP (aiohttp on 127.0.0.1, a random port).

    async with FakeWeCom() as fake:
        api = WeComApi(fake.url, fake.corp_id, fake.secret)
        fake.owner_says("wmOwner1", "厨房水管漏水")
        await fake.ring("http://127.0.0.1:8080/wecom/callback")  # the signed kf_msg_or_event
        ...
        print("\\n".join(fake.transcript()))

It answers gettoken, kf/sync_msg, kf/send_msg, kf/send_msg_on_event and media/get like WeCom
(JSON with errcode/errmsg; the rules live in tests/fake_wecom_store.py), and posts callbacks
like WeCom: signed and encrypted, dropped after `callback_timeout` seconds (5 in WeCom) and
posted again, 3 attempts in all."""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, Self
from urllib.parse import quote

import aiohttp
from aiohttp import web

from bot.wecom.crypto import WeComCrypto, build_xml
from tests.fake_wecom_store import INVALID_MEDIA, INVALID_PARAMETER, KfWorld, Refused

CALLBACK_ATTEMPTS = 3


@dataclass(frozen=True)
class CallbackAttempt:
    attempt: int
    msg_token: str
    status: int | None  # None: no answer in time, or the connection failed
    body: str | None
    error: str | None


@dataclass(frozen=True)
class Handshake:
    status: int
    body: str
    echo: str  # what a correct server answers


@asynccontextmanager
async def serve(handler: Callable[[web.Request], Awaitable[web.StreamResponse]], path: str = "/"):
    """A throwaway server for our side of a callback: yields its URL."""
    app = web.Application()
    app.router.add_route("*", path, handler)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        yield f"http://127.0.0.1:{port}{path}"
    finally:
        await runner.cleanup()


def _disposition(filename: str) -> str:
    if filename.isascii():
        return f'attachment; filename="{filename}"'
    return f"attachment; filename*=UTF-8''{quote(filename)}"


class FakeWeCom(KfWorld):
    def __init__(
        self,
        corp_id: str = "ww0fake0corp0id01",
        secret: str = "fake-kf-secret",
        token: str = "FakeCallbackToken",
        aes_key: str = "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C",
        open_kfid: str = "wkFakeKf0001",
        callback_timeout: float = 5.0,
    ):
        super().__init__(corp_id, secret, open_kfid)
        self.crypto = WeComCrypto(token, aes_key, corp_id)
        self.callback_timeout = callback_timeout
        self.callbacks: list[CallbackAttempt] = []
        self.calls: list[str] = []  # the path of every API request, in order
        self.failures: dict[str, list[tuple[int, dict[str, Any]]]] = {}
        self.last_msg_token = ""
        self.url = ""
        self._runner: web.AppRunner | None = None

    async def __aenter__(self) -> Self:
        app = web.Application()
        app.router.add_get("/cgi-bin/gettoken", self._handle)
        app.router.add_get("/cgi-bin/media/get", self._handle)
        for name in ("sync_msg", "send_msg", "send_msg_on_event"):
            app.router.add_post(f"/cgi-bin/kf/{name}", self._handle)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url = f"http://127.0.0.1:{port}"
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._runner:
            await self._runner.cleanup()

    def fail_next(self, path: str, errcode: int = -1, status: int = 200) -> None:
        """The next request to path (e.g. "/cgi-bin/kf/send_msg") gets this answer instead."""
        body = {"errcode": errcode, "errmsg": "scripted failure"} if status < 500 else {}
        self.failures.setdefault(path, []).append((status, body))

    # -- the API -----------------------------------------------------------------------------
    async def _handle(self, request: web.Request) -> web.StreamResponse:
        path = request.path
        self.calls.append(path)
        if self.failures.get(path):
            status, body = self.failures[path].pop(0)
            return web.json_response(body, status=status)
        try:
            if path == "/cgi-bin/gettoken":
                q = request.query
                answer = self.issue_access_token(q.get("corpid", ""), q.get("corpsecret", ""))
            else:
                self.check_access_token(request.query.get("access_token"))
                if path == "/cgi-bin/media/get":
                    return self._media(request.query.get("media_id", ""))
                answer = self._post(path, await self._json(request))
        except Refused as r:
            return web.json_response({"errcode": r.errcode, "errmsg": r.errmsg})
        return web.json_response({"errcode": 0, "errmsg": "ok"} | answer)

    @staticmethod
    async def _json(request: web.Request) -> dict[str, Any]:
        try:
            body = await request.json()
        except ValueError:
            raise Refused(INVALID_PARAMETER, "Warning: wrong json format.") from None
        if not isinstance(body, dict):
            raise Refused(INVALID_PARAMETER, "Warning: wrong json format.")
        return body

    def _post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        if path == "/cgi-bin/kf/sync_msg":
            return self.sync(body)
        if path == "/cgi-bin/kf/send_msg":
            return {"msgid": self.send(body)}
        return {"msgid": self.send_on_event(body)}

    def _media(self, media_id: str) -> web.StreamResponse:
        if media_id not in self.media:
            raise Refused(INVALID_MEDIA, "invalid media_id")
        content, content_type, filename = self.media[media_id]
        headers = {"Content-Disposition": _disposition(filename)}
        return web.Response(body=content, content_type=content_type, headers=headers)

    # -- files the owner sends, for media/get ----------------------------------------------------
    def add_media(self, content: bytes, content_type: str, filename: str) -> str:
        media_id = "MEDIA" + secrets.token_urlsafe(16)
        self.media[media_id] = (content, content_type, filename)
        return media_id

    def owner_sends_media(
        self, uid: str, msgtype: str, content: bytes, content_type: str, filename: str
    ) -> str:
        media_id = self.add_media(content, content_type, filename)
        self.lines.append(f"owner {uid} sends {msgtype} {filename}")
        self._queue(uid, msgtype, {"media_id": media_id})
        return media_id

    def owner_sends_image(
        self, uid: str, content: bytes = b"\xff\xd8\xff\xe0fake-jpeg", filename: str = "photo.jpg"
    ) -> str:
        return self.owner_sends_media(uid, "image", content, "image/jpeg", filename)

    # -- callbacks to our server -------------------------------------------------------------
    async def ring(self, callback_url: str) -> list[CallbackAttempt]:
        """WeCom's kf_msg_or_event: "there are messages, sync_msg with this Token"."""
        token = self.last_msg_token = self.issue_msg_token()
        event = {
            "ToUserName": self.corp_id,
            "CreateTime": str(self.now),
            "MsgType": "event",
            "Event": "kf_msg_or_event",
            "Token": token,
            "OpenKfId": self.open_kfid,
        }
        timestamp, nonce = str(self.now), str(secrets.randbelow(10**9))
        body, sig = self.crypto.seal(build_xml(event), timestamp, nonce)
        params = {"msg_signature": sig, "timestamp": timestamp, "nonce": nonce}
        attempts: list[CallbackAttempt] = []
        timeout = aiohttp.ClientTimeout(total=self.callback_timeout)
        async with aiohttp.ClientSession(timeout=timeout) as session:
            for n in range(1, CALLBACK_ATTEMPTS + 1):
                attempt = await self._post_callback(session, callback_url, params, body, n, token)
                attempts.append(attempt)
                self.callbacks.append(attempt)
                if attempt.status is not None and 200 <= attempt.status < 300:
                    break
        return attempts

    @staticmethod
    async def _post_callback(
        session: aiohttp.ClientSession,
        url: str,
        params: dict[str, str],
        body: bytes,
        n: int,
        token: str,
    ) -> CallbackAttempt:
        headers = {"Content-Type": "text/xml"}
        try:
            async with session.post(url, params=params, data=body, headers=headers) as answer:
                return CallbackAttempt(n, token, answer.status, await answer.text(), None)
        except (TimeoutError, aiohttp.ClientError) as e:
            return CallbackAttempt(n, token, None, None, type(e).__name__)

    async def verify_url(self, callback_url: str) -> Handshake:
        """The GET handshake WeCom makes when the callback URL is saved."""
        echo = str(secrets.randbelow(10**19))
        timestamp, nonce = str(self.now), str(secrets.randbelow(10**9))
        echostr = self.crypto.encrypt(echo)
        params = {
            "msg_signature": self.crypto.sign(timestamp, nonce, echostr),
            "timestamp": timestamp,
            "nonce": nonce,
            "echostr": echostr,
        }
        timeout = aiohttp.ClientTimeout(total=self.callback_timeout)
        async with (
            aiohttp.ClientSession(timeout=timeout) as session,
            session.get(callback_url, params=params) as answer,
        ):
            return Handshake(answer.status, await answer.text(), echo)
