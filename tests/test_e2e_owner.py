"""The real bot (factory, dispatcher, routers, storage, outbox) against a fake Bot API over HTTP."""

from __future__ import annotations

import logging

from storage.models import Attachment, OutboxMessage, Ticket, TicketEvent
from storage.uow import UnitOfWork

from .e2e_support import AGENTS, TOKEN, env, start_bot, stop_bot, texts  # noqa: F401
from .fake_bot_api import TgUser


async def identify(owner: TgUser) -> None:
    await owner.send("/start")
    await owner.share_contact("+86 138 0000 0301")
    await owner.press("是")


async def test_repair_end_to_end_with_agents_card_and_rows(env):
    owner = TgUser(env.api, 5001, "王芳")
    first = await owner.send("/start")
    assert "您好" in texts(first)
    assert first[-1]["reply_markup"]["keyboard"][0][0]["request_contact"] is True
    seen = await owner.share_contact("+86 138 0000 0301")
    assert "您是<b>阳光花园3栋1单元3A室</b>的王女士，对吗？" in texts(seen)
    await owner.press("是")
    await owner.press("报修")
    await owner.press("厨房")
    await owner.press("水管/漏水")
    await owner.send("水管接口漏水 <很急> & 😀")
    await owner.send_photo(file_id="PH1")
    await owner.press("继续")
    await owner.press("紧急")
    seen = await owner.press("今天下午")
    readback = texts(seen)
    assert "王女士" in readback and "希望11月23日（周一）下午上门，对吗？" in readback
    assert "&lt;很急&gt; &amp; 😀" in readback  # escaped exactly once
    confirm = [b for b in owner.buttons() if "确认" in b["text"]][0]["callback_data"]
    # a double tap on 确认, the second delivered as the same update again
    await owner.press("确认", data=confirm, times=2)
    await owner.press("确认", data=confirm)
    tickets = await env.rows(Ticket)
    assert len(tickets) == 1
    t = tickets[0]
    assert t.number == "BX-20261123-0001" and t.department == "工程部" and t.urgent
    assert t.unit_verified and t.contact_phone == "13800000301" and t.owner_id is not None
    assert t.description == "水管接口漏水 <很急> & 😀"
    assert len(await env.rows(Attachment, Attachment.ticket_id == t.id)) == 1
    assert [e.action for e in await env.rows(TicketEvent)] == ["created"]
    confirmation = texts(owner.all_messages())
    assert "已登记，工单号<b>BX-20261123-0001</b>" in confirmation
    assert "工程部会在今天10:10前与您电话联系，维修人员将在今天10:30前先到场处理" in confirmation
    card = texts(env.api.sent_to(AGENTS))
    assert "BX-20261123-0001" in card and "待受理" in card and "已核实" in card
    assert "照片：1张" in card
    assert all(r.state == "sent" for r in await env.rows(OutboxMessage))
    # the stale 确认 got a polite alert
    assert any(a.get("show_alert") for a in owner.callback_answers())


async def test_state_survives_a_restart_mid_dialog(env):
    owner = TgUser(env.api, 5002)
    await identify(owner)
    await owner.press("报修")
    await owner.press("卫生间")
    await stop_bot(env)
    h2 = await start_bot(env.url, env.api, env.clock)
    try:
        seen = await owner.press("水管/漏水")
        assert "请您简单描述" in texts(seen)
    finally:
        await stop_bot(h2)


async def test_outbox_row_left_by_a_crash_is_sent_at_start(env):
    owner = TgUser(env.api, 5003)
    await identify(owner)
    # a crash between commit and send: the rows are there, pending
    async with UnitOfWork(env.app.sessionmaker) as uow:
        await uow.outbox.add(
            str(owner.chat["id"]),
            {"text": "补发测试", "parse_mode": "HTML"},
            env.clock.now(),
            channel="telegram",
        )
        await uow.commit()
    sent = await env.sender.deliver()
    assert sent == 1
    assert owner.new_messages()[-1]["text"] == "补发测试"
    assert await env.sender.deliver() == 0


async def test_429_waits_retry_after_and_loses_nothing(env):
    owner = TgUser(env.api, 5004)
    await identify(owner)
    env.api.failures["sendMessage"] = [
        (
            429,
            {
                "ok": False,
                "error_code": 429,
                "description": "Too Many Requests",
                "parameters": {"retry_after": 5},
            },
        )
    ]
    async with UnitOfWork(env.app.sessionmaker) as uow:
        await uow.outbox.add(
            str(owner.chat["id"]), {"text": "限流测试"}, env.clock.now(), channel="telegram"
        )
        await uow.commit()
    calls = len(env.api.calls)
    assert await env.sender.deliver() == 0
    assert len(env.api.calls) == calls + 1  # the one request answered 429
    env.clock.advance(seconds=4)
    assert await env.sender.deliver() == 0  # not before retry_after: no request at all
    assert len(env.api.calls) == calls + 1
    env.clock.advance(seconds=1)
    assert await env.sender.deliver() == 1
    assert owner.new_messages()[-1]["text"] == "限流测试"


async def test_server_errors_back_off_and_then_deliver(env):
    owner = TgUser(env.api, 5009)
    await identify(owner)
    env.api.failures["sendMessage"] = [
        (502, {"ok": False, "error_code": 502, "description": "Bad Gateway"})
    ]
    async with UnitOfWork(env.app.sessionmaker) as uow:
        await uow.outbox.add(
            str(owner.chat["id"]), {"text": "重试测试"}, env.clock.now(), channel="telegram"
        )
        await uow.commit()
    assert await env.sender.deliver() == 0
    async with UnitOfWork(env.app.sessionmaker) as uow:
        row = await env.rows(OutboxMessage, OutboxMessage.payload["text"].as_string() == "重试测试")
    assert row and row[0].state == "pending" and row[0].not_before > env.clock.now()
    env.clock.advance(minutes=10)
    assert await env.sender.deliver() == 1
    assert owner.new_messages()[-1]["text"] == "重试测试"


async def test_bad_request_is_set_aside_not_retried(env):
    owner = TgUser(env.api, 5010)
    await identify(owner)
    env.api.failures["sendMessage"] = [
        (400, {"ok": False, "error_code": 400, "description": "Bad Request: chat not found"})
    ]
    async with UnitOfWork(env.app.sessionmaker) as uow:
        await uow.outbox.add(
            str(owner.chat["id"]), {"text": "坏请求"}, env.clock.now(), channel="telegram"
        )
        await uow.commit()
    assert await env.sender.deliver() == 0
    env.clock.advance(hours=1)
    assert await env.sender.deliver() == 0
    failed = await env.rows(OutboxMessage, OutboxMessage.state == "failed")
    assert len(failed) == 1 and "chat not found" in failed[0].error


async def test_stranger_contact_and_sticker_are_answered_politely(env):
    owner = TgUser(env.api, 5005)
    await owner.send("/start")
    seen = await owner.share_contact("13800000301", own=False)
    assert "本人" in texts(seen)
    seen = await owner.send_sticker()
    assert "表情" in texts(seen)
    seen = await owner.send("/nonsense")
    assert "无法识别这个指令" in texts(seen)


async def test_my_tickets_shows_only_own_and_can_withdraw(env):
    owner = TgUser(env.api, 5006)
    await identify(owner)
    await owner.press("咨询")
    await owner.send("物业费怎么交?")
    other = TgUser(env.api, 5007)
    await other.send("/start")
    await other.share_contact("13800000101")
    await other.press("是")
    seen = await other.press("我的工单")
    assert "还没有工单" in texts(seen)
    seen = await owner.press("我的工单")
    assert "ZX-20261123-0001" in texts(seen)
    await owner.press("ZX-20261123-0001")
    await owner.press("撤单")
    seen = await owner.press("确认撤单")
    assert "已为您撤销" in texts(seen)
    t = (await env.rows(Ticket))[0]
    assert t.status == "withdrawn"


async def test_token_and_phones_never_in_logs_even_at_debug(env):
    import io

    from bot.log_redaction import setup_logging

    root = logging.getLogger()
    saved = list(root.handlers), root.level
    setup_logging("DEBUG", TOKEN)
    buf = io.StringIO()
    ours = root.handlers[0]
    ours.setStream(buf)
    for h in saved[0]:
        root.addHandler(h)  # keep pytest's own capture working
    try:
        owner = TgUser(env.api, 5008)
        await owner.send("/start")
        await owner.share_contact("+86 138 0000 0301")
        await owner.press("是")
        logging.getLogger("httpx").debug("GET https://api.telegram.org/bot%s/getMe", TOKEN)
        logging.getLogger("aiosqlite").debug("executing %s", ("13800000301",))
    finally:
        root.removeHandler(ours)
        root.setLevel(saved[1])
    out = buf.getvalue()
    assert out  # DEBUG really logged something
    assert TOKEN not in out and TOKEN.split(":")[1] not in out
    assert "13800000301" not in out and "138 0000 0301" not in out
