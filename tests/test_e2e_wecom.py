"""A WeChat owner does what a Telegram owner does, through the fake WeCom server: greeted on
entering, verified by an SMS code, reports a repair by tapping menu items, confirms the readback,
gets the ticket; the agents' group gets the card marked 微信; the agent's progress reaches the
owner on WeChat; the survey is answered by menu items; a restart in the middle of a pull loses
and doubles nothing; the budget runs out and the phone call task appears."""

from __future__ import annotations

import re

import sqlalchemy as sa

from bot.followups.scheduler import Scheduler
from storage.models import Account, ChannelMessage, OutboxMessage, Survey, Ticket
from storage.uow import UnitOfWork

from .e2e_support import AGENTS
from .fake_bot_api import TgUser
from .wecom_support import WxOwner, text_of, wx  # noqa: F401

LIN = 7001
PHONE = "13800000301"  # 王女士, 3号楼1单元3A, in the sample registry


async def roster(env) -> None:
    async with UnitOfWork(env.app.sessionmaker) as uow:
        now = env.clock.now()
        await uow.staff.add_agent(str(LIN), "小林", "agent", now)
        await uow.staff.add_worker("工程部", "张师傅", "13900000001", None)
        await uow.commit()


async def verified_owner(wx) -> WxOwner:  # noqa: F811
    owner = WxOwner(wx)
    greeting = text_of(await owner.enters())
    assert "手机号" in greeting
    assert wx.fake.sent[0]["api"] == "send_msg_on_event"  # with the welcome code, no budget
    asked = text_of(await owner.says(PHONE))
    assert "尾号0301" in asked
    (code,) = wx.sms.sent["+86" + PHONE]
    assert code not in asked  # the code goes by SMS only
    confirm = text_of(await owner.says(code))
    assert "王女士" in confirm and "3A" in confirm
    await owner.taps("是")
    return owner


async def report_repair(owner: WxOwner) -> str:
    await owner.taps("报修")
    await owner.taps("厨房")
    await owner.taps("水管")
    await owner.says("水管接口一直在滴水")
    await owner.taps("没有照片")
    await owner.taps("一般")
    readback = await owner.taps("明天上午")
    # the readback and its menu in one message
    assert len(readback) == 1 and readback[0]["msgtype"] == "msgmenu"
    assert "水管接口一直在滴水" in text_of(readback)
    done = text_of(await owner.taps("确认"))
    number = re.search(r"BX-\d{8}-\d{4}", done)
    assert number, done
    return number.group(0)


async def test_a_wechat_owner_verifies_reports_hears_progress_and_answers_the_survey(wx):  # noqa: F811
    await roster(wx)
    owner = await verified_owner(wx)
    number = await report_repair(owner)

    card = wx.api.sent_to(AGENTS)[-1]
    assert number in card["text"] and "微信" in card["text"]
    async with UnitOfWork(wx.app.sessionmaker) as uow:
        t = await uow.session.scalar(sa.select(Ticket))
        acc = await uow.session.scalar(sa.select(Account).where(Account.channel == "wecom"))
    assert t.reporter_verified and acc.phone_verified

    lin = TgUser(wx.api, LIN, "小林", chat_id=AGENTS, chat_type="supergroup")
    await lin.tap(data_prefix="d:take:")
    await wx.settle()
    assert "小林" in text_of(owner.new_messages())
    await lin.tap(data_prefix="d:prog:")
    await lin.tap("维修人员已出发")
    await wx.settle()
    assert "出发" in text_of(owner.new_messages())

    await lin.tap(data_prefix="d:done:")
    await lin.tap("直接完成")
    await wx.settle()
    done = owner.new_messages()
    assert "已解决" in text_of(done) and done[-1]["msgtype"] == "msgmenu"
    assert "已关闭" in text_of(await owner.taps("已解决"))

    # 回访 the next morning at 09:00, answered by menu items
    wx.advance(hours=23)
    await Scheduler(wx.app.sessionmaker, wx.app.desk).tick()
    await wx.settle()
    question = owner.new_messages()
    assert question and question[-1]["msgtype"] == "msgmenu"
    assert all(i["click"]["id"].startswith("s:") for i in question[-1]["msgmenu"]["list"])
    answered = 0
    while answered < 6:
        labels = " ".join(label for _, label in owner.menu())
        pick = next((x for x in ("非常满意", "已解决", "跳过") if x in labels), None)
        if pick is None:
            break
        seen = text_of(await owner.taps(pick))
        answered += 1
        if "感谢" in seen:
            break
    async with UnitOfWork(wx.app.sessionmaker) as uow:
        sv = await uow.session.scalar(sa.select(Survey))
    assert sv is not None and sv.state == "answered" and sv.overall == 5

    # every message went out within WeChat's rules: no refusal, nothing left behind
    assert wx.fake.refused == []
    async with UnitOfWork(wx.app.sessionmaker) as uow:
        left = await uow.session.scalar(
            sa.select(sa.func.count())
            .select_from(OutboxMessage)
            .where(OutboxMessage.channel == "wecom", OutboxMessage.state != "sent")
        )
    assert left == 0


async def test_a_restart_in_the_middle_of_a_pull_loses_and_doubles_nothing(wx):  # noqa: F811
    owner = WxOwner(wx)
    await owner.enters()
    for word in ("你好", "请问", "物业", "在吗"):
        wx.fake.owner_says(owner.uid, word)
    applied = []
    real = wx.wecom.inbound.apply

    async def crash_after_two(msg):
        if len(applied) == 2:
            raise ConnectionResetError("killed")  # the process dies in the middle of a page
        done = await real(msg)
        applied.append(msg["msgid"])
        return done

    wx.wecom.inbound.apply = crash_after_two
    await wx.fake.ring(wx.callback_url)
    try:
        await wx.wecom.puller.pull()
    except ConnectionResetError:
        pass
    # a new process: the same database, a new puller
    await wx.stop()
    await wx.start()
    await wx.fake.ring(wx.callback_url)
    await wx.settle()
    async with UnitOfWork(wx.app.sessionmaker) as uow:
        handled = list(await uow.session.scalars(sa.select(ChannelMessage.msgid)))
    owner_msgids = [m["msgid"] for _, m in wx.fake.inbox if m.get("msgtype") == "text"]
    assert all(m in handled for m in owner_msgids)
    assert len(handled) == len(set(handled))


async def test_the_budget_runs_out_then_the_handler_is_asked_to_call(wx):  # noqa: F811
    await roster(wx)
    owner = await verified_owner(wx)
    number = await report_repair(owner)  # its last message: the owner's last for a while
    lin = TgUser(wx.api, LIN, "小林", chat_id=AGENTS, chat_type="supergroup")
    await lin.tap(data_prefix="d:take:")
    await wx.settle()
    for step in ("已联系业主", "维修人员已出发", "已到场", "正在维修", "等待配件"):
        # each goes out on its own (pushes waiting together would be merged into one)
        await lin.tap(data_prefix="d:prog:")
        await lin.tap(step)
        await wx.settle()
    pushed = owner.new_messages()
    # five in the 48 hours after the owner last wrote (the ticket's confirmation, 受理 and
    # three steps); WeChat was never asked for a sixth
    assert len(pushed) == 4 and "已到场" in text_of(pushed[-1:])
    assert all(code != 95001 for _, code, _ in wx.fake.refused)
    (alert,) = [m["text"] for m in wx.api.sent_to(AGENTS) if "📵" in m.get("text", "")]
    assert "48小时内可发的5条已用完" in alert and number in alert and "电话联系" in alert
    async with UnitOfWork(wx.app.sessionmaker) as uow:
        held = await uow.session.scalar(
            sa.select(sa.func.count())
            .select_from(OutboxMessage)
            .where(OutboxMessage.channel == "wecom", OutboxMessage.state == "held")
        )
    assert held >= 1
    # the owner writes again: what waited goes first, in the same message as the answer
    answer = await owner.says("师傅什么时候到？")
    assert len(answer) == 1 and "配件" in text_of(answer)


async def test_a_photo_sent_to_a_person_reaches_the_group_fetched_from_wechat(wx):  # noqa: F811
    await roster(wx)
    owner = await verified_owner(wx)
    asked = text_of(await owner.taps("人工客服"))
    assert "客服" in asked
    wx.fake.owner_sends_image(owner.uid, content=b"\x89PNG fake photo bytes", filename="leak.png")
    attempts = await wx.fake.ring(wx.callback_url)
    assert attempts[-1].status == 200
    await wx.settle()
    header = [m for m in wx.api.sent_to(AGENTS) if "发来照片" in m.get("text", "")]
    assert header and "（微信）" in header[-1]["text"]
    photos = [(m, p) for m, p in wx.api.calls if m == "sendPhoto"]
    assert photos and str(photos[-1][1]["chat_id"]) == str(AGENTS)
    assert "/cgi-bin/media/get" in wx.fake.calls
