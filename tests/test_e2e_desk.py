"""Two actors through the fake Bot API: an owner in a private chat, agents and a stranger in the
agents' group. What each side saw and the stored history are asserted."""

from __future__ import annotations

import sqlalchemy as sa

from bot.rate_limit import GROUP_WINDOW
from storage.models import Handoff, OutboxMessage, Ticket, TicketEvent, WorkOrder
from storage.uow import UnitOfWork

from .e2e_support import AGENTS, env, texts  # noqa: F401
from .fake_bot_api import TgUser

LIN, WANG, BOSS, STRANGER = 7001, 7002, 7003, 7999


async def roster(env):
    async with UnitOfWork(env.app.sessionmaker) as uow:
        now = env.clock.now()
        await uow.staff.add_agent(str(LIN), "小林", "agent", now)
        await uow.staff.add_agent(str(WANG), "小王", "agent", now)
        await uow.staff.add_agent(str(BOSS), "周主管", "supervisor", now)
        await uow.staff.add_worker("工程部", "张师傅", "13900000001", None)
        await uow.commit()


def group_user(env, uid, name):
    return TgUser(env.api, uid, name, chat_id=AGENTS, chat_type="supergroup")


async def owner_with_repair(env, uid=6001) -> TgUser:
    owner = TgUser(env.api, uid, "王芳")
    await owner.send("/start")
    await owner.share_contact("13800000301")
    await owner.press("是")
    await owner.press("报修")
    await owner.press("厨房")
    await owner.press("水管/漏水")
    await owner.send("水管接口漏水")
    await owner.press("没有照片")
    await owner.press("一般")
    await owner.press("明天上午")
    await owner.press("确认")
    return owner


async def ticket(env) -> Ticket:
    async with UnitOfWork(env.app.sessionmaker) as uow:
        return await uow.session.scalar(sa.select(Ticket))


async def test_intake_card_take_dispatch_progress_complete_solved(env):
    await roster(env)
    owner = await owner_with_repair(env)
    lin = group_user(env, LIN, "小林")
    card = env.api.sent_to(AGENTS)[-1]
    assert "BX-20261123-0001" in card["text"] and "待受理" in card["text"]
    card_id = card["_message_id"]

    await lin.tap(data_prefix="d:take:")
    t = await ticket(env)
    assert t.status == "accepted" and t.handler_name == "小林"
    assert "已由客服小林受理" in texts(owner.new_messages())
    edits = [p for m, p in env.api.calls if m == "editMessageText"]
    assert edits and int(edits[-1]["message_id"]) == card_id and "已受理" in edits[-1]["text"]
    assert "小林" in edits[-1]["text"]

    await lin.tap(data_prefix="d:disp:")
    await lin.tap("工程部")
    await lin.tap("张师傅")
    await lin.tap("60分钟内")
    seen = texts(owner.new_messages())
    assert "工程部张师傅将于今天11:00前到场" in seen
    async with UnitOfWork(env.app.sessionmaker) as uow:
        orders = list(await uow.session.scalars(sa.select(WorkOrder)))
    assert len(orders) == 1 and orders[0].department == "工程部"

    await lin.tap(data_prefix="d:prog:")
    await lin.tap("维修人员已出发")
    seen = texts(owner.new_messages())
    assert "维修人员已出发" in seen and "预计11:00到达" in seen

    await lin.tap(data_prefix="d:done:")
    prompt = env.api.sent_to(AGENTS)[-1]
    assert "处理结果" in prompt["text"]
    await lin.reply_to(prompt["_message_id"], "已更换厨房进水管接头,试水无渗漏")
    seen = owner.new_messages()
    assert "已处理完成：已更换厨房进水管接头，试水无渗漏" in texts(seen)  # note's marks fixed
    assert (await ticket(env)).status == "done"

    seen = await owner.tap("已解决")
    assert "已关闭" in texts(seen)
    t = await ticket(env)
    assert t.status == "closed"
    async with UnitOfWork(env.app.sessionmaker) as uow:
        actions = [
            e.action
            for e in await uow.session.scalars(sa.select(TicketEvent).order_by(TicketEvent.id))
        ]
    assert actions == ["created", "take", "dispatch", "progress", "complete", "close"]


async def test_stranger_and_forged_taps_change_nothing_and_first_contact_rules(env):
    await roster(env)
    await owner_with_repair(env)
    stranger = group_user(env, STRANGER, "路人")
    await stranger.tap(data_prefix="d:take:")
    answers = stranger.callback_answers()
    assert answers[-1].get("show_alert") and "不在客服名单" in answers[-1]["text"]
    assert (await ticket(env)).status == "new"
    lin = group_user(env, LIN, "小林")
    await lin.press("x", data="d:take:9999")
    assert "过期" in lin.callback_answers()[-1]["text"]
    # completing an untaken ticket is refused with a reason, and nothing moves
    group_before = len(env.api.sent_to(AGENTS))
    await lin.press("x", data=f"d:done:{(await ticket(env)).id}")
    answer = lin.callback_answers()[-1]
    assert answer.get("show_alert") and "待受理" in answer["text"]
    assert (await ticket(env)).status == "new"
    assert len(env.api.sent_to(AGENTS)) == group_before  # no completion prompt was posted
    await lin.tap(data_prefix="d:take:")
    wang = group_user(env, WANG, "小王")
    await wang.press("接单", data=f"d:take:{(await ticket(env)).id}")
    assert "小林接单" in wang.callback_answers()[-1]["text"]
    await wang.press("派单", data=f"d:disp:{(await ticket(env)).id}")
    assert "由小林负责" in wang.callback_answers()[-1]["text"]
    # a supervisor may act on any ticket
    boss = group_user(env, BOSS, "周主管")
    await boss.press("派单", data=f"d:disp:{(await ticket(env)).id}")
    assert not boss.callback_answers()[-1].get("show_alert")
    t = await ticket(env)
    assert t.handler_name == "小林"


async def test_takeover_relay_held_reply_and_release(env):
    await roster(env)
    owner = TgUser(env.api, 6101, "王芳")
    await owner.send("/start")
    await owner.share_contact("13800000301")
    await owner.press("是")
    seen = await owner.press("人工客服")
    assert "3分钟内回复您" in texts(seen)
    request = env.api.sent_to(AGENTS)[-1]
    assert "请求人工客服" in request["text"]
    seen = await owner.send("厨房水管漏水了")
    assert "已转给客服同事" in texts(seen)
    lin = group_user(env, LIN, "小林")
    await lin.tap("接入对话")
    assert "我是客服小林" in texts(owner.new_messages())
    await owner.send("请问什么时候能来?<急>")
    header = env.api.sent_to(AGENTS)[-1]
    assert "王女士" in header["text"] and "&lt;急&gt;" in header["text"]
    await lin.reply_to(header["_message_id"], "你必须先交物业费")
    held = env.api.sent_to(AGENTS)[-1]["text"]
    assert "未发送" in held and "你必须" in held and "请您" in held
    assert owner.new_messages() == []
    group_before = len(env.api.sent_to(AGENTS))
    await lin.reply_to(header["_message_id"], "王女士您好,师傅半小时内到,请您稍候")
    # half-width punctuation is fixed on the way, silently (GB/T 15834)
    assert "客服小林</b>：王女士您好，师傅半小时内到，请您稍候" in texts(owner.new_messages())
    assert len(env.api.sent_to(AGENTS)) == group_before  # neither held nor hinted
    await owner.send_photo(caption="漏水照片", file_id="PHX")
    copies = [p for m, p in env.api.calls if m == "copyMessage"]
    assert copies and str(copies[-1]["chat_id"]) == str(AGENTS)
    await lin.tap("结束接管")
    seen = texts(owner.new_messages())
    assert "人工服务已结束" in seen and "请问还有什么可以帮您？" in seen
    assert "需要办理的业务" in seen
    async with UnitOfWork(env.app.sessionmaker) as uow:
        h = await uow.session.scalar(sa.select(Handoff))
    assert h.state == "closed"
    seen = await owner.send("还在吗")  # the bot answers again
    assert "点击下方的按钮" in texts(seen)


async def test_agent_reply_wording_hints_never_hold_the_reply(env):
    """A salutation used as a third person or a word typed twice: the reply goes (punctuation
    fixed), and the agent gets a hint; a real reduplication (看看) earns none."""
    await roster(env)
    owner = TgUser(env.api, 6151, "王芳")
    await owner.send("/start")
    await owner.share_contact("13800000301")
    await owner.press("是")
    await owner.press("人工客服")
    lin = group_user(env, LIN, "小林")
    await lin.tap("接入对话")
    owner.new_messages()
    await owner.send("水管漏水")
    header = env.api.sent_to(AGENTS)[-1]
    await lin.reply_to(header["_message_id"], "请问王女士什么时候方便,师傅尽快上门上门")
    seen = texts(owner.new_messages())
    assert "请问王女士什么时候方便，师傅尽快上门上门" in seen
    hint = env.api.sent_to(AGENTS)[-1]["text"]
    assert "已发给业主" in hint and "请问王女士" in hint and "请问您" in hint and "上门上门" in hint
    group_before = len(env.api.sent_to(AGENTS))
    await lin.reply_to(header["_message_id"], "好的,我帮您看看,谢谢您")
    assert "好的，我帮您看看，谢谢您" in texts(owner.new_messages())
    assert len(env.api.sent_to(AGENTS)) == group_before  # no hint, nothing held


async def test_waiting_owner_gets_an_update_and_can_stop_waiting(env):
    await roster(env)
    owner = TgUser(env.api, 6201, "王芳")
    await owner.send("/start")
    await owner.share_contact("13800000301")
    await owner.press("是")
    await owner.press("人工客服")
    env.clock.advance(minutes=4)
    from bot.desk.relay import nudge_waiting

    async with UnitOfWork(env.app.sessionmaker) as uow:
        assert await nudge_waiting(env.app.desk, uow) == 1
        await uow.commit()
    await env.sender.deliver()
    assert "久等了" in texts(owner.new_messages())
    seen = await owner.press("不等了")
    assert "已为您取消人工客服排队" in texts(seen)  # nobody had answered: no "结束人工服务"


async def test_urge_alerts_and_second_overdue_urge_goes_to_supervisors(env):
    await roster(env)
    owner = await owner_with_repair(env)
    await owner.press("我的工单")
    await owner.press("BX-20261123-0001")
    seen = await owner.press("催办")
    said = texts(seen)
    # nobody took it yet: the duty agents are reminded, and the owner hears by when
    assert "已为您催办工单" in said and "已提醒值班客服" in said and "前会与您联系" in said
    assert "业主催办" in env.api.sent_to(AGENTS)[-1]["text"]
    seen = await owner.press("催办")
    assert "刚刚已经为您催办过" in texts(seen)
    env.clock.advance(days=2)  # now overdue
    seen = await owner.press("催办")
    assert "上报给客服主管" in texts(seen)
    assert "催办上报主管" in env.api.sent_to(AGENTS)[-1]["text"]
    assert env.api.sent_to(BOSS)  # the supervisor is told directly too


async def test_group_limit_folds_backed_up_cards_into_a_digest(env):
    await roster(env)
    # fill the group's minute
    for _ in range(20):
        env.sender.group_limit.record(str(AGENTS), env.clock.now())
    for uid in (6301, 6302, 6303):
        await owner_with_repair(env, uid)
    async with UnitOfWork(env.app.sessionmaker) as uow:
        folded = list(
            await uow.session.scalars(
                sa.select(OutboxMessage).where(OutboxMessage.state == "folded")
            )
        )
    assert len(folded) >= 2
    env.clock.advance(seconds=GROUP_WINDOW.total_seconds())
    await env.sender.deliver()
    digest = [p for p in env.api.sent_to(AGENTS) if "新工单汇总" in p["text"]]
    assert digest
    buttons = [
        b["callback_data"] for row in digest[-1]["reply_markup"]["inline_keyboard"] for b in row
    ]
    assert all(d.startswith("d:take:") for d in buttons) and len(buttons) >= 2


async def test_old_and_mangled_group_buttons_are_answered_as_stale(env):
    await roster(env)
    await owner_with_repair(env)
    lin = group_user(env, LIN, "小林")
    before = len(env.api.sent_to(AGENTS))
    for data in ("d:tkov:x", "d:complete:1", "dispatch:x", "callback:", "d:eta:1:0"):
        await lin.press("x", data=data)
        answer = lin.callback_answers()[-1]
        assert answer.get("show_alert") and "过期" in answer["text"], data
    assert (await ticket(env)).status == "new"
    assert len(env.api.sent_to(AGENTS)) == before


async def test_buttons_posted_before_the_upgrade_still_work(env):
    """Cards stay in the group for days: their old data (d:pstep:<ticket>:<step>) still acts."""
    await roster(env)
    owner = await owner_with_repair(env)
    lin = group_user(env, LIN, "小林")
    await lin.tap(data_prefix="d:take:")
    t = await ticket(env)
    owner.new_messages()
    await lin.press("x", data=f"d:pstep:{t.id}:0")  # 已联系业主, as the old cards said it
    assert not lin.callback_answers()[-1].get("show_alert")
    assert (await ticket(env)).status == "in_progress"
    assert "已联系业主" in texts(owner.new_messages())


async def _progress_events(env) -> list[str]:
    async with UnitOfWork(env.app.sessionmaker) as uow:
        return [
            e.note
            for e in await uow.session.scalars(
                sa.select(TicketEvent).where(TicketEvent.action == "progress")
            )
        ]


async def test_a_tap_delivered_ten_times_or_tapped_twice_applies_once(env):
    """Issue 10, finding 5: a 进度 tap redelivered 10 times made 10 events and 10 messages."""
    await roster(env)
    owner = await owner_with_repair(env)
    lin = group_user(env, LIN, "小林")
    await lin.tap(data_prefix="d:take:")
    await lin.tap(data_prefix="d:prog:")
    owner.new_messages()
    await lin.press("已联系业主", times=10)  # one update, delivered ten times
    assert await _progress_events(env) == ["已联系业主"]
    assert texts(owner.new_messages()).count("已联系业主") == 1
    # a double tap: two updates on the same picker; the second finds the card moved on
    await lin.tap(data_prefix="d:prog:")
    departed = [
        b["callback_data"]
        for m in env.api.sent_to(AGENTS)
        for row in (m.get("reply_markup") or {}).get("inline_keyboard", [])
        for b in row
        if b["text"] == "维修人员已出发"
    ][-1]
    await lin.press("x", data=departed)
    await lin.press("x", data=departed)
    assert await _progress_events(env) == ["已联系业主", "维修人员已出发"]
    answer = lin.callback_answers()[-1]
    assert answer.get("show_alert") and "过期" in answer["text"]
