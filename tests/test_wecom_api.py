"""Our WeCom client (bot/wecom/api.py) against the fake WeCom (tests/fake_wecom.py) over HTTP:
the access token, sync paging, the send budget, menus, welcome codes, media, and callbacks."""

from __future__ import annotations

import asyncio
import logging
import socket

import pytest
from aiohttp import web

from bot.wecom.api import NO_ANSWER, WeComApi, WeComError
from bot.wecom.crypto import CallbackRejected, WeComCrypto
from tests.fake_wecom import FakeWeCom, serve

OWNER = "wmOwnerWang01"
TEXT = {"msgtype": "text", "text": {"content": "您好,维修人员将在1小时内联系您。"}}


@pytest.fixture
async def fake():
    async with FakeWeCom(callback_timeout=0.5) as f:
        yield f


@pytest.fixture
async def api(fake):
    async with WeComApi(fake.url, fake.corp_id, fake.secret) as client:
        yield client


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _menu(n: int, item_id: str = "1", content: str = "报修") -> dict:
    item = {"type": "click", "click": {"id": item_id, "content": content}}
    return {"msgtype": "msgmenu", "msgmenu": {"head_content": "请选择", "list": [item] * n}}


async def _sync_all(api: WeComApi, fake: FakeWeCom, cursor: str = "", limit: int = 1000):
    pages = []
    while True:
        page = await api.sync_msg(cursor, "", fake.open_kfid, limit=limit)
        pages.append(page)
        cursor = page.next_cursor
        if not page.has_more:
            return pages


# -- the access token --------------------------------------------------------------------------
async def test_the_token_is_fetched_once_and_reused(fake, api):
    for _ in range(3):
        await api.sync_msg("", "", fake.open_kfid)
    assert fake.calls.count("/cgi-bin/gettoken") == 1 and api.token_fetches == 1


async def test_an_expired_token_is_refreshed_once_and_the_call_retried(fake, api):
    await api.sync_msg("", "", fake.open_kfid)
    fake.expire_tokens()
    fake.owner_says(OWNER, "还在吗")
    page = await api.sync_msg("", "", fake.open_kfid)
    assert [m["text"]["content"] for m in page.msgs] == ["还在吗"]
    sync, get = "/cgi-bin/kf/sync_msg", "/cgi-bin/gettoken"
    assert fake.calls == [get, sync, sync, get, sync]  # refused once, refreshed, retried


async def test_the_token_is_refreshed_ahead_of_its_expiry(fake):
    clock = Clock()
    async with WeComApi(fake.url, fake.corp_id, fake.secret, clock=clock) as api:
        await api.sync_msg("", "", fake.open_kfid)
        clock.now += 7200 - 300 - 1
        await api.sync_msg("", "", fake.open_kfid)
        assert api.token_fetches == 1
        clock.now += 2
        await api.sync_msg("", "", fake.open_kfid)
    # no call with a stale token first: the new token was fetched before the call
    sync, get = "/cgi-bin/kf/sync_msg", "/cgi-bin/gettoken"
    assert fake.calls == [get, sync, sync, get, sync] and api.token_fetches == 2


async def test_a_token_still_refused_after_refresh_is_an_error_not_a_loop(fake, api):
    fake.fail_next("/cgi-bin/kf/sync_msg", errcode=42001)
    fake.fail_next("/cgi-bin/kf/sync_msg", errcode=42001)
    with pytest.raises(WeComError) as info:
        await api.sync_msg("", "", fake.open_kfid)
    assert info.value.errcode == 42001
    assert fake.calls == ["/cgi-bin/gettoken", "/cgi-bin/kf/sync_msg"] * 2


async def test_a_wrong_secret_is_permanent_and_asked_once(fake):
    async with WeComApi(fake.url, fake.corp_id, "wrong") as api:
        with pytest.raises(WeComError) as info:
            await api.sync_msg("", "", fake.open_kfid)
    assert info.value.errcode == 40001 and info.value.permanent
    assert fake.calls == ["/cgi-bin/gettoken"]


async def test_concurrent_calls_share_one_token_fetch(fake, api):
    await asyncio.gather(*(api.sync_msg("", "", fake.open_kfid) for _ in range(5)))
    assert fake.calls.count("/cgi-bin/gettoken") == 1


# -- sync_msg ----------------------------------------------------------------------------------
async def test_sync_pages_through_every_kind_of_message(fake, api):
    fake.enter_session(OWNER, welcome_code="")
    fake.owner_says(OWNER, "厨房水管漏水")
    fake.owner_taps(OWNER, "repair", "报修")
    media_id = fake.owner_sends_image(OWNER)
    fake.owner_location(OWNER, 23.1, 113.3, "幸福小区", "3栋2单元")
    fake.msg_send_fail(OWNER, "our-msg-1", fail_type=6)
    fake.owner_sends_media(OWNER, "voice", b"#!AMR", "audio/amr", "voice.amr")
    fake.servicer_says(OWNER, "我是客服小李", servicer_userid="li")
    pages = await _sync_all(api, fake, limit=3)
    assert [len(p.msgs) for p in pages] == [3, 3, 2]
    assert [p.has_more for p in pages] == [True, True, False]
    msgs = [m for p in pages for m in p.msgs]
    kinds = ["event", "text", "text", "image", "location", "event", "voice", "text"]
    assert [m["msgtype"] for m in msgs] == kinds
    assert [m["origin"] for m in msgs] == [4, 3, 3, 3, 3, 4, 3, 5]
    assert msgs[7]["servicer_userid"] == "li" and set(msgs[6]["voice"]) == {"media_id"}
    assert msgs[0]["event"] | {} == {
        "event_type": "enter_session",
        "open_kfid": fake.open_kfid,
        "external_userid": OWNER,
        "scene": "",
        "scene_param": "",
    }
    assert "external_userid" not in msgs[0]  # events carry the user inside, as the docs show
    assert msgs[1]["external_userid"] == OWNER and msgs[1]["open_kfid"] == fake.open_kfid
    assert msgs[2]["text"] == {"content": "报修", "menu_id": "repair"}
    assert msgs[3]["image"] == {"media_id": media_id}
    assert msgs[4]["location"]["name"] == "幸福小区"
    assert msgs[5]["event"]["fail_msgid"] == "our-msg-1" and msgs[5]["event"]["fail_type"] == 6
    assert len({m["msgid"] for m in msgs}) == 8


async def test_an_empty_page_with_has_more_is_followed(fake, api):
    fake.owner_says(OWNER, "一")
    first = await api.sync_msg("", "", fake.open_kfid)
    fake.owner_says(OWNER, "二")
    fake.empty_pages = 1
    empty = await api.sync_msg(first.next_cursor, "", fake.open_kfid)
    assert empty.msgs == [] and empty.has_more
    rest = await api.sync_msg(empty.next_cursor, "", fake.open_kfid)
    assert [m["text"]["content"] for m in rest.msgs] == ["二"] and not rest.has_more


async def test_the_cursor_resumes_where_it_stopped(fake, api):
    fake.owner_says(OWNER, "一")
    page = await api.sync_msg("", "", fake.open_kfid)
    again = await api.sync_msg(page.next_cursor, "", fake.open_kfid)
    assert again.msgs == []
    fake.owner_says(OWNER, "二")
    later = await api.sync_msg(again.next_cursor, "", fake.open_kfid)
    assert [m["text"]["content"] for m in later.msgs] == ["二"]


async def test_sync_keeps_three_days(fake, api):
    fake.owner_says(OWNER, "旧的")
    fake.advance(3 * 24 * 3600 + 1)
    fake.owner_says(OWNER, "新的")
    page = await api.sync_msg("", "", fake.open_kfid)
    assert [m["text"]["content"] for m in page.msgs] == ["新的"]


async def test_the_callback_token_lasts_ten_minutes(fake, api):
    token = fake.issue_msg_token()
    fake.advance(600)
    await api.sync_msg("", token, fake.open_kfid)
    fake.advance(1)
    with pytest.raises(WeComError) as info:
        await api.sync_msg("", token, fake.open_kfid)
    assert info.value.msg_token_invalid and info.value.permanent
    with pytest.raises(WeComError):
        await api.sync_msg("", "never-issued", fake.open_kfid)


# -- send_msg ----------------------------------------------------------------------------------
async def test_five_messages_then_the_budget_is_spent(fake, api):
    fake.owner_says(OWNER, "水管漏水")
    for i in range(5):
        assert await api.send_msg(OWNER, fake.open_kfid, f"m{i}", TEXT) == f"m{i}"
    with pytest.raises(WeComError) as info:
        await api.send_msg(OWNER, fake.open_kfid, "m5", TEXT)
    assert info.value.budget_exhausted and info.value.permanent
    fake.owner_says(OWNER, "好的")  # the owner writes again: a fresh budget
    await api.send_msg(OWNER, fake.open_kfid, "m6", TEXT)
    assert len(fake.sent) == 6


async def test_no_budget_without_the_owner_or_after_48_hours(fake, api):
    with pytest.raises(WeComError) as info:
        await api.send_msg(OWNER, fake.open_kfid, "never", TEXT)
    assert info.value.budget_exhausted
    fake.owner_says(OWNER, "在吗")
    fake.advance(48 * 3600)
    await api.send_msg(OWNER, fake.open_kfid, "edge", TEXT)
    fake.advance(1)
    with pytest.raises(WeComError) as info:
        await api.send_msg(OWNER, fake.open_kfid, "late", TEXT)
    assert info.value.budget_exhausted


async def test_a_repeated_msgid_is_recognised_and_not_counted_twice(fake, api):
    fake.owner_says(OWNER, "水管漏水")
    first = await api.send_msg(OWNER, fake.open_kfid, "outbox-17", TEXT)
    again = await api.send_msg(OWNER, fake.open_kfid, "outbox-17", TEXT)
    assert first == again == "outbox-17" and len(fake.sent) == 1 and fake.repeats == 1
    for i in range(4):
        await api.send_msg(OWNER, fake.open_kfid, f"n{i}", TEXT)
    with pytest.raises(WeComError):
        await api.send_msg(OWNER, fake.open_kfid, "n4", TEXT)


async def test_a_repeated_msgid_as_the_docs_describe_it_is_an_error(fake, api):
    fake.repeated_msgid_error = 40058
    fake.owner_says(OWNER, "水管漏水")
    await api.send_msg(OWNER, fake.open_kfid, "outbox-18", TEXT)
    with pytest.raises(WeComError):
        await api.send_msg(OWNER, fake.open_kfid, "outbox-18", TEXT)
    assert len(fake.sent) == 1


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(_menu(11), id="11 items"),
        pytest.param(_menu(1, item_id="x" * 65), id="id 65 bytes"),
        pytest.param(_menu(1, item_id=""), id="empty id"),
        pytest.param(_menu(1, content="修" * 43), id="content 129 bytes"),
        pytest.param(_menu(1, content=""), id="empty content"),
        pytest.param({"msgtype": "text", "text": {"content": "水" * 683}}, id="text 2049 bytes"),
        pytest.param({"msgtype": "text", "text": {"content": ""}}, id="empty text"),
    ],
)
async def test_what_wecom_refuses_as_invalid(fake, api, body):
    fake.owner_says(OWNER, "水管漏水")
    with pytest.raises(WeComError) as info:
        await api.send_msg(OWNER, fake.open_kfid, "bad", body)
    assert info.value.invalid and info.value.permanent and fake.sent == []


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(_menu(10), id="10 items"),
        pytest.param(_menu(1, item_id="x" * 64), id="id 64 bytes"),
        pytest.param(_menu(1, content="修" * 42 + "ab"), id="content 128 bytes"),
        pytest.param({"msgtype": "text", "text": {"content": "水" * 682 + "ab"}}, id="2048"),
    ],
)
async def test_what_wecom_accepts_at_the_limits(fake, api, body):
    fake.owner_says(OWNER, "水管漏水")
    await api.send_msg(OWNER, fake.open_kfid, "ok", body)
    assert len(fake.sent) == 1


async def test_a_msgid_wecom_would_refuse_fails_before_sending(fake, api):
    fake.owner_says(OWNER, "在吗")
    for bad in ("x" * 33, "has space", "", "中文"):
        with pytest.raises(ValueError):
            await api.send_msg(OWNER, fake.open_kfid, bad, TEXT)
    assert "/cgi-bin/kf/send_msg" not in fake.calls


# -- send_msg_on_event -------------------------------------------------------------------------
async def test_a_welcome_code_works_once_and_within_20_seconds(fake, api):
    code = fake.enter_session(OWNER)
    fake.advance(20)
    assert await api.send_msg_on_event(code, TEXT)
    with pytest.raises(WeComError) as info:
        await api.send_msg_on_event(code, TEXT)
    assert info.value.permanent
    late = fake.enter_session(OWNER)
    fake.advance(21)
    with pytest.raises(WeComError):
        await api.send_msg_on_event(late, _menu(3))
    assert [s["api"] for s in fake.sent] == ["send_msg_on_event"]
    assert any("(welcome) text:" in line for line in fake.transcript())


# -- media/get ---------------------------------------------------------------------------------
async def test_media_get_returns_the_file(fake, api):
    media_id = fake.owner_sends_image(OWNER, b"\xff\xd8jpeg-bytes", "漏水.jpg")
    media = await api.media_get(media_id)
    assert media.content == b"\xff\xd8jpeg-bytes" and media.content_type == "image/jpeg"
    assert media.filename == "漏水.jpg"
    plain = fake.add_media(b"%PDF", "application/pdf", "bill.pdf")
    assert (await api.media_get(plain)).filename == "bill.pdf"


async def test_media_get_refusals(fake, api):
    with pytest.raises(WeComError) as info:
        await api.media_get("no-such-media")
    assert info.value.errcode == 40007
    big = fake.owner_sends_image(OWNER, b"x" * 2048)
    with pytest.raises(WeComError) as info:
        await api.media_get(big, max_bytes=1024)
    assert info.value.permanent


# -- what is retried and what is not -----------------------------------------------------------
async def test_busy_and_unreachable_are_retryable(fake, api):
    fake.owner_says(OWNER, "在吗")
    fake.fail_next("/cgi-bin/kf/send_msg", errcode=-1)
    with pytest.raises(WeComError) as info:
        await api.send_msg(OWNER, fake.open_kfid, "a", TEXT)
    assert info.value.retryable
    fake.fail_next("/cgi-bin/kf/send_msg", status=502)
    with pytest.raises(WeComError) as info:
        await api.send_msg(OWNER, fake.open_kfid, "a", TEXT)
    assert info.value.retryable and info.value.errcode == NO_ANSWER
    await api.send_msg(OWNER, fake.open_kfid, "a", TEXT)  # the retry goes through


async def test_a_closed_port_is_retryable():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    async with WeComApi(f"http://127.0.0.1:{port}", "corp", "secret") as api:
        with pytest.raises(WeComError) as info:
            await api.sync_msg("", "", "kf")
    assert info.value.retryable and info.value.errcode == NO_ANSWER


async def test_neither_the_secret_nor_the_token_reaches_the_log(fake, api, caplog):
    caplog.set_level(logging.DEBUG)
    fake.owner_says(OWNER, "在吗")
    await api.send_msg(OWNER, fake.open_kfid, "a", TEXT)
    token = next(iter(fake.access_tokens))
    # ours only: the fake WeCom's own access log stands for Tencent's servers
    text = "\n".join(r.getMessage() for r in caplog.records if r.name != "aiohttp.access")
    assert "access_token=<redacted>" in text and "corpsecret=<redacted>" in text
    assert token not in text and fake.secret not in text


# -- callbacks ---------------------------------------------------------------------------------
async def test_an_unanswered_callback_is_posted_again_three_times_in_all(fake):
    release, seen = asyncio.Event(), []

    async def slow_then_fine(request: web.Request) -> web.Response:
        seen.append(await request.read())
        if len(seen) < 3:
            await release.wait()  # longer than the fake waits: it drops and posts again
        return web.Response(text="success")

    async with serve(slow_then_fine) as url:
        attempts = await fake.ring(url)
        release.set()
    assert [a.status for a in attempts] == [None, None, 200]
    assert [a.attempt for a in attempts] == [1, 2, 3] and attempts[2].body == "success"
    assert len(set(seen)) == 1  # the same event each time


async def test_a_callback_never_answered_is_given_up_after_three(fake):
    release = asyncio.Event()

    async def hangs(request: web.Request) -> web.Response:
        await release.wait()
        return web.Response(text="success")

    async with serve(hangs) as url:
        attempts = await fake.ring(url)
        release.set()
    assert [a.status for a in attempts] == [None] * 3 and len(fake.callbacks) == 3


def _opener(crypto: WeComCrypto, events: list):
    """Our side of the callback, as the bot's HTTP layer will do it."""

    async def handler(request: web.Request) -> web.Response:
        q = request.query
        try:
            if request.method == "GET":
                echo = crypto.open_echostr(
                    q["msg_signature"], q["timestamp"], q["nonce"], q["echostr"]
                )
                return web.Response(text=echo)
            body = await request.read()
            events.append(
                crypto.open_callback(q["msg_signature"], q["timestamp"], q["nonce"], body)
            )
        except CallbackRejected as e:
            return web.Response(status=403, text=e.reason)
        return web.Response(text="success")

    return handler


KEY = "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C"


async def test_the_callback_is_signed_and_its_token_syncs(fake, api):
    events: list = []
    fake.owner_says(OWNER, "电梯停了")
    async with serve(_opener(WeComCrypto(fake.crypto.token, KEY, fake.corp_id), events)) as url:
        attempts = await fake.ring(url)
        handshake = await fake.verify_url(url)
    assert [a.status for a in attempts] == [200]
    (event,) = events
    assert event["Event"] == "kf_msg_or_event" and event["MsgType"] == "event"
    assert event["ToUserName"] == fake.corp_id and event["OpenKfId"] == fake.open_kfid
    assert event["Token"] == fake.last_msg_token == attempts[0].msg_token
    page = await api.sync_msg("", event["Token"], event["OpenKfId"])
    assert [m["text"]["content"] for m in page.msgs] == ["电梯停了"]
    assert handshake.status == 200 and handshake.body == handshake.echo


async def test_a_server_with_another_token_refuses_the_callback(fake):
    events: list = []
    impostor = WeComCrypto("another-callback-token", KEY, fake.corp_id)
    async with serve(_opener(impostor, events)) as url:
        attempts = await fake.ring(url)
        handshake = await fake.verify_url(url)
    assert [(a.status, a.body) for a in attempts] == [(403, "bad_signature")] * 3
    assert events == [] and handshake.status == 403


async def test_the_transcript_reads_as_the_conversation(fake, api):
    code = fake.enter_session(OWNER)
    menu = _menu(2)
    menu["msgmenu"]["list"][1] = {"type": "click", "click": {"id": "2", "content": "投诉"}}
    await api.send_msg_on_event(code, menu)
    fake.owner_taps(OWNER, "1", "报修")
    await api.send_msg(OWNER, fake.open_kfid, "r1", TEXT)
    assert fake.transcript() == [
        f"event enter_session {OWNER} welcome_code={code}",
        f"bot → {OWNER} (welcome) msgmenu: 请选择 | [1] 报修 | [2] 投诉",
        f"owner {OWNER} taps [1] 报修",
        f"bot → {OWNER} text: 您好,维修人员将在1小时内联系您。",
    ]
