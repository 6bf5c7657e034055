"""A small fake of Tencent Cloud SMS (API 3.0 SendSms) over real HTTP on 127.0.0.1.

It checks each request's TC3-HMAC-SHA256 signature itself, from the headers and body as they
arrived (the way the real service does, not by calling the sender's code), answers a bad one
with AuthFailure.SignatureFailure, records the codes sent to each phone, and can be told to
fail: a request-level error (Response.Error) or a per-number refusal (SendStatusSet)."""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import re
from collections import defaultdict
from datetime import UTC, datetime
from functools import reduce
from typing import Any

from aiohttp import web

_AUTH = re.compile(
    r"^TC3-HMAC-SHA256 Credential=(?P<id>[^/]+)/(?P<date>\d{4}-\d{2}-\d{2})/(?P<service>[^/]+)"
    r"/tc3_request, SignedHeaders=(?P<headers>[a-z0-9;-]+), Signature=(?P<sig>[0-9a-f]{64})$"
)


class FakeTencentSms:
    def __init__(self, secret_id: str, secret_key: str):
        self.keys = {secret_id: secret_key}
        self.sent: dict[str, list[str]] = defaultdict(list)  # phone -> codes, in order
        self.requests: list[dict[str, Any]] = []  # every request: headers and body as received
        self.error: str | None = None  # e.g. "LimitExceeded": the whole request refused
        self.number_status: str | None = None  # e.g. "LimitExceeded.PhoneNumberDailyLimit"
        self._ids = itertools.count(1)
        self.runner: web.AppRunner | None = None
        self.url = ""

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/", self._handle)
        self.runner = web.AppRunner(app)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url = f"http://127.0.0.1:{port}"

    async def stop(self) -> None:
        if self.runner:
            await self.runner.cleanup()

    async def _handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        self.requests.append({"headers": dict(request.headers), "body": body})
        request_id = f"req-{next(self._ids)}"
        refusal = self._check_signature(request, body)
        if refusal is None and request.headers.get("X-TC-Action") != "SendSms":
            refusal = "InvalidAction"
        if refusal is None and request.headers.get("X-TC-Version") != "2021-01-11":
            refusal = "NoSuchVersion"
        if refusal is None and self.error:
            refusal = self.error
        if refusal is not None:
            return _answer({"Error": {"Code": refusal, "Message": refusal}}, request_id)
        params = json.loads(body)
        statuses = []
        for phone in params["PhoneNumberSet"]:
            if self.number_status:
                statuses.append({"PhoneNumber": phone, "Code": self.number_status})
                continue
            self.sent[phone].extend(params["TemplateParamSet"])
            statuses.append({"PhoneNumber": phone, "Code": "Ok", "Message": "send success"})
        return _answer({"SendStatusSet": statuses}, request_id)

    def _check_signature(self, request: web.Request, body: bytes) -> str | None:
        """None when the signature holds; the service's error code otherwise."""
        m = _AUTH.match(request.headers.get("Authorization", ""))
        if m is None:
            return "AuthFailure.SignatureFailure"
        key = self.keys.get(m["id"])
        if key is None:
            return "AuthFailure.SecretIdNotFound"
        names = m["headers"].split(";")
        if not {"content-type", "host"} <= set(names) or names != sorted(names):
            return "AuthFailure.SignatureFailure"
        stamp = request.headers.get("X-TC-Timestamp", "")
        if not stamp.isdigit() or m["date"] != _utc_date(int(stamp)):
            return "AuthFailure.SignatureFailure"
        canonical_headers = ""
        for name in names:
            canonical_headers += name + ":" + request.headers.get(name, "").strip().lower() + "\n"
        canonical = (
            f"{request.method}\n/\n\n{canonical_headers}\n{m['headers']}\n"
            + hashlib.sha256(body).hexdigest()
        )
        to_sign = "TC3-HMAC-SHA256\n{}\n{}/{}/tc3_request\n{}".format(
            stamp, m["date"], m["service"], hashlib.sha256(canonical.encode()).hexdigest()
        )
        derived = reduce(
            lambda k, part: hmac.new(k, part.encode(), hashlib.sha256).digest(),
            [m["date"], m["service"], "tc3_request"],
            ("TC3" + key).encode(),
        )
        expected = hmac.new(derived, to_sign.encode(), hashlib.sha256).hexdigest()
        if m["service"] != "sms" or not hmac.compare_digest(expected, m["sig"]):
            return "AuthFailure.SignatureFailure"
        return None


def _utc_date(timestamp: int) -> str:
    return datetime.fromtimestamp(timestamp, UTC).date().isoformat()


def _answer(response: dict[str, Any], request_id: str) -> web.Response:
    return web.json_response({"Response": {**response, "RequestId": request_id}})
