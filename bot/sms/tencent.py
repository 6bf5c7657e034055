"""Tencent Cloud SMS (API 3.0, SendSms of version 2021-01-11): one verification code to one
phone, the request signed with TC3-HMAC-SHA256 as Tencent Cloud's "签名方法 v3" describes:
a canonical request, a string to sign, a key derived from the secret through the date, the
service and "tc3_request", and the signature in the Authorization header.

Neither the secret nor the code is ever logged, and a phone number only with its last 4 digits."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import httpx

from dialogs.clock import Clock, SystemClock

from .sender import SmsResult, mask_phone

log = logging.getLogger(__name__)

DEFAULT_API_URL = "https://sms.tencentcloudapi.com"
SERVICE = "sms"
VERSION = "2021-01-11"
ACTION = "SendSms"
ALGORITHM = "TC3-HMAC-SHA256"
CONTENT_TYPE = "application/json; charset=utf-8"
TIMEOUT_SECONDS = 10.0


def _hmac(key: bytes, msg: str) -> bytes:
    return hmac.new(key, msg.encode("utf-8"), hashlib.sha256).digest()


def tc3_authorization(
    *,
    secret_id: str,
    secret_key: str,
    service: str,
    timestamp: int,
    headers: Mapping[str, str],
    payload: bytes,
    method: str = "POST",
    path: str = "/",
    query: str = "",
) -> str:
    """The Authorization header value for a request with these headers (every one is signed:
    names and values lower-cased and trimmed, sorted by name) and this body."""
    canon = {k.lower(): v.strip().lower() for k, v in headers.items()}
    names = sorted(canon)
    canonical_request = "\n".join(
        [
            method,
            path,
            query,
            "".join(f"{n}:{canon[n]}\n" for n in names),
            ";".join(names),
            hashlib.sha256(payload).hexdigest(),
        ]
    )
    date = datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d")
    scope = f"{date}/{service}/tc3_request"
    string_to_sign = "\n".join(
        [ALGORITHM, str(timestamp), scope, hashlib.sha256(canonical_request.encode()).hexdigest()]
    )
    key = _hmac(_hmac(_hmac(f"TC3{secret_key}".encode(), date), service), "tc3_request")
    signature = hmac.new(key, string_to_sign.encode(), hashlib.sha256).hexdigest()
    return (
        f"{ALGORITHM} Credential={secret_id}/{scope}, "
        f"SignedHeaders={';'.join(names)}, Signature={signature}"
    )


class TencentSms:
    """An `SmsSender` (sender.py) over Tencent Cloud SMS."""

    def __init__(
        self,
        api_url: str | None,
        secret_id: str,
        secret_key: str,
        sdk_app_id: str,
        sign_name: str,
        template_id: str,
        region: str = "ap-guangzhou",
        http: httpx.AsyncClient | None = None,
        clock: Clock | None = None,
    ):
        self.api_url = api_url or DEFAULT_API_URL
        # signed as the Host the request carries: a test server's host and port
        url = urlsplit(self.api_url)
        self.host, self.path = url.netloc, url.path or "/"
        self.secret_id, self._secret_key = secret_id, secret_key
        self.sdk_app_id, self.sign_name, self.template_id = sdk_app_id, sign_name, template_id
        self.region = region
        self.http = http
        self.clock = clock or SystemClock()

    def __repr__(self) -> str:
        return f"TencentSms({self.api_url!r}, app={self.sdk_app_id!r})"  # never the secret

    def request(self, phone_e164: str, code: str) -> tuple[dict[str, str], bytes]:
        """The headers and body of one SendSms request, signed now."""
        body = {
            "PhoneNumberSet": [phone_e164],
            "SmsSdkAppId": self.sdk_app_id,
            "SignName": self.sign_name,
            "TemplateId": self.template_id,
            "TemplateParamSet": [code],
        }
        payload = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        timestamp = int(self.clock.now().timestamp())
        signed = {"Content-Type": CONTENT_TYPE, "Host": self.host, "X-TC-Action": ACTION}
        headers = {
            **signed,
            "X-TC-Timestamp": str(timestamp),
            "X-TC-Version": VERSION,
            "X-TC-Region": self.region,
            "Authorization": tc3_authorization(
                secret_id=self.secret_id,
                secret_key=self._secret_key,
                service=SERVICE,
                timestamp=timestamp,
                headers=signed,
                payload=payload,
                path=self.path,
            ),
        }
        return headers, payload

    async def send_code(self, phone_e164: str, code: str) -> SmsResult:
        headers, payload = self.request(phone_e164, code)
        who = mask_phone(phone_e164)
        try:
            if self.http is not None:
                resp = await self.http.post(self.api_url, headers=headers, content=payload)
            else:
                async with httpx.AsyncClient(timeout=TIMEOUT_SECONDS) as http:
                    resp = await http.post(self.api_url, headers=headers, content=payload)
            answer = resp.json()["Response"]
        except httpx.HTTPError as e:
            log.warning("sms: code to %s not sent: %s", who, type(e).__name__)
            return SmsResult(False, "network")
        except (ValueError, KeyError, TypeError):
            log.warning("sms: code to %s: unreadable answer (HTTP %s)", who, resp.status_code)
            return SmsResult(False, "bad_response")
        return _result(answer, who)


def _result(answer: Any, who: str) -> SmsResult:
    request_id = answer.get("RequestId") if isinstance(answer, dict) else None
    error = answer.get("Error") if isinstance(answer, dict) else None
    if error:
        reason = str(error.get("Code") or "error")
        log.warning("sms: code to %s refused: %s (request %s)", who, reason, request_id)
        return SmsResult(False, reason, request_id)
    statuses = answer.get("SendStatusSet") if isinstance(answer, dict) else None
    status = statuses[0] if isinstance(statuses, list) and statuses else {}
    code = status.get("Code") if isinstance(status, dict) else None
    if code == "Ok":
        log.info("sms: code sent to %s (request %s)", who, request_id)
        return SmsResult(True, None, request_id)
    reason = str(code or "bad_response")
    log.warning("sms: code to %s not sent: %s (request %s)", who, reason, request_id)
    return SmsResult(False, reason, request_id)
