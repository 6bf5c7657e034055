"""Acknowledge after commit in long polling (issue 10, finding 1): an update is confirmed to
Telegram only after its step committed; an update cut off in the middle comes back after a
restart and is applied once; a failing update neither stalls the bot nor is lost to an outage."""

from __future__ import annotations

import asyncio
import time

import pytest
import sqlalchemy as sa
from aiogram import Dispatcher, Router
from aiogram.types import Message

from bot.acked_polling import AckedPolling
from bot.factory import build_bot
from bot.ingress import is_transient
from bot.settings import Settings
from dialogs.engine import Engine
from storage.db import make_engine, make_sessionmaker
from storage.models import Conversation, ProcessedUpdate
from storage.uow import UnitOfWork

from .fake_bot_api import FakeBotAPI

TOKEN = "123456789:AAHtestTOKENtestTOKENtestTOKENtest12"


def message(chat_id: int, text: str, message_id: int = 1) -> dict:
    user = {"id": chat_id, "is_bot": False, "first_name": "业主"}
    return {
        "message": {
            "message_id": message_id,
            "date": int(time.time()),
            "chat": {"id": chat_id, "type": "private"},
            "from": user,
            "text": text,
            **(
                {"entities": [{"type": "bot_command", "offset": 0, "length": 6}]}
                if text == "/start"
                else {}
            ),
        }
    }


async def stored(url: str, model, *where) -> list:
    engine = make_engine(url)
    try:
        async with UnitOfWork(make_sessionmaker(engine)) as uow:
            return list(await uow.session.scalars(sa.select(model).where(*where)))
    finally:
        await engine.dispose()


async def test_an_update_cut_off_before_its_commit_comes_back_after_a_restart_and_applies_once(
    migrated_url, monkeypatch
):
    from bot.polling import run_polling

    api = FakeBotAPI(TOKEN)
    await api.start()
    settings = Settings(bot_token=TOKEN, telegram_api_url=api.url, database_url=migrated_url)
    started, hung = asyncio.Event(), []
    step = Engine.step

    async def step_then_hang(self, *args, **kwargs):
        result = await step(self, *args, **kwargs)
        if not hung:  # the first step only: its transaction is open, its commit not yet made
            hung.append(asyncio.current_task())
            started.set()
            await asyncio.Event().wait()
        return result

    monkeypatch.setattr(Engine, "step", step_then_hang)
    ready: list = []
    first = asyncio.create_task(
        run_polling(settings, retry_delays=(0,), handle_signals=False, on_ready=ready.append)
    )
    second = None
    try:
        cut_off = await api.queue(message(4101, "/start"))
        await asyncio.wait_for(started.wait(), 10)
        # the time a polling loop that confirms on hand-out needs to ask for the next offset
        await asyncio.sleep(0.5)
        first.cancel()  # the process dies: its open transaction is never committed
        await asyncio.gather(first, return_exceptions=True)
        assert api.offset <= cut_off, "confirmed to Telegram before its step committed"

        second = asyncio.create_task(
            run_polling(settings, retry_delays=(0,), handle_signals=False, on_ready=ready.append)
        )
        await api.confirmed(cut_off)
        control = await api.queue(message(4102, "/start"))  # the same step, never cut off
        await api.confirmed(control)
        for _ in range(100):  # the replies may still be on their way through the outbox
            if len(api.sent_to(4101)) == len(api.sent_to(4102)) > 0:
                break
            await asyncio.sleep(0.05)
    finally:
        for task in hung:
            task.cancel()
        if second is not None and not second.done():
            await ready[-1].stop()
            await asyncio.wait_for(second, 10)
        await api.stop()

    assert (
        len(await stored(migrated_url, ProcessedUpdate, ProcessedUpdate.update_id == cut_off)) == 1
    )
    assert len(await stored(migrated_url, Conversation)) == 2
    once = [m["text"] for m in api.sent_to(4102)]
    assert once and [m["text"] for m in api.sent_to(4101)] == once  # applied once, answered once


class Script:
    """A tiny dispatcher whose handler does what a test tells it for each text."""

    def __init__(self) -> None:
        self.handled: list[str] = []
        self.failures: dict[str, list[BaseException]] = {}
        self.gates: dict[str, asyncio.Event] = {}
        self.dp = Dispatcher()
        router = Router()
        router.message.register(self.on_message)
        self.dp.include_router(router)

    async def on_message(self, message: Message) -> None:
        text = message.text or ""
        if text in self.gates:
            await self.gates[text].wait()
        failures = self.failures.get(text)
        if failures:
            raise failures.pop(0)
        self.handled.append(text)


@pytest.fixture
async def scripted():
    api = FakeBotAPI(TOKEN)
    await api.start()
    script = Script()
    bot = build_bot(Settings(bot_token=TOKEN, telegram_api_url=api.url))
    polling = AckedPolling(
        script.dp,
        bot,
        polling_timeout=1,
        fetch_delays=(0,),
        transient_delays=(0,),
        poison_delays=(0,),
    )
    task = asyncio.create_task(polling.run())
    try:
        yield api, script, polling
    finally:
        for gate in script.gates.values():
            gate.set()
        await polling.stop()
        await asyncio.wait_for(task, 10)
        await bot.session.close()
        await api.stop()


async def test_a_poison_update_is_tried_three_times_then_passed_over(scripted):
    api, script, polling = scripted
    script.failures["bad"] = [ValueError("bad data")] * 5
    bad = await api.queue(message(1, "bad"))
    after = await api.queue(message(1, "after", 2))
    await api.confirmed(after)
    assert polling.passed_over == [bad]
    assert script.handled == ["after"]
    assert len(script.failures["bad"]) == 2  # three of its five failures were met, no more


async def test_the_database_away_is_waited_out_not_passed_over(scripted):
    api, script, polling = scripted
    outage = [ConnectionRefusedError("database down")] * 5
    script.failures["tap"] = list(outage)
    tap = await api.queue(message(1, "tap"))
    await api.confirmed(tap)
    assert script.handled == ["tap"] and polling.passed_over == []


async def test_chats_run_side_by_side_but_the_offset_waits_for_the_slowest(scripted):
    api, script, _ = scripted
    script.gates["slow"] = asyncio.Event()
    slow = await api.queue(message(1, "slow"))
    fast = await api.queue(message(2, "fast"))
    for _ in range(200):
        if "fast" in script.handled:
            break
        await asyncio.sleep(0.01)
    assert script.handled == ["fast"]  # another chat did not wait for the slow one
    assert api.offset <= slow  # nothing confirmed while an update before it is unfinished
    script.gates["slow"].set()
    await api.confirmed(fast)
    assert script.handled == ["fast", "slow"]


async def test_one_chat_is_handled_in_the_order_telegram_sent(scripted):
    api, script, _ = scripted
    script.gates["first"] = asyncio.Event()
    await api.queue(message(1, "first"))
    last = await api.queue(message(1, "second", 2))
    await asyncio.sleep(0.1)
    assert script.handled == []  # the second waits behind the first of its chat
    script.gates["first"].set()
    await api.confirmed(last)
    assert script.handled == ["first", "second"]


def test_what_counts_as_the_database_away():
    from sqlalchemy.exc import DBAPIError, OperationalError

    class PgError(Exception):
        def __init__(self, sqlstate: str):
            self.sqlstate = sqlstate

    def wrapped(sqlstate: str) -> DBAPIError:
        return DBAPIError("INSERT …", {}, PgError(sqlstate))

    assert is_transient(ConnectionRefusedError())
    assert is_transient(OperationalError("BEGIN", {}, Exception("database is locked")))
    assert is_transient(wrapped("57P01"))  # admin shutdown
    assert is_transient(wrapped("40001"))  # serialization failure
    assert not is_transient(wrapped("22021"))  # a NUL byte PostgreSQL refuses: this update's own
    assert not is_transient(ValueError("bug"))
