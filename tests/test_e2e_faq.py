"""The knowledge base kept from the agents' group, through the fake Bot API and the real
dispatcher (issue 12): /faq add, edit, off, misses and look-ups, the roster rule, and the one
button that turns an agent's answer into an entry. Stored rows are asserted, as the group saw."""

from __future__ import annotations

import itertools
import time

from storage.models import KbChange, KbEntry, KbMiss

from .e2e_support import AGENTS, env, texts  # noqa: F401
from .fake_bot_api import BOT_USER, TgUser

LIN, BOSS, STRANGER = 7001, 7003, 7999
_taps = itertools.count(1)


async def roster(env):
    from storage.uow import UnitOfWork

    async with UnitOfWork(env.app.sessionmaker) as uow:
        now = env.clock.now()
        await uow.staff.add_agent(str(LIN), "小林", "agent", now)
        await uow.staff.add_agent(str(BOSS), "周主管", "supervisor", now)
        await uow.commit()


def group_user(env, uid, name):
    return TgUser(env.api, uid, name, chat_id=AGENTS, chat_type="supergroup")


def last_group_text(env) -> str:
    return env.api.sent_to(AGENTS)[-1]["text"]


async def entries(env) -> list[KbEntry]:
    return sorted(await env.rows(KbEntry), key=lambda e: e.id)


async def tap_on(user: TgUser, message: dict, label: str):
    """Tap a button on that very message, as Telegram reports it (the message's own id)."""
    buttons = [b for row in message["reply_markup"]["inline_keyboard"] for b in row]
    (button,) = [b for b in buttons if label in b["text"]]
    return await tap_data(user, message["_message_id"], button["callback_data"])


async def tap_data(user: TgUser, message_id: int, data: str):
    query = {
        "id": f"faq{next(_taps)}",
        "from": user.user,
        "chat_instance": "ci",
        "message": {
            "message_id": message_id,
            "date": int(time.time()),
            "chat": user.chat,
            "from": BOT_USER,
            "text": "…",
        },
        "data": data,
    }
    await user.api.push({"callback_query": query})
    return user.callback_answers()[-1]


async def identified_owner(env, uid: int) -> TgUser:
    owner = TgUser(env.api, uid, "王芳")
    await owner.send("/start")
    await owner.share_contact("13800000301")
    await owner.press("是")
    return owner


# --- /faq add, edit, off ------------------------------------------------------------------------
async def test_agents_add_edit_and_retire_entries_and_every_change_is_recorded(env):
    await roster(env)
    lin = group_user(env, LIN, "小林")
    await lin.send("/faq add 访客车辆怎么进小区？ | 请访客在门岗登记后进入,可免费停放2小时。")
    (entry,) = await entries(env)
    said = last_group_text(env)
    assert f"已加入常见问题<b>第{entry.id}条</b>（小林）" in said
    # half-width punctuation put right on the way, as for a reply to an owner
    assert entry.answer == "请访客在门岗登记后进入，可免费停放2小时。"
    assert entry.question == "访客车辆怎么进小区？" and entry.active

    await lin.send(f"/faq edit {entry.id} | 请访客在东门门岗登记，可免费停放3小时。")
    (entry,) = await entries(env)
    assert entry.question == "访客车辆怎么进小区？"
    assert entry.answer == "请访客在东门门岗登记，可免费停放3小时。"
    assert f"第{entry.id}条</b>已修改（小林）" in last_group_text(env)

    await lin.send(f"/faq edit {entry.id} 朋友开车来怎么进小区？ | 请在门岗登记。")
    (entry,) = await entries(env)
    assert (entry.question, entry.answer) == ("朋友开车来怎么进小区？", "请在门岗登记。")

    await lin.send(f"/faq off {entry.id}")
    (entry,) = await entries(env)
    assert not entry.active
    said = last_group_text(env)
    assert "已停用，不再用于回答业主" in said and f"/faq on {entry.id}" in said

    changes = sorted(await env.rows(KbChange), key=lambda c: c.id)
    assert [(c.entry_id, c.actor) for c in changes] == [(entry.id, "小林")] * 4
    assert changes[0].action == "add" and changes[-1].action == "off"


async def test_bad_input_gets_the_right_form_and_changes_nothing(env):
    await roster(env)
    lin = group_user(env, LIN, "小林")
    await lin.send("/faq add 快递放在哪里")
    said = last_group_text(env)
    assert "竖线“|”隔开" in said and "/faq add 问题 | 答案" in said
    await lin.send("/faq add 快递放在哪里 |   ")
    assert "不能为空" in last_group_text(env)
    await lin.send("/faq edit 快递 | 东门")
    said = last_group_text(env)
    assert "编号" in said and "/faq edit 编号 问题 | 答案" in said
    await lin.send("/faq edit 4242 | 东门快递柜")
    assert "没有找到第4242条" in last_group_text(env)
    await lin.send("/faq off")
    assert "/faq off 编号" in last_group_text(env)
    await lin.send("/faq")  # neither a question nor a reply to an owner's message
    assert "请回复一条业主的消息发送 /faq" in last_group_text(env)
    await lin.send("/faq add 停车" + "很长" * 60 + " | 请到物业服务中心办理。")
    assert "问题最多100个字" in last_group_text(env)
    # an answer an owner would read is held to 服务禁言
    await lin.send("/faq add 能停两辆车吗 | 你必须先办理停车卡")
    said = last_group_text(env)
    assert "未保存" in said and "你必须" in said
    assert await entries(env) == [] and await env.rows(KbChange) == []


async def test_only_roster_members_keep_the_knowledge_base(env):
    await roster(env)
    stranger = group_user(env, STRANGER, "路人")
    await stranger.send("/faq add 快递放在哪里 | 东门快递柜")
    assert "不在客服名单" in last_group_text(env)
    await stranger.send("/faq misses")
    assert "不在客服名单" in last_group_text(env)
    assert await entries(env) == []


# --- look-ups and misses -------------------------------------------------------------------------
async def test_faq_shows_what_a_question_matches(env):
    await roster(env)
    lin = group_user(env, LIN, "小林")
    await lin.send("/faq add 访客车辆怎么进小区？ | 请访客在门岗登记。")
    (entry,) = await entries(env)
    await lin.send("/faq 访客车辆怎么进小区？")
    said = last_group_text(env)
    assert "常见问题匹配" in said and f"第{entry.id}条" in said and "请访客在门岗登记。" in said
    await lin.send(f"/faq {entry.id}")
    said = last_group_text(env)
    assert f"常见问题第{entry.id}条" in said and "最后修改：小林" in said


async def test_misses_of_the_week_are_listed_most_frequent_first(env):
    await roster(env)
    for uid, question in ((6301, "小区游泳池几点开门？"), (6302, "小区游泳池几点开门？")):
        owner = await identified_owner(env, uid)
        await owner.press("咨询")
        seen = texts(await owner.send(question))
        assert "您的咨询已登记" in seen  # nothing in the base: a person answers, as before
    owner = await identified_owner(env, 6303)
    await owner.press("咨询")
    await owner.send("能在楼顶晒被子吗？")
    assert [m.reason for m in await env.rows(KbMiss)] == ["none"] * 3
    lin = group_user(env, LIN, "小林")
    await lin.send("/faq misses")
    said = last_group_text(env)
    assert "近7天未能解答的问题" in said
    lines = said.splitlines()
    pool = lines.index(next(line for line in lines if "游泳池" in line))
    roof = lines.index(next(line for line in lines if "晒被子" in line))
    assert lines[pool].startswith("2次") and lines[roof].startswith("1次") and pool < roof
    env.clock.advance(days=8)
    await lin.send("/faq misses")
    assert "没有未能解答的问题" in last_group_text(env)


async def test_faq_replying_to_an_owners_relayed_message_looks_up_their_words(env):
    await roster(env)
    lin = group_user(env, LIN, "小林")
    await lin.send("/faq add 快递柜在哪里？ | 东门岗亭旁边，24小时可取。")
    owner = await identified_owner(env, 6401)
    await owner.press("人工客服")
    await lin.tap("接入对话")
    owner.new_messages()
    await owner.send("快递柜在哪里？")
    header = env.api.sent_to(AGENTS)[-1]
    await lin.reply_to(header["_message_id"], "/faq")
    said = last_group_text(env)
    assert "业主的问题：快递柜在哪里？" in said and "东门岗亭旁边" in said
    assert owner.new_messages() == []  # a look-up, never words for the owner


# --- one button: an agent's answer becomes an entry ---------------------------------------------
async def owner_missed_then_talks_to_a_person(env, lin: TgUser) -> TgUser:
    owner = await identified_owner(env, 6501)
    await owner.press("咨询")
    # nothing in the base matches: a ticket as before, and the miss logged
    await owner.send("电动车可以在楼道里充电吗？")
    await owner.press("人工客服")
    await lin.tap("接入对话")
    owner.new_messages()
    await owner.send("就是想问电动车充电的事")
    return owner


async def test_an_answer_to_a_missed_question_becomes_an_entry_with_one_tap(env):
    await roster(env)
    lin = group_user(env, LIN, "小林")
    owner = await owner_missed_then_talks_to_a_person(env, lin)
    header = env.api.sent_to(AGENTS)[-1]
    await lin.reply_to(header["_message_id"], "王女士您好,楼道里不能充电,请到北门充电棚充电。")
    assert "楼道里不能充电" in texts(owner.new_messages())
    offer = env.api.sent_to(AGENTS)[-1]
    assert "可以加入常见问题" in offer["text"] and "问：电动车可以在楼道里充电吗？" in offer["text"]
    assert "答：您好，楼道里不能充电" in offer["text"]  # as every owner would read it

    # a second reply in the same conversation offers nothing more
    group_before = len(env.api.sent_to(AGENTS))
    await lin.reply_to(header["_message_id"], "充电棚24小时开放。")
    assert len(env.api.sent_to(AGENTS)) == group_before

    stranger = group_user(env, STRANGER, "路人")
    answer = await tap_on(stranger, offer, "加入常见问题")
    assert answer.get("show_alert") and "不在客服名单" in answer["text"]
    assert await entries(env) == []

    answer = await tap_on(lin, offer, "加入常见问题")
    (entry,) = await entries(env)
    assert entry.question == "电动车可以在楼道里充电吗？"
    # the salutation was this owner's: every owner reads the entry (with their own)
    assert entry.answer == "您好，楼道里不能充电，请到北门充电棚充电。"
    assert entry.updated_by == "小林"
    assert f"第{entry.id}条" in answer["text"]
    assert f"已加入常见问题<b>第{entry.id}条</b>（小林）" in last_group_text(env)

    # a second tap, by anyone on the roster, names the entry already made
    boss = group_user(env, BOSS, "周主管")
    answer = await tap_on(boss, offer, "加入常见问题")
    assert f"第{entry.id}条" in answer["text"] and len(await entries(env)) == 1
    assert [c.action for c in await env.rows(KbChange)] == ["add"]

    # the next owner asking the same is answered at once
    other = await identified_owner(env, 6502)
    await other.press("咨询")
    seen = texts(await other.send("电动车可以在楼道里充电吗？"))
    assert "北门充电棚" in seen and "请问这个回答解决您的问题了吗？" in seen


async def test_the_button_is_checked_against_the_message_it_is_on(env):
    await roster(env)
    lin = group_user(env, LIN, "小林")
    await owner_missed_then_talks_to_a_person(env, lin)
    header = env.api.sent_to(AGENTS)[-1]
    await lin.reply_to(header["_message_id"], "楼道里不能充电，请到北门充电棚充电。")
    offer = env.api.sent_to(AGENTS)[-1]
    data = offer["reply_markup"]["inline_keyboard"][0][0]["callback_data"]
    handoff = int(data.rsplit(":", 1)[1])
    # the right data on another message, or another handoff on this one: stale, nothing made
    for message_id, forged in (
        (header["_message_id"], data),
        (offer["_message_id"], f"faq:{handoff + 1}"),
        (offer["_message_id"], "faq:99999999999"),
    ):
        answer = await tap_data(lin, message_id, forged)
        assert "过期" in answer["text"]
    assert await entries(env) == []


async def test_a_conversation_that_began_with_no_miss_offers_no_button(env):
    await roster(env)
    lin = group_user(env, LIN, "小林")
    owner = await identified_owner(env, 6601)
    await owner.press("人工客服")
    await lin.tap("接入对话")
    await owner.send("请问物业费怎么交？")
    header = env.api.sent_to(AGENTS)[-1]
    group_before = len(env.api.sent_to(AGENTS))
    await lin.reply_to(header["_message_id"], "您好，可以在微信公众号缴费。")
    assert len(env.api.sent_to(AGENTS)) == group_before
