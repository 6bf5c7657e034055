"""Notices (公告) end to end, through the real dispatcher and the fake Bot API: created in the
agents' group with /notice or by the CLI, they reach exactly the verified owners of the affected
units (not an owner of another building, not an account that only typed a number, not a family
member); an early end reaches the same owners; quiet hours hold a non-urgent notice only."""

# ruff: noqa: F811  (the `env` fixture is imported, then taken by name as pytest does)

from __future__ import annotations

from bot.__main__ import _parser
from bot.notice_cli import Tools, execute
from bot.notices import text_renderers
from bot.outbound import TELEGRAM, Outbound, Recipient
from storage.models import NoticeRecipient
from storage.uow import UnitOfWork

from .e2e_support import AGENTS, env, texts  # noqa: F401
from .fake_bot_api import TgUser

LIN, WANG_AGENT, STRANGER = 7001, 7002, 7999
PUSH = "【阳光花园】3栋"


async def roster(env):
    async with UnitOfWork(env.app.sessionmaker) as uow:
        await uow.staff.add_agent(str(LIN), "小林", "agent", env.clock.now())
        await uow.staff.add_agent(str(WANG_AGENT), "小王", "agent", env.clock.now())
        await uow.commit()


async def verified(env, uid: int, phone: str, pick: str = "") -> TgUser:
    owner = TgUser(env.api, uid)
    await owner.send("/start")
    await owner.share_contact(phone)
    if pick:
        await owner.press(pick)
    await owner.press("是")
    return owner


async def residents(env) -> dict[str, TgUser]:
    """Two verified owners in 3栋, one in 5栋, an owner of 3栋 who typed his number, and a
    family member of 3栋 whose own phone is not the owner's."""
    people = {
        "wang": await verified(env, 8001, "13800000301"),  # 王芳 3栋3A
        "zhao": await verified(env, 8002, "13800000303"),  # 赵磊 3栋3E
        "zhou": await verified(env, 8003, "13800000501", pick="1201"),  # 周敏 5栋
    }
    chen = TgUser(env.api, 8004)  # 陈静 3栋3B, by hand, her number typed: not proven
    await chen.send("/start")
    await chen.send("手动填写房号 / 代他人报修")  # the contact keyboard's other button
    for label in ("3栋", "1单元", "3B", "是", "业主本人"):
        await chen.press(label)
    await chen.send("陈")
    await chen.press("陈女士")
    await chen.send("13800000302")
    family = TgUser(env.api, 8005)  # 王芳's son, his own contact: proven, but no owner
    await family.send("/start")
    await family.share_contact("13911112222")
    for label in ("3栋", "1单元", "3A", "是", "家人"):
        await family.press(label)
    await family.send("李")
    await family.press("李先生")
    people.update(chen=chen, family=family)
    for p in people.values():
        p.new_messages()  # what they saw so far is not a notice
    return people


def group_user(env, uid, name="小林") -> TgUser:
    return TgUser(env.api, uid, name, chat_id=AGENTS, chat_type="supergroup")


def told(people) -> set[str]:
    return {name for name, p in people.items() if PUSH in texts(p.new_messages())}


async def test_notice_made_in_the_group_reaches_exactly_the_affected_owners(env):
    await roster(env)
    people = await residents(env)
    lin = group_user(env, LIN)
    seen = await lin.send("/notice")
    assert "请选择公告类型" in texts(seen)
    await lin.tap("停水")  # one community: no question about it
    seen = await lin.tap("3栋")
    assert "公告时间" in texts(seen)
    # another agent cannot answer someone else's draft
    other = group_user(env, WANG_AGENT, "小王")
    await other.press("x", data=lin.find_button("明天上午")["callback_data"])
    assert "由小林填写" in other.callback_answers()[-1]["text"]
    seen = await lin.reply_to(seen[-1]["_message_id"], "今天25点到26点")
    assert "没能识别" in texts(seen)
    seen = await lin.reply_to(seen[-1]["_message_id"], "今天14:00-18:00")
    assert "补充业主需要知道的说明" in texts(seen)
    await lin.reply_to(seen[-1]["_message_id"], "管道检修，请您提前储水。")
    seen = await lin.tap("一般")
    readback = texts(seen)
    assert "【阳光花园】3栋今天14:00至18:00计划停水，预计18:00恢复供水。" in readback
    assert "将通知2位已核实身份的业主" in readback
    assert told(people) == set()  # nothing before 确认
    seen = await lin.tap("确认发布")
    assert "公告#1已发布（小林）" in texts(seen) and "将通知2位" in texts(seen)
    assert told(people) == {"wang", "zhao"}
    wang = texts(people["wang"].all_messages())
    assert "王女士，您好！【阳光花园】3栋今天14:00至18:00计划停水，预计18:00恢复供水。" in wang
    assert "管道检修，请您提前储水。" in wang
    # a second tap on 确认发布 publishes nothing more
    await lin.press("x", data=lin.find_button("确认发布")["callback_data"])
    assert "已完成或已过期" in lin.callback_answers()[-1]["text"]
    assert len(await env.rows(NoticeRecipient)) == 2

    # at 15:00, in force: the notice answers 王女士's repair before anything is filed
    env.clock.advance(hours=5)
    wang_user = people["wang"]
    await wang_user.press("报修")
    await wang_user.press("厨房")
    seen = texts(await wang_user.press("水管/漏水"))
    assert "先和您说明一下：【阳光花园】3栋今天14:00至18:00计划停水" in seen
    assert "请问是其他问题吗？" in seen
    seen = texts(await wang_user.press("不用报修"))
    assert "感谢您的理解与配合" in seen

    # extended: the same two owners hear the new time
    seen = await lin.send("/notice extend 1 明天25点")
    assert "没能识别新的结束时间" in texts(seen)
    seen = await lin.send("/notice extend 1 20:00")
    assert "公告#1已延长，预计今天20:00恢复供水（小林）" in texts(seen)
    later = {
        n
        for n, p in people.items()
        if "预计今天20:00恢复供水（原计划今天18:00）" in texts(p.new_messages())
    }
    assert later == {"wang", "zhao"}

    # ended early: the same two owners hear it, and nobody else
    seen = await lin.send("/notice end 1")
    assert "公告#1已结束（小林）" in texts(seen) and "2位业主" in texts(seen)
    ended = {n for n, p in people.items() if "已提前结束" in texts(p.new_messages())}
    assert ended == {"wang", "zhao"}
    seen = await lin.send("/notice list")
    assert "目前没有生效中的公告" in texts(seen)


async def test_strangers_cannot_make_notices(env):
    await roster(env)
    stranger = group_user(env, STRANGER, "路人")
    seen = await stranger.send("/notice")
    assert "不在客服名单中" in texts(seen)
    lin = group_user(env, LIN)
    await lin.send("/notice")
    await stranger.press("x", data=lin.find_button("停水")["callback_data"])
    assert "不在客服名单中" in stranger.callback_answers()[-1]["text"]


def cli(env, *argv: str):
    """The CLI's own function, on the running bot's database and clock."""
    settings = env.app.settings
    tools = Tools(
        env.app.texts,
        env.app.policy,
        env.clock,
        Outbound(
            text_renderers(env.app.texts, False),
            env.clock,
            agents=Recipient(TELEGRAM, settings.agent_chat),
        ),
    )
    return execute(env.app.sessionmaker, tools, _parser().parse_args(["notice", *argv]))


async def test_notice_from_the_cli_reaches_the_same_owners_and_ends_for_them(env):
    people = await residents(env)
    _, ctx = await cli(
        env, "add", "--kind", "water", "--buildings", "3",
        "--from", "2026-11-23 14:00", "--until", "2026-11-23 18:00", "--text", "请您提前储水。",
    )  # fmt: skip
    assert ctx["reach"] == 2
    await env.sender.deliver()  # the running bot's sender sends what the CLI queued
    assert told(people) == {"wang", "zhao"}
    assert "公告#1已发布（cli）" in texts(env.api.sent_to(AGENTS))
    _, ctx = await cli(env, "end", "1")
    assert ctx["reach"] == 2
    await env.sender.deliver()
    ended = {n for n, p in people.items() if "已提前结束" in texts(p.new_messages())}
    assert ended == {"wang", "zhao"}


async def test_quiet_hours_hold_a_notice_unless_it_is_urgent(env):
    people = await residents(env)
    env.clock.advance(hours=12)  # 22:00
    _, ctx = await cli(
        env, "add", "--kind", "lift", "--buildings", "3",
        "--from", "2026-11-24 09:00", "--until", "2026-11-24 12:00",
    )  # fmt: skip
    assert ctx["reach"] == 2 and ctx["held_until"] is not None
    await env.sender.deliver()
    assert told(people) == set()  # nobody woken at 22:00
    _, ctx = await cli(
        env, "add", "--kind", "power", "--buildings", "3", "--urgent",
        "--from", "2026-11-23 22:00", "--until", "2026-11-24 02:00",
    )  # fmt: skip
    await env.sender.deliver()
    assert told(people) == {"wang", "zhao"}  # the urgent one at once
    assert all("【紧急通知】" in texts(people[n].all_messages()) for n in ("wang", "zhao"))
    env.clock.advance(hours=10)  # 08:00
    await env.sender.deliver()
    morning = {
        n for n, p in people.items() if "今天09:00至12:00计划电梯停运" in texts(p.new_messages())
    }
    assert morning == {"wang", "zhao"}
