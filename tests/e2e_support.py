"""The real bot against the fake Bot API: start, stop, and the rows it stored."""

from __future__ import annotations

import asyncio

import pytest
import sqlalchemy as sa

from bot.acked_polling import AckedPolling
from bot.factory import build_app, build_bot, build_dispatcher
from bot.paths import SAMPLE_OWNERS
from bot.settings import Settings
from dialogs.clock import FakeClock
from storage.owner_import import import_owners
from storage.uow import UnitOfWork

from .dialog_driver import MONDAY_10
from .fake_bot_api import FakeBotAPI

TOKEN = "123456789:AAHtestTOKENtestTOKENtestTOKENtest12"
AGENTS = -100500


class Harness:
    def __init__(self, api, app, bot, dp, sender, task):
        self.api, self.app, self.bot, self.dp, self.sender, self.task = (
            api,
            app,
            bot,
            dp,
            sender,
            task,
        )

    async def rows(self, model, *where):
        async with UnitOfWork(self.app.sessionmaker) as uow:
            return list(await uow.session.scalars(sa.select(model).where(*where)))


async def start_bot(url: str, api: FakeBotAPI, clock) -> Harness:
    settings = Settings(
        bot_token=TOKEN, telegram_api_url=api.url, database_url=url, agent_chat_id=str(AGENTS)
    )
    app = build_app(settings, clock=clock)
    bot = build_bot(settings)
    dp, sender = build_dispatcher(app, bot, chat_burst=1000)
    # the production loop: an update is confirmed only after its commit
    h = Harness(api, app, bot, dp, sender, None)
    h.polling = AckedPolling(dp, bot, polling_timeout=1)
    h.task = asyncio.create_task(h.polling.run())
    return h


async def stop_bot(h: Harness) -> None:
    await h.polling.stop()
    await asyncio.wait_for(h.task, 10)
    await h.bot.session.close()
    await h.app.db.dispose()


@pytest.fixture
async def env(migrated_url):
    from storage.db import make_engine, make_sessionmaker

    engine = make_engine(migrated_url)
    async with UnitOfWork(make_sessionmaker(engine)) as uow:
        await import_owners(uow.session, SAMPLE_OWNERS.read_bytes())
        await uow.commit()
    await engine.dispose()
    api = FakeBotAPI(TOKEN)
    await api.start()
    clock = FakeClock(MONDAY_10)
    h = await start_bot(migrated_url, api, clock)
    h.url, h.clock = migrated_url, clock
    try:
        yield h
    finally:
        if not h.task.done():
            await stop_bot(h)
        await api.stop()


def texts(msgs):
    return "\n".join(m.get("text", "") for m in msgs)
