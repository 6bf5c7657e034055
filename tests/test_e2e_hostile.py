"""Hostile input through the fake Bot API: a long text full of `<` and `&` relayed to the group,
control characters in owners' and agents' words, callback data with huge or unknown parts, an
owner's dialog button tapped in the agents' group. Every message Telegram receives is valid HTML
within its limit, every tap gets an answer, and nothing changes that should not."""

from __future__ import annotations

import sqlalchemy as sa

from storage.models import Account, Handoff, Survey, Ticket, TicketEvent
from storage.uow import UnitOfWork

from .e2e_support import AGENTS, env, texts  # noqa: F401
from .fake_bot_api import TgUser
from .telegram_html_rules import assert_valid_telegram_html
from .test_e2e_desk import LIN, group_user, owner_with_repair, roster, ticket

HUGE = "99999999999999999999"


async def identified(env, uid: int) -> TgUser:
    owner = TgUser(env.api, uid, "王芳")
    await owner.send("/start")
    await owner.share_contact("13800000301")
    await owner.press("是")
    return owner


async def test_long_relay_of_lt_and_amp_is_clipped_into_few_valid_messages(env):
    await roster(env)
    owner = await identified(env, 6401)
    await owner.press("人工客服")
    before = len(env.api.sent_to(AGENTS))
    words = "<&" * 1024  # 2,048 characters, each escaped when rendered
    await owner.send(words)
    relayed = env.api.sent_to(AGENTS)[before:]
    assert 1 <= len(relayed) <= 2, len(relayed)
    for p in relayed:
        assert len(p["text"]) <= 4096
        assert_valid_telegram_html(p["text"])
    shown = texts(relayed)
    assert "…" in shown and "&lt;&amp;" in shown
    # the full text is kept on the handoff's record
    async with UnitOfWork(env.app.sessionmaker) as uow:
        h = await uow.session.scalar(sa.select(Handoff))
    assert [m["text"] for m in h.long_texts] == [words]


async def test_long_relay_on_a_ticket_keeps_the_full_text_on_the_handoff_of_that_ticket(env):
    await roster(env)
    owner = await owner_with_repair(env, 6402)
    lin = group_user(env, LIN, "小林")
    await lin.tap(data_prefix="d:take:")
    await lin.tap(data_prefix="d:takeover:")
    words = "水管" * 800
    before = len(env.api.sent_to(AGENTS))
    await owner.send(words)
    relayed = env.api.sent_to(AGENTS)[before:]
    assert len(relayed) == 1 and "…" in relayed[0]["text"]
    assert words not in relayed[0]["text"]
    async with UnitOfWork(env.app.sessionmaker) as uow:
        h = await uow.session.scalar(sa.select(Handoff))
    assert h.ticket_id == (await ticket(env)).id and h.long_texts[0]["text"] == words


async def test_nul_in_an_owners_description_files_a_ticket_with_the_readback(env):
    """PostgreSQL refuses NUL in text and JSON: stripped where the update becomes an event."""
    owner = await identified(env, 6403)
    await owner.press("报修")
    await owner.press("厨房")
    await owner.press("水管/漏水")
    await owner.send("水管\x00接口\x07漏水\x1b[31m\x85\tok\n第二行")
    await owner.press("没有照片")
    await owner.press("一般")
    seen = await owner.press("明天上午")
    assert "水管接口漏水[31m\tok" in texts(seen)
    seen = await owner.press("确认")
    assert "已登记" in texts(seen)
    t = await ticket(env)
    assert t.description == "水管接口漏水[31m\tok\n第二行"


async def test_nul_in_captions_contacts_and_agents_words_is_stripped(env):
    await roster(env)
    owner = await owner_with_repair(env, 6404)
    lin = group_user(env, LIN, "小林")
    await lin.tap(data_prefix="d:take:")
    await lin.tap(data_prefix="d:takeover:")
    owner.new_messages()
    await owner.send_photo(caption="漏水\x00照片", file_id="PHN")
    header = [p for p in env.api.sent_to(AGENTS) if "发来照片" in p.get("text", "")][-1]
    assert "漏水照片" in header["text"]
    await lin.reply_to(header["_message_id"], "王女士您好\x00，师傅马上到，请您稍候")
    assert "王女士您好，师傅马上到，请您稍候" in texts(owner.new_messages())
    await lin.tap("结束接管")
    await lin.tap(data_prefix="d:done:")
    prompt = env.api.sent_to(AGENTS)[-1]
    await lin.reply_to(prompt["_message_id"], "已更换\x00接头")
    assert "已更换接头" in texts(owner.new_messages())
    assert (await ticket(env)).status == "done"
    events = await env.rows(TicketEvent, TicketEvent.action == "complete")
    assert events[-1].note == "已更换接头"
    other = TgUser(env.api, 6405, "李四")
    await other.send("/start")
    seen = await other.share_contact("1380000\x000301")
    assert "阳光花园3栋1单元3A室" in texts(seen)  # the number found once the NUL is gone


async def test_nul_in_an_owners_name_is_stripped(env):
    owner = TgUser(env.api, 6408, "李\x00四")
    assert "您好" in texts(await owner.send("/start"))  # stored and answered, on PostgreSQL too
    (acc,) = await env.rows(Account, Account.external_id == "6408")
    assert acc.display_name == "李四"


async def test_huge_and_unknown_callback_data_is_answered_and_changes_nothing(env):
    await roster(env)
    owner = await owner_with_repair(env, 6406)
    lin = group_user(env, LIN, "小林")
    group_before = len(env.api.sent_to(AGENTS))
    for data in (
        f"d:take:{HUGE}",
        f"d:take:-{HUGE}",
        "d:take:0",
        f"d:dept:{HUGE}:1",
        f"dispatch:1:{HUGE}::",
        f"progress:{HUGE}:0",
        f"handoff:claim:{HUGE}",
        "c:menu",  # an owner's dialog button, tapped in the agents' group
        "o:solved:1",
        "",
    ):
        n = len(lin.callback_answers())
        await lin.press("x", data=data)
        answers = lin.callback_answers()
        assert len(answers) == n + 1 and answers[-1].get("show_alert"), data
        assert "过期" in answers[-1]["text"], data
    # a group the bot is in that is not the agents' group: taps there are answered too
    elsewhere = TgUser(env.api, LIN, "小林", chat_id=-100777, chat_type="supergroup")
    for data in ("c:menu", "d:take:1", f"s:{HUGE}:overall:5"):
        await elsewhere.press("x", data=data)
        assert "失效" in elsewhere.callback_answers()[-1]["text"], data
    assert (await ticket(env)).status == "new"
    assert len(env.api.sent_to(AGENTS)) == group_before
    owner.new_messages()
    for data in (
        f"o:unsolved:{HUGE}",
        f"o:solved:{HUGE}",
        f"s:{HUGE}:overall:5",
        "s:1:overall:99",
        "s:1:nonsense:5",
        f"c:{HUGE}",
        "",
    ):
        n = len(owner.callback_answers())
        await owner.press("x", data=data)
        answers = owner.callback_answers()
        assert len(answers) == n + 1 and answers[-1].get("show_alert"), data
        assert "失效" in answers[-1]["text"], data
    assert owner.new_messages() == []
    assert (await ticket(env)).status == "new"
    assert await env.rows(Survey) == []


async def test_huge_ids_in_old_style_desk_buttons_are_answered_as_stale(env):
    await roster(env)
    await owner_with_repair(env, 6407)
    lin = group_user(env, LIN, "小林")
    for data in (f"d:pstep:{HUGE}:0", f"d:tkov:{HUGE}", f"d:eta:1:1:1:{HUGE}", "d:rsn:1:-5"):
        n = len(lin.callback_answers())
        await lin.press("x", data=data)
        answers = lin.callback_answers()
        assert len(answers) == n + 1 and answers[-1].get("show_alert"), data
        assert "过期" in answers[-1]["text"], data
    async with UnitOfWork(env.app.sessionmaker) as uow:
        t = await uow.session.scalar(sa.select(Ticket))
    assert t.status == "new"
