"""One fault, one ticket (issue 12) through the real dispatcher and the fake Bot API: a dark
stairwell light in building 3 reported by three owners is one ticket with three reporters, the
card says so, and all three hear the progress, the completion (and may answer it) and the 回访.
A supervisor merges a fourth owner's ticket of the same fault into it and splits her back out;
an agent who is not a supervisor is refused."""

from __future__ import annotations

import re

from bot.followups.scheduler import Scheduler
from storage.models import Survey, Ticket, TicketEvent, TicketSubscriber
from storage.uow import UnitOfWork

from . import e2e_support
from .e2e_support import AGENTS
from .fake_bot_api import TgUser

env = e2e_support.env  # the running bot, its fake Bot API and its clock

LIN, BOSS = 7001, 7003
FIRST, SECOND, THIRD = (f"BX-20261123-000{n}" for n in (1, 2, 3))
OWNERS = (  # (Telegram id, name, phone, room in building 3)
    (6001, "王芳", "13800000301", "3A"),
    (6002, "陈静", "13800000302", "3B"),
    (6003, "赵磊", "13800000303", "3E"),
)


async def roster(h) -> None:
    async with UnitOfWork(h.app.sessionmaker) as uow:
        now = h.clock.now()
        await uow.staff.add_agent(str(LIN), "小林", "agent", now)
        await uow.staff.add_agent(str(BOSS), "周主管", "supervisor", now)
        await uow.staff.add_worker("工程部", "张师傅", "13900000001", None)
        await uow.commit()


def in_group(h, uid: int, name: str) -> TgUser:
    return TgUser(h.api, uid, name, chat_id=AGENTS, chat_type="supergroup")


async def owner(h, uid: int, name: str, phone: str) -> TgUser:
    o = TgUser(h.api, uid, name)
    await o.send("/start")
    await o.share_contact(phone)
    await o.press("是")
    o.new_messages()
    return o


async def public_lighting(o: TgUser, floor: str, spot: str = "楼道") -> str:
    """报修 → 公共区域 → 3栋 → floor → spot → 照明: what the owner is told next."""
    for label in ("报修", "公共区域", "3栋"):
        await o.press(label)
    await o.send(floor)
    await o.press(spot)
    return texts(await o.press("照明"))


async def file_rest(o: TgUser, words: str) -> str:
    await o.send(words)
    await o.press("没有照片")
    await o.press("一般")
    return texts(await o.press("确认"))


def texts(msgs) -> str:
    """What the people saw, without the HTML marks."""
    return re.sub(r"<[^<>]+>", "", e2e_support.texts(msgs))


def card(h, number: str) -> str:
    """The ticket's card as the group sees it now (its latest post or edit)."""
    for m in reversed(h.api.sent_to(AGENTS)):
        head = m.get("text", "").split("\n", 1)[0]
        if number in head and "类型：" in m.get("text", ""):
            return re.sub(r"<[^<>]+>", "", m["text"])
    raise AssertionError(f"no card for {number}")


async def rows(h, model, *where):
    return await h.rows(model, *where)


async def test_one_stairwell_light_three_owners_one_ticket_all_hear_it(env):
    h = env
    await roster(h)
    wang, chen, zhao = [await owner(h, uid, name, phone) for uid, name, phone, _ in OWNERS]

    said = await public_lighting(wang, "5")
    assert "请您描述一下" in said or "描述" in said
    said = await file_rest(wang, "5楼楼道的灯不亮了，晚上一片漆黑")
    assert FIRST in said
    assert "报修人数" not in card(h, FIRST)

    for o, floor in ((chen, "6"), (zhao, "4")):
        said = await public_lighting(o, floor)
        assert "这个问题已有业主报修（工单号" in said and FIRST in said, said
        assert "进展会同步通知您" in said and "描述" not in said
        said = texts(await o.press("好的"))
        assert "有新进展时会第一时间通知您" in said
    assert "报修人数：3" in card(h, FIRST)
    tickets = await rows(h, Ticket)
    assert len(tickets) == 1
    subs = await rows(h, TicketSubscriber, TicketSubscriber.active)
    assert len(subs) == 2 and {s.ticket_id for s in subs} == {tickets[0].id}

    # the desk works the one ticket; every reporter hears each step
    lin = in_group(h, LIN, "小林")
    tid = tickets[0].id
    await lin.press("接单", data=f"d:take:{tid}")
    await lin.press("派单", data=f"d:disp:{tid}")
    await lin.tap("工程部")
    await lin.tap("张师傅")
    await lin.tap("60分钟内")
    await lin.press("进度", data=f"d:prog:{tid}")
    await lin.tap("维修人员已出发")
    heard = {o: texts(o.new_messages()) for o in (wang, chen, zhao)}
    for o, seen in heard.items():
        assert "已由客服小林受理" in seen, seen
        assert "工程部张师傅将于今天11:00前到场" in seen
        # the place of the fault, never the reporter's home
        assert "预计11:00到达3栋5楼楼道" in seen and "3A" not in seen
    await lin.press("完成", data=f"d:done:{tid}")
    prompt = h.api.sent_to(AGENTS)[-1]
    await lin.reply_to(prompt["_message_id"], "已更换5楼楼道灯泡和感应开关")
    for o in (wang, chen, zhao):
        seen = o.new_messages()
        assert "已处理完成：已更换5楼楼道灯泡和感应开关" in texts(seen)
        labels = [b["text"] for m in seen for r in m["reply_markup"]["inline_keyboard"] for b in r]
        assert "✅ 已解决" in labels and "还有问题" in labels

    # the next morning's 回访 reaches all three
    h.clock.advance(hours=23, minutes=5)
    await Scheduler(h.app.sessionmaker, h.app.desk).tick()
    await h.sender.deliver()
    for o in (wang, chen, zhao):
        assert "1/5 请问您对这次服务总体满意吗" in texts(o.new_messages())
    surveys = await rows(h, Survey)
    assert sorted(s.account_id for s in surveys) == sorted(
        {s.account_id for s in subs} | {tickets[0].reporter_account_id}
    )

    # a subscriber's 已解决 counts: the answer is theirs, the ticket closes
    said = texts(await chen.tap("已解决"))
    assert "陈女士的确认" in said and "已关闭" in said
    assert (await rows(h, Ticket))[0].status == "closed"
    assert "已关闭" not in texts(wang.new_messages())  # the thanks went to whoever tapped


async def test_a_supervisor_merges_and_splits_an_agent_may_not(env):
    h = env
    await roster(h)
    wang, chen, zhao = [await owner(h, uid, name, phone) for uid, name, phone, _ in OWNERS]
    await public_lighting(wang, "5")
    await file_rest(wang, "5楼楼道的灯不亮了")
    await public_lighting(chen, "6")
    await chen.press("好的")
    # 赵先生 names the same dark stairwell as 其他: a ticket of its own
    said = await public_lighting(zhao, "5", spot="其他")
    assert "已有业主报修" not in said
    assert SECOND in await file_rest(zhao, "5楼楼梯间灯不亮")
    assert "报修人数：2" in card(h, FIRST)

    lin, boss = in_group(h, LIN, "小林"), in_group(h, BOSS, "周主管")
    before = await rows(h, TicketEvent)
    await lin.send(f"/merge {FIRST} {SECOND}")
    refused = h.api.sent_to(AGENTS)[-1]["text"]
    assert "需要主管权限" in refused and "周主管" in refused
    await lin.send(f"/split {FIRST} 陈")
    assert "需要主管权限" in h.api.sent_to(AGENTS)[-1]["text"]
    assert len(await rows(h, TicketEvent)) == len(before)  # nothing moved

    await boss.send("/merge")
    assert "用法：/merge" in h.api.sent_to(AGENTS)[-1]["text"]
    await boss.send(f"/merge {FIRST} BX-20261123-0009")
    assert "没有找到工单 BX-20261123-0009" in h.api.sent_to(AGENTS)[-1]["text"]
    assert len(await rows(h, TicketEvent)) == len(before)

    await boss.send(f"/merge {FIRST} {SECOND}")
    assert f"{SECOND} 已合并到 {FIRST}" in texts(h.api.sent_to(AGENTS)[-3:])
    second = (await rows(h, Ticket, Ticket.number == SECOND))[0]
    first = (await rows(h, Ticket, Ticket.number == FIRST))[0]
    assert second.status == "closed" and second.merged_into == first.id
    assert "报修人数：3" in card(h, FIRST)
    assert f"已合并到：{FIRST}" in card(h, SECOND)
    assert f"工单{SECOND}与工单{FIRST}是同一个问题" in texts(zhao.new_messages())
    actions = {
        (e.ticket_id, e.action, e.note)
        for e in await rows(h, TicketEvent, TicketEvent.action.in_(("merged", "merged_in")))
    }
    assert actions == {(second.id, "merged", FIRST), (first.id, "merged_in", SECOND)}
    # 赵先生 now hears the first ticket's news
    await lin.press("接单", data=f"d:take:{first.id}")
    assert "已由客服小林受理" in texts(zhao.new_messages())

    # the reporter cannot be split out of her own ticket; a name that is nobody's is listed
    await boss.send(f"/split {FIRST} 王")
    assert "是工单" in h.api.sent_to(AGENTS)[-1]["text"]
    await boss.send(f"/split {FIRST} 孙")
    listed = h.api.sent_to(AGENTS)[-1]["text"]
    assert "陈女士（尾号0302）" in listed and "赵先生（尾号0303）" in listed

    await boss.send(f"/split {FIRST} 0303")
    said = texts(zhao.new_messages())
    assert f"与工单{FIRST}不是同一个问题" in said and f"工单号{THIRD}" in said
    third = (await rows(h, Ticket, Ticket.number == THIRD))[0]
    assert third.description == first.description and third.location == first.location
    assert third.reporter_account_id != first.reporter_account_id
    assert "报修人数：2" in card(h, FIRST)
    assert THIRD in card(h, THIRD)
    assert f"已从 {FIRST} 拆分出 {THIRD}" in texts(h.api.sent_to(AGENTS)[-4:])
    # no longer told of the first ticket; still on his own
    await lin.press("派单", data=f"d:disp:{first.id}")
    await lin.tap("工程部")
    await lin.tap("张师傅")
    await lin.tap("60分钟内")
    assert "已派单" in texts(chen.new_messages())
    assert zhao.new_messages() == []
    await zhao.send("/menu")
    mine = texts(await zhao.press("我的工单"))
    assert THIRD in mine and FIRST not in mine and SECOND in mine  # his merged one stays listed
