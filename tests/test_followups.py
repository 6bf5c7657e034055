"""Follow-ups on the fake clock through the real bot: each schedule fires once at its time, quiet
hours defer, surveys, reminders, bad reviews, SLA reminders and escalations, restarts, 403."""

from __future__ import annotations

import asyncio
from datetime import UTC, timedelta

import sqlalchemy as sa

from bot.followups.scheduler import Scheduler, SchedulerLocked, SqliteSchedulerLock
from storage.models import Account, FollowUp, OutboxMessage, Survey, Task, Ticket
from storage.uow import UnitOfWork

from .e2e_support import AGENTS, env, start_bot, stop_bot, texts  # noqa: F401
from .fake_bot_api import TgUser
from .test_e2e_desk import BOSS, LIN, group_user, owner_with_repair, roster, ticket


def scheduler(env) -> Scheduler:
    return Scheduler(env.app.sessionmaker, env.app.desk)


async def tick(env) -> int:
    n = await scheduler(env).tick()
    await env.sender.deliver()
    return n


async def complete_ticket(env, owner, *, urgent=False) -> Ticket:
    lin = group_user(env, LIN, "小林")
    try:
        await lin.tap(data_prefix="d:take:")
    except AssertionError:
        await lin.tap(data_prefix="d:grab:")  # urgent tickets are offered to be grabbed
    await lin.tap(data_prefix="d:done:")
    await lin.tap("直接完成")
    owner.new_messages()
    return await ticket(env)


async def urgent_repair(env, uid=6401) -> TgUser:
    owner = TgUser(env.api, uid, "王芳")
    await owner.send("/start")
    await owner.share_contact("13800000301")
    await owner.press("是")
    await owner.press("报修")
    await owner.press("卧室")
    await owner.press("电路/停电")
    await owner.send("卧室插座没电了，一直跳闸")
    await owner.press("没有照片")
    await owner.press("紧急")
    await owner.press("尽快上门")
    await owner.press("确认")
    return owner


async def test_urgent_repair_survey_fires_once_30_minutes_after_completion(env):
    await roster(env)
    owner = await urgent_repair(env)
    await complete_ticket(env, owner)
    env.clock.advance(minutes=29)
    await tick(env)
    assert "回访" not in texts(owner.new_messages())
    env.clock.advance(minutes=1)
    await tick(env)
    seen = owner.new_messages()
    assert "1/5 请问您对这次服务总体满意吗" in texts(seen)
    await tick(env)
    assert owner.new_messages() == []  # once


async def test_survey_answers_are_stored_and_solved_is_skipped_after_yijiejue(env):
    await roster(env)
    owner = await urgent_repair(env)
    await complete_ticket(env, owner)
    await owner.tap("已解决")
    env.clock.advance(minutes=30)
    await tick(env)
    await owner.tap("非常满意")
    await owner.tap("🙂 满意")
    seen = await owner.tap("非常满意")
    assert "5/5" in texts(seen) and "4/5" not in texts(seen)  # 问题是否已解决 skipped
    seen = await owner.send("师傅很专业,谢谢")
    assert "感谢" in texts(seen)
    async with UnitOfWork(env.app.sessionmaker) as uow:
        sv = await uow.session.scalar(sa.select(Survey))
    assert (sv.overall, sv.speed, sv.attitude, sv.solved) == (5, 4, 5, True)
    assert sv.comment == "师傅很专业,谢谢" and sv.mood == "happy" and sv.handler_name == "小林"
    assert (await ticket(env)).status == "closed"
    # an old survey button changes nothing: the owner is told it has expired, the score stays
    await owner.press("x", data=f"s:{sv.id}:overall:1")
    assert "已经记录过了" in owner.callback_answers()[-1]["text"]
    async with UnitOfWork(env.app.sessionmaker) as uow:
        sv = await uow.session.scalar(sa.select(Survey))
    assert sv.overall == 5 and sv.state == "answered"


async def test_bad_score_reopens_opens_callback_task_and_checks_improvement_later(env):
    await roster(env)
    owner = await urgent_repair(env)
    await complete_ticket(env, owner)
    env.clock.advance(minutes=30)
    await tick(env)
    await owner.tap("非常不满意")
    await owner.tap("不满意")
    await owner.tap("一般")
    await owner.tap("否，还没解决")
    seen = await owner.tap("跳过")
    assert "小林将在今天11:30前与您电话联系" in texts(seen)
    t = await ticket(env)
    assert t.status == "in_progress"
    alert = [p for p in env.api.sent_to(AGENTS) if "差评回访" in p["text"]]
    assert alert and env.api.sent_to(BOSS)
    lin = group_user(env, LIN, "小林")
    await lin.tap("记录回访结果")
    prompt = env.api.sent_to(AGENTS)[-1]
    await lin.reply_to(prompt["_message_id"], "已致电业主,重新更换插座,业主认可")
    async with UnitOfWork(env.app.sessionmaker) as uow:
        task = await uow.session.scalar(sa.select(Task))
        later = await uow.session.scalar(
            sa.select(FollowUp).where(FollowUp.kind == "survey", FollowUp.state == "pending")
        )
    assert task.state == "done" and "重新更换" in task.result
    assert later.data == {"kind": "improvement"}
    assert later.due_at - env.clock.now() == timedelta(days=3)


async def test_unanswered_survey_gets_one_reminder_then_closes_as_no_answer(env):
    await roster(env)
    owner = await urgent_repair(env)
    await complete_ticket(env, owner)
    env.clock.advance(minutes=30)
    await tick(env)
    owner.new_messages()
    env.clock.advance(hours=24)
    await tick(env)
    assert "还没有收到您的评价" in texts(owner.new_messages())
    env.clock.advance(hours=47)
    await tick(env)
    env.clock.advance(hours=1)
    await tick(env)
    async with UnitOfWork(env.app.sessionmaker) as uow:
        sv = await uow.session.scalar(sa.select(Survey))
    assert sv.state == "no_answer"
    assert owner.new_messages() == []  # one reminder only


async def test_quiet_hours_defer_ordinary_follow_ups_to_the_morning(env):
    await roster(env)
    owner = await owner_with_repair(env)  # ordinary repair
    await complete_ticket(env, owner)
    async with UnitOfWork(env.app.sessionmaker) as uow:
        f = await uow.session.scalar(
            sa.select(FollowUp).where(FollowUp.kind == "survey").order_by(FollowUp.due_at).limit(1)
        )
        f.due_at = env.clock.now() + timedelta(hours=12)  # 22:00 Shanghai
        fid = f.id
        await uow.commit()
    env.clock.advance(hours=12)
    await tick(env)
    assert "回访" not in texts(owner.new_messages())
    async with UnitOfWork(env.app.sessionmaker) as uow:
        f = await uow.session.get(FollowUp, fid)
    assert f.state == "pending"
    assert f.due_at.astimezone(env.app.texts.tz).hour == 8
    env.clock.advance(hours=10)
    await tick(env)
    assert "1/5" in texts(owner.new_messages())


async def test_sla_reminder_escalation_and_delay_with_apology(env):
    await roster(env)
    owner = await owner_with_repair(env)  # Monday 10:00, visit 明天上午 (Tuesday 09:00–12:00)
    lin = group_user(env, LIN, "小林")
    await lin.tap(data_prefix="d:take:")
    owner.new_messages()
    env.clock.advance(minutes=30)
    await tick(env)  # the contact promise was kept (taken at once): nothing about it
    assert not any("超时" in p["text"] for p in env.api.sent_to(AGENTS))
    # arrival by Tuesday 12:00: 80% of the 14 working hours → Tuesday 09:12
    env.clock.advance(hours=22, minutes=43)
    await tick(env)
    warn = [p["text"] for p in env.api.sent_to(AGENTS) if "即将超时" in p["text"]]
    assert len(warn) == 1 and "明天" not in warn[0] and "12:00前到场" in warn[0]
    env.clock.advance(hours=3)
    await tick(env)
    assert any("已超时" in p["text"] and "到场" in p["text"] for p in env.api.sent_to(AGENTS))
    assert env.api.sent_to(BOSS)
    await lin.tap("延期2小时")
    seen = texts(owner.new_messages())
    assert "非常抱歉" in seen and "需要延后" in seen


async def test_a_ticket_nobody_takes_is_flagged_before_its_contact_promise(env):
    """Seen: the owner was promised contact by 10:07, nobody took the ticket, and the group heard
    nothing until 12:49. The first promise is watched, not only the last."""
    await roster(env)
    await owner_with_repair(env)  # 10:00, ordinary: contact promised by 10:30
    env.clock.advance(minutes=24)
    await tick(env)
    warn = [p for p in env.api.sent_to(AGENTS) if "即将超时" in p["text"]]
    assert len(warn) == 1
    assert "10:30前联系" in warn[0]["text"] and "尚未有人接单" in warn[0]["text"]
    env.clock.advance(minutes=6)
    await tick(env)
    over = [p for p in env.api.sent_to(AGENTS) if "已超时" in p["text"]]
    assert len(over) == 1 and "无人接单" in over[0]["text"]
    # the way out is offered on the alert itself: take it now
    buttons = [
        b["callback_data"] for row in over[0]["reply_markup"]["inline_keyboard"] for b in row
    ]
    assert any(d.startswith("d:take:") for d in buttons)  # an ordinary repair: 接单, not 抢单
    assert any("已超时" in p["text"] for p in env.api.sent_to(BOSS))
    # once taken, the contact stage says nothing more
    lin = group_user(env, LIN, "小林")
    await lin.tap(data_prefix="d:take:")
    before = len(env.api.sent_to(AGENTS))
    env.clock.advance(minutes=30)
    await tick(env)
    assert not any("超时" in p["text"] for p in env.api.sent_to(AGENTS)[before:])


async def test_waiting_for_parts_pauses_the_sla_clock(env):
    await roster(env)
    owner = await owner_with_repair(env)
    lin = group_user(env, LIN, "小林")
    await lin.tap(data_prefix="d:take:")
    await lin.tap(data_prefix="d:prog:")
    await lin.tap("等待配件")
    env.clock.advance(hours=3)
    await lin.tap(data_prefix="d:prog:")
    await lin.tap("正在维修")
    async with UnitOfWork(env.app.sessionmaker) as uow:
        rows = await uow.session.scalars(sa.select(FollowUp).where(FollowUp.kind == "sla_warn"))
        warn = next(f for f in rows if f.data["stage"] == "arrive")
    # created Monday 10:00 with the arrival reminder on Tuesday 09:12; 3 hours stood still
    assert warn.due_at.astimezone(env.app.texts.tz).strftime("%d %H:%M") == "24 12:12"
    assert warn.data["deadline"].startswith("2026-11-24T15:00")
    assert owner


async def test_restart_between_commit_and_send_sends_the_survey_once(env):
    await roster(env)
    owner = await urgent_repair(env)
    await complete_ticket(env, owner)
    env.clock.advance(minutes=30)
    assert await scheduler(env).tick() >= 1  # committed, not sent: the process "dies" here
    await stop_bot(env)
    h2 = await start_bot(env.url, env.api, env.clock)
    try:
        assert await h2.sender.deliver() >= 1
        assert await Scheduler(h2.app.sessionmaker, h2.app.desk).tick() == 0
        assert await h2.sender.deliver() == 0
        surveys = [m for m in owner.all_messages() if "1/5" in m.get("text", "")]
        assert len(surveys) == 1
    finally:
        await stop_bot(h2)


async def test_blocked_owner_is_marked_unreachable_handler_told_survey_by_phone(env):
    await roster(env)
    owner = await urgent_repair(env)
    await complete_ticket(env, owner)
    env.api.failures["sendMessage"] = [
        (
            403,
            {
                "ok": False,
                "error_code": 403,
                "description": "Forbidden: bot was blocked by the user",
            },
        )
    ]
    env.clock.advance(minutes=30)
    await tick(env)
    async with UnitOfWork(env.app.sessionmaker) as uow:
        acc = await uow.session.scalar(sa.select(Account).where(Account.external_id == "6401"))
        task = await uow.session.scalar(sa.select(Task))
        failed = await uow.session.scalar(
            sa.select(OutboxMessage).where(OutboxMessage.state == "failed")
        )
    assert acc.unreachable and failed.attempts == 1
    assert task is not None and task.kind == "phone_survey"
    group = texts(env.api.sent_to(AGENTS))
    assert "无法接收" in group and "电话回访任务" in group


async def test_agent_can_resend_a_survey_from_the_card(env):
    await roster(env)
    owner = await urgent_repair(env)
    await complete_ticket(env, owner)
    lin = group_user(env, LIN, "小林")
    await lin.tap("重发回访")
    await tick(env)
    assert "1/5" in texts(owner.new_messages())


async def test_two_claimers_take_each_row_once(sessionmaker):
    from datetime import datetime

    now = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)
    async with UnitOfWork(sessionmaker) as uow:
        for i in range(60):
            await uow.followups.add("noop", now, now)
        await uow.commit()

    async def claimer() -> list[int]:
        got = []
        while True:
            async with UnitOfWork(sessionmaker) as uow:
                rows = await uow.followups.claim(now, limit=7)
                await uow.commit()
            if not rows:
                return got
            got += [r.id for r in rows]
            await asyncio.sleep(0)

    a, b = await asyncio.gather(claimer(), claimer())
    assert len(a) + len(b) == 60 and not set(a) & set(b)


def test_second_scheduler_on_one_sqlite_file_refuses(tmp_path):
    url = f"sqlite+aiosqlite:///{tmp_path / 'x.sqlite3'}"
    first = SqliteSchedulerLock(url)
    first.acquire()
    try:
        second = SqliteSchedulerLock(url)
        try:
            second.acquire()
            raise AssertionError("second scheduler started")
        except SchedulerLocked as e:
            assert "already running" in str(e)
    finally:
        first.release()


async def test_menu_leaves_the_survey_comment_and_a_repair_then_starts(env):
    """Seen: after the optional comment was asked, the owner typed /menu and then 报修 (the menu
    button's label, as a client sends it); the label was stored as the survey comment and no
    repair started. /menu leaves the comment: the survey ends without one."""
    await roster(env)
    owner = await urgent_repair(env)
    await complete_ticket(env, owner)
    env.clock.advance(minutes=30)
    await tick(env)
    await owner.tap("非常满意")
    await owner.tap("🙂 满意")
    await owner.tap("非常满意")
    seen = await owner.tap("是，已解决")
    assert "跳过" in str(seen)  # the optional comment is asked for
    await owner.send("/menu")
    seen = await owner.send("🔧 报修")
    assert "需要维修的位置" in texts(seen)
    async with UnitOfWork(env.app.sessionmaker) as uow:
        sv = await uow.session.scalar(sa.select(Survey))
    assert sv.comment == "" and sv.state == "answered"
    assert (await ticket(env)).status == "closed"  # the survey's scores still count
