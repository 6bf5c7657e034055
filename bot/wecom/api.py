"""Our client of the WeCom 微信客服 API over httpx: the access token, sync_msg, send_msg,
send_msg_on_event, media/get.

Every failure is a WeComError; its helpers say what the caller does next: retry later
(retryable), drop or reshape the message (budget_exhausted, invalid), or fetch without the
callback's token (msg_token_invalid). Retries are the caller's (the outbox has the backoff);
this client only refreshes the access token once when WeCom calls it stale.

The access token and the secret travel in query strings; they are never logged, and the
httpx logger's URLs are redacted (install_httpx_redaction)."""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from email.message import Message
from typing import Any, Self, TypeVar

import httpx

DEFAULT_BASE_URL = "https://qyapi.weixin.qq.com"
SYSTEM_BUSY = -1
NO_ANSWER = -99  # ours, never WeCom's: network error, timeout, 5xx, or a 200 that is not JSON
BAD_ANSWER = -98  # ours: a 4xx without JSON, or JSON without errcode (base_url is wrong)
TOKEN_ERRORS = frozenset({40001, 40014, 42001})
RETRYABLE = frozenset({SYSTEM_BUSY, NO_ANSWER, 45009, 45033})  # busy, no answer, rate limits
BUDGET_EXHAUSTED = 95001  # 5 messages within 48 h of the owner's last one
INVALID_PARAMETER = 40058
MSG_TOKEN_INVALID = 95007  # the callback's Token is unknown or older than 10 minutes
_MSGID = re.compile(r"[0-9A-Za-z_-]{1,32}")
_SECRET_PARAM = re.compile(r"((?:access_token|corpsecret)=)[^&\s\"'<>]+")
T = TypeVar("T")
log = logging.getLogger(__name__)


def redact_url(text: str) -> str:
    return _SECRET_PARAM.sub(r"\1<redacted>", text)


class _RedactSecrets(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = redact_url(message)
        if redacted != message:
            record.msg, record.args = redacted, None
        return True


def install_httpx_redaction() -> None:
    """httpx logs every request URL at INFO; ours carry the token or the secret."""
    httpx_log = logging.getLogger("httpx")
    if not any(isinstance(f, _RedactSecrets) for f in httpx_log.filters):
        httpx_log.addFilter(_RedactSecrets())


class WeComError(Exception):
    def __init__(self, errcode: int, errmsg: str):
        super().__init__(f"wecom errcode {errcode}: {redact_url(errmsg)}")
        self.errcode = errcode
        self.errmsg = redact_url(errmsg)

    @property
    def retryable(self) -> bool:
        return self.errcode in RETRYABLE

    @property
    def permanent(self) -> bool:
        return not self.retryable

    @property
    def budget_exhausted(self) -> bool:
        return self.errcode == BUDGET_EXHAUSTED

    @property
    def invalid(self) -> bool:
        return self.errcode == INVALID_PARAMETER

    @property
    def msg_token_invalid(self) -> bool:
        return self.errcode == MSG_TOKEN_INVALID


@dataclass(frozen=True)
class SyncPage:
    next_cursor: str
    has_more: bool
    msgs: list[dict[str, Any]] = field(default_factory=list)


@dataclass(frozen=True)
class Media:
    content: bytes
    content_type: str
    filename: str | None


def _check_msgid(msgid: str | None) -> None:
    # WeCom: at most 32 bytes of [0-9a-zA-Z_-]; checked here so a bad outbox key fails loudly
    if msgid is not None and not _MSGID.fullmatch(msgid):
        raise ValueError("msgid must be 1-32 characters of [0-9A-Za-z_-]")


def _filename(disposition: str | None) -> str | None:
    if not disposition:
        return None
    header = Message()
    header["content-disposition"] = disposition
    return header.get_filename()


class WeComApi:
    def __init__(
        self,
        base_url: str,
        corp_id: str,
        secret: str,
        http: httpx.AsyncClient | None = None,
        *,
        timeout: float = 10.0,
        refresh_margin: float = 300.0,
        clock: Callable[[], float] = time.monotonic,
    ):
        self._base = base_url.rstrip("/")
        self._corp_id = corp_id
        self._secret = secret
        self._own_http = http is None
        self._http = http or httpx.AsyncClient()
        self._timeout = httpx.Timeout(timeout, connect=min(timeout, 5.0))
        self._margin = refresh_margin
        self._clock = clock
        self._token: str | None = None
        self._token_until = 0.0
        self._token_lock = asyncio.Lock()
        self.token_fetches = 0  # how many times gettoken was called (tests, metrics)
        install_httpx_redaction()

    async def aclose(self) -> None:
        if self._own_http:
            await self._http.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    # -- transport ---------------------------------------------------------------------------
    async def _send(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        try:
            return await self._http.request(
                method, self._base + path, timeout=self._timeout, **kwargs
            )
        except httpx.HTTPError as e:
            log.info("wecom %s unreachable: %s", path, type(e).__name__)
            raise WeComError(NO_ANSWER, f"{path}: {type(e).__name__}") from None

    @staticmethod
    def _decode(path: str, response: httpx.Response) -> dict[str, Any]:
        if response.status_code >= 500:
            raise WeComError(NO_ANSWER, f"{path}: http {response.status_code}")
        try:
            data = response.json()
        except ValueError:
            code = NO_ANSWER if response.is_success else BAD_ANSWER
            raise WeComError(code, f"{path}: http {response.status_code}, not JSON") from None
        if not isinstance(data, dict) or "errcode" not in data and not response.is_success:
            raise WeComError(BAD_ANSWER, f"{path}: http {response.status_code}")
        errcode = int(data.get("errcode", 0))
        if errcode:
            log.info("wecom %s errcode %s", path, errcode)
            raise WeComError(errcode, str(data.get("errmsg", "")))
        return data

    # -- access token ------------------------------------------------------------------------
    async def _access_token(self) -> str:
        async with self._token_lock:  # one gettoken however many calls find the token stale
            if self._token and self._clock() < self._token_until:
                return self._token
            params = {"corpid": self._corp_id, "corpsecret": self._secret}
            self.token_fetches += 1
            response = await self._send("GET", "/cgi-bin/gettoken", params=params)
            data = self._decode("/cgi-bin/gettoken", response)
            ttl = int(data.get("expires_in", 7200))
            self._token = str(data["access_token"])
            # refreshed ahead of expiry, so no call leaves with a token about to lapse
            self._token_until = self._clock() + max(ttl - self._margin, ttl / 2)
            return self._token

    async def _authorized(self, call: Callable[[str], Awaitable[T]]) -> T:
        token = await self._access_token()
        try:
            return await call(token)
        except WeComError as e:
            if e.errcode not in TOKEN_ERRORS:
                raise
        if self._token == token:  # another call may have refreshed it meanwhile
            self._token = None
        return await call(await self._access_token())

    async def _post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        async def call(token: str) -> dict[str, Any]:
            response = await self._send("POST", path, params={"access_token": token}, json=body)
            return self._decode(path, response)

        return await self._authorized(call)

    # -- the API -----------------------------------------------------------------------------
    async def sync_msg(
        self,
        cursor: str,
        token: str,
        open_kfid: str,
        limit: int = 1000,
        voice_format: int | None = None,
    ) -> SyncPage:
        body: dict[str, Any] = {"open_kfid": open_kfid, "limit": limit}
        if cursor:
            body["cursor"] = cursor
        if token:
            body["token"] = token
        if voice_format is not None:
            body["voice_format"] = voice_format
        data = await self._post("/cgi-bin/kf/sync_msg", body)
        return SyncPage(
            next_cursor=str(data.get("next_cursor") or cursor),
            has_more=bool(data.get("has_more")),
            msgs=list(data.get("msg_list") or []),
        )

    async def send_msg(
        self, touser: str, open_kfid: str, msgid: str | None, body: dict[str, Any]
    ) -> str:
        """body: {"msgtype": "text", "text": {"content": ...}} or msgmenu, image, ...; msgid
        is ours (the outbox row's key), so a retried send is recognised."""
        _check_msgid(msgid)
        payload = {"touser": touser, "open_kfid": open_kfid, **body}
        if msgid is not None:
            payload["msgid"] = msgid
        data = await self._post("/cgi-bin/kf/send_msg", payload)
        return str(data.get("msgid") or msgid or "")

    async def send_msg_on_event(
        self, code: str, body: dict[str, Any], msgid: str | None = None
    ) -> str:
        """The welcome message: code is the enter_session event's welcome_code (once, 20 s)."""
        _check_msgid(msgid)
        payload = {"code": code, **body}
        if msgid is not None:
            payload["msgid"] = msgid
        data = await self._post("/cgi-bin/kf/send_msg_on_event", payload)
        return str(data.get("msgid") or msgid or "")

    async def media_get(self, media_id: str, max_bytes: int = 20 * 1024 * 1024) -> Media:
        """A file the owner sent (image, voice, video, file), at most max_bytes long."""
        path = "/cgi-bin/media/get"

        async def call(token: str) -> Media:
            params = {"access_token": token, "media_id": media_id}
            try:
                async with self._http.stream(
                    "GET", self._base + path, params=params, timeout=self._timeout
                ) as response:
                    return await self._read_media(path, response, max_bytes)
            except httpx.HTTPError as e:
                raise WeComError(NO_ANSWER, f"{path}: {type(e).__name__}") from None

        return await self._authorized(call)

    async def _read_media(self, path: str, response: httpx.Response, max_bytes: int) -> Media:
        content_type = response.headers.get("content-type", "")
        disposition = response.headers.get("content-disposition")
        if not disposition or content_type.startswith(("application/json", "text/plain")):
            await response.aread()
            self._decode(path, response)  # WeCom's errors come as JSON
            raise WeComError(BAD_ANSWER, f"{path}: no file in the answer")
        chunks: list[bytes] = []
        size = 0
        async for chunk in response.aiter_bytes():
            size += len(chunk)
            if size > max_bytes:
                raise WeComError(BAD_ANSWER, f"{path}: file larger than {max_bytes} bytes")
            chunks.append(chunk)
        return Media(b"".join(chunks), content_type, _filename(disposition))
