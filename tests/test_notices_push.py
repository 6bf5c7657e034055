"""Pushing notices through the outbox (bot/notices.py), on SQLite and PostgreSQL: exactly the
verified owners of the affected units, each on their channel; quiet hours hold a non-urgent
notice and not an urgent one; an early end or an extension reaches the same owners only."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from bot.notices import Notices, TelegramText, WeComText
from bot.outbound import Message, Outbound
from bot.rendering import TelegramRenderer
from bot.wecom.render import WeComRenderer
from dialogs.clock import FakeClock
from dialogs.notices import context
from dialogs.policy import Policy
from dialogs.ports import NoticeView
from dialogs.texts import Texts
from storage.models import OutboxMessage
from storage.notice_repo import NoticesRepo
from storage.uow import UnitOfWork

from .test_notices_storage import C, account, load_owners

TEXTS = Texts("Asia/Shanghai")
MONDAY_10 = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)
MONDAY_22 = datetime(2026, 11, 23, 14, 0, tzinfo=UTC)
TUESDAY_08 = datetime(2026, 11, 24, 0, 0, tzinfo=UTC)


def notices_at(now: datetime, wecom: bool = False) -> Notices:
    clock = FakeClock(now)
    renderers = {"telegram": TelegramRenderer(TEXTS)}
    if wecom:
        renderers["wecom"] = WeComRenderer(TEXTS)
    return Notices(Outbound(renderers, clock), Policy.load(), TEXTS.tz)


async def create(sm, n: Notices, buildings=("3",), urgent=False, start=None, hours=4):
    start = start or n.outbound.clock.now() + timedelta(hours=4)
    async with UnitOfWork(sm) as uow:
        nid = await NoticesRepo(uow.session).create(
            "water", C, buildings, start, start + timedelta(hours=hours), "请提前储水。", urgent, "小林",
            n.outbound.clock.now(),
        )  # fmt: skip
        reach = await n.publish(uow, nid)
        await uow.commit()
    return nid, reach


async def rows(sm) -> list[OutboxMessage]:
    async with UnitOfWork(sm) as uow:
        return list(await uow.session.scalars(sa.select(OutboxMessage).order_by(OutboxMessage.id)))


async def owners(sm):
    await load_owners(sm)
    return {
        "wang": await account(sm, "3001", "13800000301", verified=True),  # 3栋3A
        "chen": await account(sm, "3002", "13800000302", verified=False),  # 3栋, typed only
        "zhao": await account(sm, "3003", "13800000303", verified=True),  # 3栋3E
        "zhou": await account(sm, "5001", "13800000501", verified=True),  # 5栋
        "guest": await account(sm, "9001", "13911112222", verified=True),  # not an owner
    }


async def test_a_notice_reaches_exactly_the_verified_owners_of_its_buildings(sessionmaker):
    who = await owners(sessionmaker)
    nid, reach = await create(sessionmaker, notices_at(MONDAY_10))
    assert reach.count == 2 and reach.held_until is None
    sent = await rows(sessionmaker)
    assert sorted(r.chat_id for r in sent) == ["3001", "3003"]
    assert all(r.purpose == "notice" and r.ref == {"notice_id": nid, "what": "push"} for r in sent)
    assert all(r.not_before == MONDAY_10 and r.priority == 5 for r in sent)
    wang = next(r for r in sent if r.chat_id == "3001").payload["text"]
    assert wang.startswith(
        "王女士，您好！【阳光花园】3栋今天14:00至18:00计划停水，预计18:00恢复供水。"
    )
    assert "请提前储水。" in wang and "赵先生，您好！" in next(
        r.payload["text"] for r in sent if r.chat_id == "3003"
    )
    async with UnitOfWork(sessionmaker) as uow:
        assert await NoticesRepo(uow.session).recipients(nid) == sorted([who["wang"], who["zhao"]])


async def test_quiet_hours_hold_a_notice_until_morning_and_say_today_then(sessionmaker):
    await owners(sessionmaker)
    # made at 22:00 for tomorrow 14:00: sent at 08:00, when tomorrow has become today
    start = TUESDAY_08 + timedelta(hours=6)
    _, reach = await create(sessionmaker, notices_at(MONDAY_22), start=start)
    assert reach.count == 2 and reach.held_until == TUESDAY_08
    sent = await rows(sessionmaker)
    assert {r.not_before for r in sent} == {TUESDAY_08}
    assert all("今天14:00至18:00计划停水" in r.payload["text"] for r in sent)
    async with UnitOfWork(sessionmaker) as uow:  # nothing is due before 08:00
        assert (
            await uow.outbox.claim(TUESDAY_08 - timedelta(minutes=1), channels=["telegram"]) == []
        )


async def test_an_urgent_notice_goes_at_once_even_at_night(sessionmaker):
    await owners(sessionmaker)
    _, reach = await create(sessionmaker, notices_at(MONDAY_22), urgent=True, start=MONDAY_22)
    assert reach.count == 2 and reach.held_until is None
    sent = await rows(sessionmaker)
    assert {r.not_before for r in sent} == {MONDAY_22} and {r.priority for r in sent} == {2}
    assert all(
        "【紧急通知】" in r.payload["text"] and "临时停水" in r.payload["text"] for r in sent
    )


async def test_an_early_end_is_told_to_the_same_owners_and_nobody_else(sessionmaker):
    who = await owners(sessionmaker)
    n = notices_at(MONDAY_10)
    nid, _ = await create(sessionmaker, n, start=MONDAY_10)
    async with UnitOfWork(sessionmaker) as uow:
        await uow.outbox.set_state([r.id for r in await rows(sessionmaker)], "sent")
        # 陈女士 proves her phone after the notice went out: she was not told, so not now either
        (await uow.accounts.account(who["chen"])).phone_verified = True
        assert await NoticesRepo(uow.session).end(nid, MONDAY_10 + timedelta(hours=1), "小林")
        reach = await n.tell_change(uow, nid, "ended")
        await uow.commit()
    assert reach.count == 2
    told = [r for r in await rows(sessionmaker) if r.ref.get("what") == "ended"]
    assert sorted(r.chat_id for r in told) == ["3001", "3003"]
    assert "【阳光花园】3栋的停水已提前结束，现已恢复供水。" in told[0].payload["text"]


async def test_a_notice_still_held_is_corrected_rather_than_followed_by_its_change(sessionmaker):
    await owners(sessionmaker)
    n = notices_at(MONDAY_22)
    nid, _ = await create(sessionmaker, n, start=TUESDAY_08 + timedelta(hours=6))
    async with UnitOfWork(sessionmaker) as uow:
        new_end = TUESDAY_08 + timedelta(hours=12)
        assert await NoticesRepo(uow.session).extend(nid, new_end, MONDAY_22, "小林")
        reach = await n.tell_change(uow, nid, "extended", TUESDAY_08 + timedelta(hours=10))
        await uow.commit()
    assert reach.count == 2 and reach.held_until == TUESDAY_08
    states = [(r.state, r.ref["what"]) for r in await rows(sessionmaker)]
    assert states.count(("cancelled", "push")) == 2 and states.count(("pending", "push")) == 2
    fresh = [r for r in await rows(sessionmaker) if r.state == "pending"]
    assert all("今天14:00至20:00计划停水，预计20:00恢复供水" in r.payload["text"] for r in fresh)
    async with UnitOfWork(sessionmaker) as uow:
        assert await NoticesRepo(uow.session).end(nid, MONDAY_22, "小林")
        reach = await n.tell_change(uow, nid, "ended")
        await uow.commit()
    assert reach.count == 0  # nobody had heard of it: nobody hears that it is over
    assert [r for r in await rows(sessionmaker) if r.state == "pending"] == []


async def test_wechat_owners_are_told_within_its_48_hour_window_only(sessionmaker):
    await load_owners(sessionmaker)
    inside = await account(sessionmaker, "wx1", "13800000301", True, channel="wecom")
    outside = await account(sessionmaker, "wx2", "13800000303", True, channel="wecom")
    async with UnitOfWork(sessionmaker) as uow:
        for aid, wrote in (
            (inside, MONDAY_10 - timedelta(hours=3)),
            (outside, MONDAY_10 - timedelta(days=3)),
        ):
            acc = await uow.accounts.account(aid)
            acc.last_inbound_at = wrote
        await uow.commit()
    _, reach = await create(sessionmaker, notices_at(MONDAY_10, wecom=True))
    assert reach.count == 1
    (row,) = await rows(sessionmaker)
    assert row.channel == "wecom" and row.chat_id == "wx1" and row.method == "send_msg"
    assert row.payload["text"]["content"].startswith("王女士，您好！【阳光花园】3栋")
    # no renderer for WeChat (not configured): nobody there is written for
    _, reach = await create(sessionmaker, notices_at(MONDAY_10, wecom=False))
    assert reach.count == 0


def test_the_commands_render_a_notice_as_the_bot_does():
    """bot/notice_cli.py queues notices without aiogram; its renderers must agree with the bot's."""
    view = NoticeView(
        3, "water", C, ("3", "5"), MONDAY_10, MONDAY_10 + timedelta(hours=4), "<储水> & 备用", True
    )
    for long in (False, True):
        ctx = {
            "salutation": "王女士",
            "hotline": "400",
            "service_name": "x",
            "now": MONDAY_10,
            "notice": {**context(view, TEXTS.tz), "text": "很长的说明。" * (900 if long else 1)},
        }
        msg = Message("notice_push", ctx)
        assert TelegramText(TEXTS).render(msg) == TelegramRenderer(TEXTS).render(msg)
        assert WeComText(TEXTS).render(msg) == WeComRenderer(TEXTS).render(msg)
