"""The sender against the fake Bot API (issue 10): every reply through the outbox, a 429 is not a
failed attempt, claimed rows are never left to wait out their lease, Telegram's limits are the
bot's (shared in Redis; the group's minute read back from the outbox without it), and an owner
who blocked the bot gets no more requests until they write again."""

from __future__ import annotations

import asyncio
import logging
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from bot.factory import build_senders
from bot.outbox_sender import OutboxSender
from storage.models import Account, OutboxMessage
from storage.uow import UnitOfWork

from .e2e_support import AGENTS, env, texts  # noqa: F401
from .fake_bot_api import TgUser

REDIS_URL = "redis://127.0.0.1:6379/0"
SENDS = ("sendMessage", "sendPhoto", "editMessageText", "copyMessage")


def status(code: int, retry_after: int = 0) -> tuple[int, dict]:
    body: dict = {"ok": False, "error_code": code, "description": f"error {code}"}
    if retry_after:
        body["parameters"] = {"retry_after": retry_after}
    return code, body


async def queue(env, chat_id, *texts_, purpose: str = "owner") -> list[int]:
    async with UnitOfWork(env.app.sessionmaker) as uow:
        ids = [
            await uow.outbox.add(
                str(chat_id), {"text": t}, env.clock.now(), channel="telegram", purpose=purpose
            )
            for t in texts_
        ]
        await uow.commit()
    return ids


async def rows(env, ids) -> list[OutboxMessage]:
    return sorted(await env.rows(OutboxMessage, OutboxMessage.id.in_(ids)), key=lambda r: r.id)


def requests_to(env, chat_id) -> list[str]:
    """Every send request to a chat, answered or refused (a refused one is "method!code")."""
    return [
        m
        for m, p in env.api.calls
        if m.split("!")[0] in SENDS and str(p.get("chat_id")) == str(chat_id)
    ]


async def identified(env, uid: int) -> TgUser:
    owner = TgUser(env.api, uid, "王芳")
    await owner.send("/start")
    await owner.share_contact("13800000301")
    await owner.press("是")
    owner.new_messages()
    return owner


# --- finding 2: every reply through the outbox ---------------------------------------------------
async def test_every_reply_to_an_owner_is_an_outbox_row_sent_after_commit(env):
    owner = TgUser(env.api, 7001, "王芳")
    seen = await owner.send("/start")  # a step that changes nothing durable
    assert "您好" in texts(seen)
    stored = await env.rows(OutboxMessage, OutboxMessage.chat_id == "7001")
    assert stored and all(r.state == "sent" and r.purpose == "owner" for r in stored)
    assert [r.payload["text"] for r in sorted(stored, key=lambda r: r.id)] == [
        m["text"] for m in seen
    ]


async def test_replies_wait_out_a_429_instead_of_going_out_inside_it(env):
    owner = await identified(env, 7002)
    env.api.failures["sendMessage"] = [status(429, retry_after=5)]
    await queue(env, 7002, "先前排队的消息")
    assert await env.sender.deliver() == 0
    before = len(requests_to(env, 7002))
    await owner.send("/menu")  # the owner writes during the retry_after window
    assert len(requests_to(env, 7002)) == before  # no request inside the window
    waiting = await env.rows(OutboxMessage, OutboxMessage.state == "pending")
    assert any(r.chat_id == "7002" and r.purpose == "owner" for r in waiting)
    env.clock.advance(seconds=5)
    assert await env.sender.deliver() >= 2
    said = texts(owner.new_messages())
    assert "先前排队的消息" in said and len(said) > len("先前排队的消息")


async def test_a_429_is_not_a_failed_attempt(env):
    (row_id,) = await queue(env, 7003, "您的工单已受理")
    for _ in range(12):  # more 429s than MAX_ATTEMPTS
        env.api.failures["sendMessage"] = [status(429, retry_after=1)]
        assert await env.sender.deliver() == 0
        (row,) = await rows(env, [row_id])
        assert row.state == "pending" and row.attempts == 0
        env.clock.advance(seconds=1)
    assert await env.sender.deliver() == 1
    (row,) = await rows(env, [row_id])
    assert row.state == "sent"


async def test_rows_after_a_429_in_a_batch_are_released_at_once(env):
    env.api.failures["sendMessage"] = [status(429, retry_after=5)]
    _, *rest = await queue(env, 7004, "一") + await queue(env, 7005, "二", "三")
    assert await env.sender.deliver() == 0
    for row in await rows(env, rest):
        # back to pending with no lease, not counted, due when the 429 ends
        assert (row.state, row.claimed_until, row.attempts) == ("pending", None, 0)
        assert row.not_before == env.clock.now() + timedelta(seconds=5)
    env.clock.advance(seconds=5)
    assert await env.sender.deliver() == 3


async def test_rows_after_a_network_error_are_released_at_once(env):
    env.api.failures["sendMessage"] = [status(502)]
    first, *rest = await queue(env, 7006, "一") + await queue(env, 7007, "二", "三")
    assert await env.sender.deliver() == 0
    # the other chat's rows go on at once, without waiting out a lease (the clock has not moved)
    assert await env.sender.deliver() == 2
    assert [r.state for r in await rows(env, rest)] == ["sent", "sent"]
    (failed_once,) = await rows(env, [first])
    assert failed_once.state == "pending" and failed_once.attempts == 1


# --- finding 3: Telegram's limits belong to the bot -----------------------------------------------
async def test_a_restarted_sender_still_respects_the_groups_minute(env):
    await queue(env, AGENTS, *[f"提醒{i}" for i in range(20)], purpose="alert")
    assert await env.sender.deliver() == 20
    restarted = build_senders(env.app, env.bot, chat_burst=1000)["telegram"]
    await queue(env, AGENTS, "重启后的提醒一", "重启后的提醒二", purpose="alert")
    assert await restarted.deliver() == 0
    assert len(requests_to(env, AGENTS)) == 20
    env.clock.advance(minutes=1)
    # Telegram's minute, and the two seconds of margin for a request's way to it
    assert await restarted.deliver() == 0
    env.clock.advance(seconds=2)
    assert await restarted.deliver() == 2


@pytest.fixture
async def shared_prefix():
    """A fresh key prefix on the test Redis (skipped when there is none); cleaned up after."""
    import redis.asyncio as aioredis

    client = aioredis.Redis.from_url(REDIS_URL, socket_connect_timeout=1)
    try:
        await client.ping()
    except (OSError, aioredis.RedisError):
        await client.aclose()
        pytest.skip("no Redis at 127.0.0.1:6379")
    prefix = f"test-{uuid.uuid4().hex}"
    try:
        yield prefix
    finally:
        keys = [k async for k in client.scan_iter(match=f"{prefix}*")]
        if keys:
            await client.delete(*keys)
        await client.aclose()


def shared_sender(env, prefix: str) -> OutboxSender:
    """A sender as another process would build it: its own object, the same Redis."""
    from bot.rate_limit import SharedLimits

    limits = SharedLimits(REDIS_URL, prefix, chat_burst=1000)
    return OutboxSender(
        env.app.sessionmaker,
        env.bot,
        env.clock,
        group_chat_id=str(AGENTS),
        texts=env.app.texts,
        limits=limits,
    )


async def test_two_senders_on_one_redis_share_the_groups_minute(env, shared_prefix):
    a, b = shared_sender(env, shared_prefix), shared_sender(env, shared_prefix)
    try:
        await queue(env, AGENTS, *[f"提醒{i}" for i in range(30)], purpose="alert")
        sent = await asyncio.gather(a.deliver(), b.deliver())
        assert sum(sent) == 20
        assert len(requests_to(env, AGENTS)) == 20
        # each on its own would have sent its 20
        assert await a.deliver() == 0 and await b.deliver() == 0
    finally:
        await a.limits.close()
        await b.limits.close()


async def test_a_429_seen_by_one_sender_pauses_the_other(env, shared_prefix):
    a, b = shared_sender(env, shared_prefix), shared_sender(env, shared_prefix)
    try:
        env.api.failures["sendMessage"] = [status(429, retry_after=30)]
        await queue(env, 7008, "一")
        assert await a.deliver() == 0
        calls = len(env.api.calls)
        await queue(env, 7009, "二")
        env.clock.advance(seconds=31)  # b's clock is no help: the pause is kept in Redis
        assert await b.deliver() == 0
        assert len(env.api.calls) == calls  # not one request inside retry_after
    finally:
        await a.limits.close()
        await b.limits.close()


# --- finding 4: unreachable owners ----------------------------------------------------------------
async def test_with_redis_down_each_sender_keeps_its_own_limits_and_sends(env, caplog):
    """Redis unreachable (a port nobody listens on): the rows still go, under this process's
    own limits, the group's minute read back from the outbox; one warning, not one per row."""
    from bot.rate_limit import SharedLimits

    limits = SharedLimits("redis://127.0.0.1:1/0", "down", chat_burst=1000)
    sender = OutboxSender(
        env.app.sessionmaker,
        env.bot,
        env.clock,
        group_chat_id=str(AGENTS),
        texts=env.app.texts,
        limits=limits,
        chat_burst=1000,
    )
    try:
        await queue(env, 7010, "一", "二")
        await queue(env, AGENTS, *[f"提醒{i}" for i in range(25)], purpose="alert")
        with caplog.at_level(logging.WARNING, logger="bot.rate_limit"):
            assert await sender.deliver() == 22
        assert len(requests_to(env, AGENTS)) == 20
        assert len(requests_to(env, 7010)) == 2
        assert sum("Redis unreachable" in r.getMessage() for r in caplog.records) == 1
    finally:
        await limits.close()


async def test_after_a_403_nothing_more_is_sent_to_that_chat(env):
    owner = await identified(env, 7010)
    before = len(requests_to(env, 7010))
    env.api.failures["sendMessage"] = [status(403)]
    ids = await queue(env, 7010, "一", "二", "三", "四")
    await env.sender.deliver()
    assert len(requests_to(env, 7010)) == before + 1  # the one refused
    later = await queue(env, 7010, "第二天的消息")
    await env.sender.deliver()
    assert len(requests_to(env, 7010)) == before + 1
    assert {r.state for r in await rows(env, ids + later)} == {"failed"}
    (acc,) = await env.rows(Account, Account.external_id == "7010")
    assert acc.unreachable
    assert owner.new_messages() == []


async def test_the_unreachable_mark_clears_when_the_owner_writes_again(env):
    owner = await identified(env, 7011)
    env.api.failures["sendMessage"] = [status(403)]
    await queue(env, 7011, "被拒收的消息")
    await env.sender.deliver()
    (acc,) = await env.rows(Account, Account.external_id == "7011")
    assert acc.unreachable
    # the owner unblocks the bot and writes /start
    seen = await owner.send("/start")
    (acc,) = await env.rows(Account, Account.external_id == "7011")
    assert not acc.unreachable
    assert seen and "被拒收的消息" not in texts(seen)
    await queue(env, 7011, "之后的消息")
    assert await env.sender.deliver() == 1


async def test_unreachable_chats_are_those_of_refused_accounts(sessionmaker):
    """The sender asks once per batch which chats are unreachable (storage/outbox.py)."""
    now = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)
    async with UnitOfWork(sessionmaker) as uow:
        for n, gone in ((1, True), (2, False)):
            acc = await uow.accounts.get_or_create("telegram", str(n), str(n), "x", now)
            acc.unreachable = gone
        await uow.commit()
    async with UnitOfWork(sessionmaker) as uow:
        assert await uow.outbox.unreachable_chats("telegram", ["1", "2", "3"]) == {"1"}
        assert await uow.outbox.unreachable_chats("other", ["1"]) == set()


async def test_redis_url_makes_the_senders_limits_shared_and_named_by_the_bot(env):
    from bot.rate_limit import SharedLimits
    from bot.settings import Settings, SettingsError

    settings = env.app.settings.model_copy(update={"redis_url": REDIS_URL})
    env.app.settings, saved = settings, env.app.settings
    try:
        sender = build_senders(env.app, env.bot)["telegram"]
    finally:
        env.app.settings = saved
    assert isinstance(sender.limits, SharedLimits)
    assert sender.limits.pause_key == f"wuye:bot{env.bot.id}:paused"
    await sender.close()
    with pytest.raises(SettingsError, match="REDIS_URL"):
        Settings.load({"REDIS_URL": "http://127.0.0.1:6379"}, dotenv=None)
