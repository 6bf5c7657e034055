"""Tencent Cloud SMS: the TC3-HMAC-SHA256 signature against a derivation written here from the
documented steps, and the sender against a fake service that checks signatures itself."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time
from datetime import UTC, datetime

import httpx
import pytest

from bot.sms.sender import SmsResult, SmsSender, mask_phone
from bot.sms.tencent import TencentSms, tc3_authorization
from dialogs.clock import FakeClock

from .fake_sms import FakeTencentSms

SECRET_ID = "AKIDtestid0000000000000000000000000"
SECRET_KEY = "testkey-never-logged-0000000000000"
PHONE = "+8613800000301"
NOW = datetime(2026, 11, 23, 17, 30, tzinfo=UTC)  # already the 24th in Shanghai; UTC decides


def _documented_authorization(
    secret_id: str, secret_key: str, timestamp: int, headers: dict[str, str], body: bytes
) -> str:
    """Tencent Cloud's 签名方法 v3, step by step, for a POST to / with no query string."""
    # 1. the canonical request
    signed = sorted(headers, key=str.lower)
    canonical_headers = "".join(f"{h.lower()}:{headers[h].strip().lower()}\n" for h in signed)
    signed_headers = ";".join(h.lower() for h in signed)
    canonical_request = "POST\n/\n\n" + canonical_headers + "\n" + signed_headers + "\n"
    canonical_request += hashlib.sha256(body).hexdigest()
    # 2. the string to sign
    date = time.strftime("%Y-%m-%d", time.gmtime(timestamp))
    scope = date + "/sms/tc3_request"
    hashed_request = hashlib.sha256(canonical_request.encode("utf-8")).hexdigest()
    string_to_sign = "TC3-HMAC-SHA256\n" + str(timestamp) + "\n" + scope + "\n" + hashed_request
    # 3. the signature, with the key derived through the date, the service and tc3_request
    secret_date = hmac.new(("TC3" + secret_key).encode(), date.encode(), "sha256").digest()
    secret_service = hmac.new(secret_date, b"sms", "sha256").digest()
    secret_signing = hmac.new(secret_service, b"tc3_request", "sha256").digest()
    signature = hmac.new(secret_signing, string_to_sign.encode(), "sha256").hexdigest()
    # 4. the Authorization header
    return (
        "TC3-HMAC-SHA256 Credential=" + secret_id + "/" + scope + ", "
        "SignedHeaders=" + signed_headers + ", Signature=" + signature
    )


def _sender(url: str | None, key: str = SECRET_KEY, http=None) -> TencentSms:
    return TencentSms(
        url, SECRET_ID, key, "1400000001", "悦居物业", "2001", http=http, clock=FakeClock(NOW)
    )


def test_the_signature_matches_the_documented_derivation_for_fixed_inputs():
    headers = {
        "Content-Type": "application/json; charset=utf-8",
        "Host": "sms.tencentcloudapi.com",
        "X-TC-Action": "SendSms",
    }
    body = '{"PhoneNumberSet":["+8613800000301"],"SignName":"悦居物业"}'.encode()
    for timestamp in (1551113065, int(NOW.timestamp())):
        got = tc3_authorization(
            secret_id=SECRET_ID,
            secret_key=SECRET_KEY,
            service="sms",
            timestamp=timestamp,
            headers=headers,
            payload=body,
        )
        assert got == _documented_authorization(SECRET_ID, SECRET_KEY, timestamp, headers, body)
    assert f"Credential={SECRET_ID}/2019-02-25/sms/tc3_request," in tc3_authorization(
        secret_id=SECRET_ID,
        secret_key=SECRET_KEY,
        service="sms",
        timestamp=1551113065,
        headers=headers,
        payload=body,
    )


async def test_the_request_sent_is_signed_as_documented():
    """The whole request as it leaves: SendSms's headers and body, and an Authorization that
    the documented steps reproduce from what was actually sent."""
    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        ok = {"SendStatusSet": [{"Code": "Ok", "PhoneNumber": PHONE}], "RequestId": "r-1"}
        return httpx.Response(200, json={"Response": ok})

    async with httpx.AsyncClient(transport=httpx.MockTransport(answer)) as http:
        result = await _sender(None, http=http).send_code(PHONE, "604213")
    assert result == SmsResult(True, None, "r-1")
    (req,) = seen
    assert (req.method, req.url.host, req.url.raw_path) == ("POST", "sms.tencentcloudapi.com", b"/")
    h = req.headers
    assert h["Host"] == "sms.tencentcloudapi.com"
    assert (h["X-TC-Action"], h["X-TC-Version"], h["X-TC-Region"]) == (
        "SendSms",
        "2021-01-11",
        "ap-guangzhou",
    )
    assert h["X-TC-Timestamp"] == str(int(NOW.timestamp()))
    assert json.loads(req.content) == {
        "PhoneNumberSet": [PHONE],
        "SmsSdkAppId": "1400000001",
        "SignName": "悦居物业",
        "TemplateId": "2001",
        "TemplateParamSet": ["604213"],
    }
    signed = h["Authorization"].split("SignedHeaders=")[1].split(",")[0].split(";")
    assert {"content-type", "host"} <= set(signed)
    expected = _documented_authorization(
        SECRET_ID, SECRET_KEY, int(NOW.timestamp()), {n: h[n] for n in signed}, req.content
    )
    assert h["Authorization"] == expected
    assert "/2026-11-23/sms/tc3_request" in expected  # the UTC date, not Shanghai's


@pytest.fixture
async def fake():
    server = FakeTencentSms(SECRET_ID, SECRET_KEY)
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


async def test_a_code_is_sent_and_recorded_by_the_provider(fake, caplog):
    sender: SmsSender = _sender(fake.url)
    with caplog.at_level(logging.DEBUG):
        result = await sender.send_code(PHONE, "604213")
        again = await sender.send_code(PHONE, "118822")
    assert result.ok and result.reason is None and result.request_id == "req-1"
    assert again.ok and again.request_id == "req-2"
    assert fake.sent == {PHONE: ["604213", "118822"]}
    # signed for the test server's host, which is the Host the request carried
    assert fake.requests[0]["headers"]["Host"] == fake.url.removeprefix("http://")
    # neither the phone in full, nor the code, nor the secret is logged
    assert "+*********0301" in caplog.text
    for secret in ("13800000301", "604213", SECRET_KEY):
        assert secret not in caplog.text


async def test_a_wrong_key_is_refused_by_the_signature_check(fake, caplog):
    with caplog.at_level(logging.WARNING):
        result = await _sender(fake.url, key="not-the-key").send_code(PHONE, "604213")
    assert result == SmsResult(False, "AuthFailure.SignatureFailure", "req-1")
    assert fake.sent == {}
    assert "AuthFailure.SignatureFailure" in caplog.text and "13800000301" not in caplog.text


async def test_a_request_changed_after_signing_is_refused(fake):
    """The fake checks what it receives: the same signed headers with another body fail."""
    headers, payload = _sender(fake.url).request(PHONE, "604213")
    forged = payload.replace(b"604213", b"000000")
    async with httpx.AsyncClient() as http:
        answer = (await http.post(fake.url, headers=headers, content=forged)).json()
        assert answer["Response"]["Error"]["Code"] == "AuthFailure.SignatureFailure"
        answer = (await http.post(fake.url, headers=headers, content=payload)).json()
        assert answer["Response"]["SendStatusSet"][0]["Code"] == "Ok"
    assert fake.sent == {PHONE: ["604213"]}


async def test_provider_errors_are_reported_with_their_code(fake):
    fake.error = "LimitExceeded"
    result = await _sender(fake.url).send_code(PHONE, "604213")
    assert result == SmsResult(False, "LimitExceeded", "req-1")

    fake.error, fake.number_status = None, "LimitExceeded.PhoneNumberDailyLimit"
    result = await _sender(fake.url).send_code(PHONE, "604213")
    assert result == SmsResult(False, "LimitExceeded.PhoneNumberDailyLimit", "req-2")
    assert fake.sent == {}


async def test_an_unreachable_provider_is_a_result_not_an_exception():
    server = FakeTencentSms(SECRET_ID, SECRET_KEY)
    await server.start()
    url = server.url
    await server.stop()  # nothing listens there now
    result = await _sender(url).send_code(PHONE, "604213")
    assert result == SmsResult(False, "network", None)


def test_phone_numbers_are_masked_but_their_last_four_digits():
    assert mask_phone("+8613800000301") == "+*********0301"
    assert mask_phone("13800000301") == "*******0301"
    assert "SECRET" not in repr(_sender(None, key="SECRET"))
