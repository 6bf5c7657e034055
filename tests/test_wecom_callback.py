"""WeChat's callback on the bot's HTTP server, over real HTTP: the URL check answers the
decrypted echostr; a kf_msg_or_event is answered `success` at once and only rings the puller;
anything not signed by WeCom, or malformed, is refused with 403/400 and logged once, never 500."""

from __future__ import annotations

import base64
import logging

import aiohttp
import pytest

from bot.web_server import HttpServer
from bot.wecom.callback import WeComCallback
from bot.wecom.crypto import WeComCrypto, build_xml

from .fake_wecom import FakeWeCom

CORP = "ww1436e0e65a779aee"
TOKEN = "hJqcu3uJ9Tn2gXPmxx2w9kkCkCE2EPYo"
AES = "6qkdMrq68nTKduznJYO1A37W2oEgpkMUvkttRToqhUt"


@pytest.fixture
async def served():
    rings: list[tuple[str, str]] = []
    callback = WeComCallback(WeComCrypto(TOKEN, AES, CORP), lambda k, t: rings.append((k, t)))
    server = HttpServer("127.0.0.1", 0, [callback.routes])
    await server.start()
    try:
        yield f"http://127.0.0.1:{server.port}/wecom/callback", rings
    finally:
        await server.stop()


async def test_the_url_check_answers_the_decrypted_echostr_of_the_public_vector(served):
    url, _ = served
    query = {
        "msg_signature": "012bc692d0a58dd4b10f8dfe5c4ac00ae211ebeb",
        "timestamp": "1476416373",
        "nonce": "47744683",
        "echostr": "fsi1xnbH4yQh0+PJxcOdhhK6TDXkjMyhEPA7xB2TGz6b+g7xyAbEkRxN/3cNXW9qdqjnoVzEtpbhnFyq6SVHyA==",
    }
    async with aiohttp.ClientSession() as http, http.get(url, params=query) as r:
        assert r.status == 200 and await r.text() == "1288432023552776189"
    query["msg_signature"] = "0" * 40
    async with aiohttp.ClientSession() as http, http.get(url, params=query) as r:
        assert r.status == 403


async def test_the_fake_servers_own_check_and_ring_are_answered(served):
    url, rings = served
    async with FakeWeCom(corp_id=CORP, token=TOKEN, aes_key=AES, open_kfid="wkDesk") as fake:
        shake = await fake.verify_url(url)
        assert shake.status == 200 and shake.body == shake.echo
        attempts = await fake.ring(url)
    # answered the first time: WeCom does not post it again
    assert [a.status for a in attempts] == [200] and attempts[0].body == "success"
    assert rings == [("wkDesk", attempts[0].msg_token)]


async def test_anything_not_from_wecom_is_refused_and_logged_once_without_a_500(served, caplog):
    url, rings = served
    crypto = WeComCrypto(TOKEN, AES, CORP)
    event = build_xml({"ToUserName": CORP, "Event": "kf_msg_or_event", "Token": "t"})
    sealed = crypto.seal(event, "1700000000", "n1")
    good = {"msg_signature": sealed.msg_signature, "timestamp": "1700000000", "nonce": "n1"}
    other = WeComCrypto(TOKEN, AES, "wwSomebodyElse")
    foreign = other.seal(event, "1700000000", "n1")
    cases = [
        ({**good, "msg_signature": "f" * 40}, sealed.body, 403),  # bad signature
        ({**good, "timestamp": "1700000001"}, sealed.body, 403),  # replayed with another time
        ({}, sealed.body, 400),  # no query at all
        (
            {**good, "msg_signature": foreign.msg_signature},
            foreign.body,
            400,  # signed right, but for another company: receiveid refused
        ),
        (good, b"<xml><Encrypt>not base64 at all</Encrypt></xml>", 403),
        (good, b"not xml", 400),
        (good, b'<!DOCTYPE x [<!ENTITY a "aaaa">]><xml><Encrypt>&a;</Encrypt></xml>', 400),
    ]
    async with aiohttp.ClientSession() as http:
        for query, body, status in cases:
            caplog.clear()
            with caplog.at_level(logging.WARNING, logger="bot.wecom.callback"):
                async with http.post(url, params=query, data=body) as r:
                    assert r.status == status, (query, body)
            assert len(caplog.records) == 1
        async with http.post(url, params=good, data=sealed.body) as r:
            assert r.status == 200 and await r.text() == "success"
    assert rings == [("", "t")]


def test_the_aes_key_setting_is_checked_at_load():
    from bot.settings import Settings, SettingsError

    with pytest.raises(SettingsError, match="WECOM_AES_KEY"):
        Settings.load({"WECOM_AES_KEY": base64.b64encode(b"short").decode()}, dotenv=None)
