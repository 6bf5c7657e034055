"""Two bot processes on one database (issue 10, finding 7): a double tap on 确认 whose taps reach
different processes makes one ticket. Each "process" here is its own app: its own engine, pool
and in-process locks, sharing nothing but the database."""

import asyncio

import sqlalchemy as sa

from bot.factory import build_app
from bot.paths import SAMPLE_OWNERS
from bot.settings import Settings
from dialogs.clock import FakeClock
from dialogs.events import Inbound
from storage.models import Ticket
from storage.owner_import import import_owners
from storage.uow import UnitOfWork
from tests.e2e_support import MONDAY_10, env  # noqa: F401


def app_on(url: str, clock):
    return build_app(Settings(bot_token="1:x", database_url=url, agent_chat_id="-100"), clock=clock)


async def say(app, inbound: Inbound, update_id: int):
    return await app.conversations.handle(
        channel="telegram",
        external_id="7001",
        chat_id="7001",
        display_name="王芳",
        inbound=inbound,
        update_id=update_id,
    )


def token(outcome, label: str) -> str:
    for reply in reversed(outcome.result.replies):
        for row in reply.rows:
            for choice in row:
                if label in choice.label:
                    return choice.value
    raise AssertionError(f"no button {label!r}")


async def test_a_double_tap_across_two_processes_files_one_ticket(migrated_url):
    clock = FakeClock(MONDAY_10)
    a, b = app_on(migrated_url, clock), app_on(migrated_url, clock)
    async with UnitOfWork(a.sessionmaker) as uow:
        await import_owners(uow.session, SAMPLE_OWNERS.read_bytes())
        await uow.commit()
    ids = iter(range(1, 100))
    out = await say(a, Inbound("command", text="/start"), next(ids))
    out = await say(a, Inbound("contact", phone="13800000301", contact_is_own=True), next(ids))
    for label in ("是", "报修", "厨房", "水管"):
        out = await say(a, Inbound("choice", token=token(out, label)), next(ids))
    out = await say(a, Inbound("text", text="水管接口漏水"), next(ids))
    for label in ("没有照片", "一般", "明天上午"):
        out = await say(a, Inbound("choice", token=token(out, label)), next(ids))
    confirm = token(out, "确认")
    # the owner's two taps: two updates, one to each process, at the same moment
    first, second = await asyncio.gather(
        say(a, Inbound("choice", token=confirm), 501), say(b, Inbound("choice", token=confirm), 502)
    )
    async with UnitOfWork(a.sessionmaker) as uow:
        tickets = (await uow.session.scalars(sa.select(Ticket))).all()
    assert len(tickets) == 1
    # the later tap is answered as a stale button, not with a second confirmation
    alerts = [o.result.alert for o in (first, second)]
    assert alerts.count(None) == 1 and "alert_stale_button" in alerts
    await a.db.dispose()
    await b.db.dispose()


async def test_two_instances_nudge_a_waiting_owner_once(env):
    """Finding 7: owners waiting for a person were nudged twice (the ticker ran in both)."""
    from bot.jobs import nudge_waiting_owners
    from storage.models import OutboxMessage
    from tests.fake_bot_api import TgUser

    owner = TgUser(env.api, 6301, "王芳")
    await owner.send("/start")
    await owner.share_contact("13800000301")
    await owner.press("是")
    await owner.press("人工客服")
    other = app_on(env.url, env.clock)
    env.clock.advance(minutes=10)
    await asyncio.gather(
        nudge_waiting_owners(env.app, lambda: None), nudge_waiting_owners(other, lambda: None)
    )
    rows = await env.rows(OutboxMessage)
    assert sum("久等了" in (r.payload or {}).get("text", "") for r in rows) == 1
    await other.db.dispose()
