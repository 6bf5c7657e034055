"""WeChat's sender (bot/wecom/sender.py) and budget (bot/wecom/budget.py) against the fake WeCom
on a migrated database: one owner's rows merged into one message, menus sent without our private
keys, our msgid kept across retries, the 5-in-48-hours budget counted in the database (a push it
cannot carry is held and the handler told, and goes first, merged, when the owner writes), the
greeting sent once with its welcome_code, and msg_send_fail kept on the account and the ticket.

The fake's clock and ours move together (`World.advance`)."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from bot.wecom import budget
from bot.wecom.api import NO_ANSWER, WeComApi, WeComError
from bot.wecom.budget import merge
from bot.wecom.failures import record_send_fail
from bot.wecom.render import MENU_KEY, WeComRenderer, text_payload
from bot.wecom.sender import WeComSender
from dialogs.clock import FakeClock
from dialogs.ports import TicketDraft
from dialogs.texts import Texts
from storage.models import Account, OutboxMessage, TicketEvent
from storage.uow import UnitOfWork
from tests.fake_wecom import FakeWeCom

OWNER = "wmOwnerWang01"
SEND = "/cgi-bin/kf/send_msg"
RENDERER = WeComRenderer(Texts())


class RecordingApi(WeComApi):
    """Our client, noting every msgid it sends; `lose_answers`: that many accepted sends whose
    answer is lost on the way back (WeChat took the message, we saw a network error)."""

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.msgids: list[str | None] = []
        self.lose_answers = 0

    async def send_msg(self, touser, open_kfid, msgid, body):
        self.msgids.append(msgid)
        result = await super().send_msg(touser, open_kfid, msgid, body)
        if self.lose_answers:
            self.lose_answers -= 1
            raise WeComError(NO_ANSWER, "answer lost")
        return result


@dataclass
class World:
    sm: Any
    fake: FakeWeCom
    clock: FakeClock
    api: RecordingApi
    sender: WeComSender
    told: list[int] = field(default_factory=list)

    def advance(self, **kw: float) -> None:
        step = timedelta(**kw)
        self.clock.advance(**kw)
        self.fake.advance(step.total_seconds())

    def now(self) -> datetime:
        return self.clock.now()

    def sends(self) -> int:
        return self.fake.calls.count(SEND)

    async def account(self, uid: str = OWNER) -> int:
        async with UnitOfWork(self.sm) as uow:
            acc = await uow.accounts.get_or_create("wecom", uid, uid, "", self.now())
            await uow.commit()
            return acc.id

    async def owner_writes(self, uid: str = OWNER, text: str = "您好") -> int:
        """What the inbound side does: WeChat sees the message, we open the budget."""
        self.fake.owner_says(uid, text)
        aid = await self.account(uid)
        async with UnitOfWork(self.sm) as uow:
            await budget.owner_wrote(uow, aid, self.now())
            await uow.commit()
        return aid

    async def ticket(self, aid: int) -> int:
        draft = TicketDraft(
            kind="repair",
            category=None,
            department="工程部",
            urgent=False,
            description="厨房水管漏水",
            location="",
            reporter_account_id=aid,
            owner_id=None,
            contact_phone="",
            unit_id=None,
            unit_label="",
            unit_verified=False,
            promised_contact_by=None,
            promised_arrive_by=None,
        )
        async with UnitOfWork(self.sm) as uow:
            view = await uow.tickets.create(draft, self.now(), "BX-TEST")
            await uow.commit()
            return view.id

    async def queue(
        self,
        *payloads: dict,
        uid: str = OWNER,
        method: str = "send_msg",
        ticket_id: int | None = None,
        claimed: bool = False,
        priority: int = 1,
    ) -> list:
        """Rows written as a step writes them: claimed (then returned as ClaimedRow) or pending
        (then their ids)."""
        async with UnitOfWork(self.sm) as uow:
            if claimed:
                uow.outbox.born_claimed = frozenset({"wecom"})
            ids = [
                await uow.outbox.add(
                    uid,
                    p,
                    self.now(),
                    channel="wecom",
                    method=method,
                    priority=priority,
                    ticket_id=ticket_id,
                )
                for p in payloads
            ]
            out = list(uow.outbox.claimed) if claimed else ids
            await uow.commit()
        return out

    async def rows(self, model, *where) -> list:
        async with UnitOfWork(self.sm) as uow:
            return list(await uow.session.scalars(sa.select(model).where(*where)))

    async def row(self, row_id: int) -> OutboxMessage:
        (found,) = await self.rows(OutboxMessage, OutboxMessage.id == row_id)
        return found

    async def acc(self, aid: int) -> Account:
        (found,) = await self.rows(Account, Account.id == aid)
        return found


@pytest.fixture
async def world(sessionmaker):
    async with FakeWeCom() as fake:
        clock = FakeClock(datetime.fromtimestamp(fake.now, UTC))
        api = RecordingApi(fake.url, fake.corp_id, fake.secret)
        sender = WeComSender(sessionmaker, api, clock, fake.open_kfid)
        w = World(sessionmaker, fake, clock, api, sender)

        async def on_unreachable(uow, row) -> None:
            w.told.append(row.id)

        sender.on_unreachable = on_unreachable
        try:
            yield w
        finally:
            await sender.close()


def menu(text: str, *labels: str) -> dict:
    items = [(f"d:{n}", label) for n, label in enumerate(labels)]
    (part,) = RENDERER.parts(text, items)
    return part.payload


# --- merging ---------------------------------------------------------------------------------------
async def test_a_steps_replies_go_as_one_message_with_the_menu_last(world):
    await world.owner_writes()
    rows = await world.queue(
        text_payload("已为您登记。"),
        text_payload("维修人员将在1小时内联系您。"),
        menu("请问还有其他问题吗?", "没有了", "还有"),
        claimed=True,
    )
    assert await world.sender.deliver_claimed(rows, reachable=frozenset({OWNER})) == 3
    (sent,) = world.fake.sent
    assert sent["msgtype"] == "msgmenu" and not [k for k in sent if k.startswith("_")]
    assert sent["msgmenu"]["head_content"] == (
        "已为您登记。\n\n维修人员将在1小时内联系您。\n\n请问还有其他问题吗?"
    )
    assert [i["click"]["content"] for i in sent["msgmenu"]["list"]] == ["没有了", "还有"]
    assert all(r.state == "sent" for r in [await world.row(r.id) for r in rows])
    assert (await world.acc(await world.account())).sent_since_inbound == 1


async def test_a_menu_is_sent_without_our_private_keys_and_kept_whole_in_the_row(world):
    await world.owner_writes()
    (row_id,) = await world.queue(menu("请选择:", *[f"选项{n}" for n in range(12)]))
    assert await world.sender.deliver() == 1
    (sent,) = world.fake.sent
    assert not [k for k in sent if k.startswith("_")]
    assert len(sent["msgmenu"]["list"]) == 10  # 9 items and 更多
    stored = await world.row(row_id)
    assert len(stored.payload[MENU_KEY]["items"]) == 12  # later pages are drawn from it


async def test_texts_beyond_the_byte_limit_are_not_merged():
    long = "漏" * 600  # 1800 bytes
    assert merge(long, text_payload("好的")) is not None
    assert merge(long, text_payload(long)) is None
    assert merge(long, menu("请选择", "是")) is None  # a menu's head holds 1024 bytes
    joined = merge("短", menu("请选择", "是"))
    assert joined["msgmenu"]["head_content"] == "短\n\n请选择"


async def test_a_menu_ends_its_message(world):
    await world.owner_writes()
    await world.queue(menu("第一个问题", "是"), text_payload("第二条"))
    assert await world.sender.deliver() == 2
    assert [m["msgtype"] for m in world.fake.sent] == ["msgmenu", "text"]


# --- retries ---------------------------------------------------------------------------------------
async def test_our_msgid_is_kept_across_a_retry_after_busy(world):
    await world.owner_writes()
    (row_id,) = await world.queue(text_payload("维修人员已出发。"))
    world.fake.fail_next(SEND, -1)
    assert await world.sender.deliver() == 0
    waiting = await world.row(row_id)
    assert waiting.state == "pending" and waiting.attempts == 1
    assert waiting.not_before > world.now()
    world.advance(seconds=301)
    assert await world.sender.deliver() == 1
    assert world.api.msgids == [f"wx{row_id}", f"wx{row_id}"]
    assert [m["msgid"] for m in world.fake.sent] == [f"wx{row_id}"]


async def test_an_answer_lost_after_wechat_took_the_message_is_not_shown_twice(world):
    aid = await world.owner_writes()
    (row_id,) = await world.queue(text_payload("维修人员已出发。"))
    world.api.lose_answers = 1
    assert await world.sender.deliver() == 0
    world.advance(seconds=301)
    assert await world.sender.deliver() == 1
    assert world.fake.repeats == 1  # WeChat recognised our msgid
    assert len(world.fake.sent) == 1
    assert (await world.row(row_id)).state == "sent"
    assert (await world.acc(aid)).sent_since_inbound == 1


async def test_a_permanent_error_sets_the_row_aside_without_logging_the_text(world, caplog):
    await world.owner_writes()
    (row_id,) = await world.queue(text_payload("王女士的私事"))
    world.fake.fail_next(SEND, 40058)
    with caplog.at_level(logging.DEBUG):
        assert await world.sender.deliver() == 0
    stored = await world.row(row_id)
    assert stored.state == "failed" and "40058" in stored.error
    assert "40058" in caplog.text and "王女士" not in caplog.text
    assert await world.sender.deliver() == 0 and world.sends() == 1


async def test_a_row_whose_lease_is_running_out_is_released_not_sent(world):
    await world.owner_writes()
    rows = await world.queue(text_payload("迟到的回复"), claimed=True)
    world.advance(seconds=20)  # LEASE 30 s, SEND_MARGIN 15 s
    assert await world.sender.deliver_claimed(rows) == 0
    assert world.sends() == 0
    stored = await world.row(rows[0].id)
    assert stored.state == "pending" and stored.attempts == 0


# --- the budget -----------------------------------------------------------------------------------
async def test_the_sixth_push_is_held_the_handler_told_once_and_it_goes_first_when_the_owner_writes(
    world,
):
    aid = await world.owner_writes()
    tid = await world.ticket(aid)
    for n in range(5):
        await world.queue(text_payload(f"进度{n}"), ticket_id=tid)
        assert await world.sender.deliver() == 1
    # a desk push may rank after an owner's reply (priority 5): released, it still goes first
    (held_id,) = await world.queue(text_payload("第六条进度"), ticket_id=tid, priority=5)
    assert await world.sender.deliver() == 0
    assert world.sends() == 5  # no request for the sixth: our count said no
    assert (await world.row(held_id)).state == "held"
    assert world.told == [held_id]
    world.advance(minutes=5)
    assert await world.sender.deliver() == 0
    assert world.told == [held_id] and world.sends() == 5  # not retried in a loop

    # the owner writes: the held push goes first, merged with the step's reply
    world.fake.owner_says(OWNER, "还没修好")
    async with UnitOfWork(world.sm) as uow:
        await budget.owner_wrote(uow, aid, world.now())
        uow.outbox.born_claimed = frozenset({"wecom"})
        await uow.outbox.add(
            OWNER, text_payload("收到"), world.now(), channel="wecom", method="send_msg", priority=1
        )
        claimed = list(uow.outbox.claimed)
        await uow.commit()
    assert await world.sender.deliver_claimed(claimed, reachable=frozenset({OWNER})) == 2
    assert world.fake.sent[-1]["text"]["content"] == "第六条进度\n\n收到"
    assert (await world.row(held_id)).state == "sent"
    acc = await world.acc(aid)
    assert acc.sent_since_inbound == 1 and not acc.unreachable


async def test_a_push_outside_48_hours_is_held_without_a_request(world):
    aid = await world.owner_writes()
    tid = await world.ticket(aid)
    world.advance(hours=49)
    (row_id,) = await world.queue(text_payload("回访:请问维修满意吗?"), ticket_id=tid)
    assert await world.sender.deliver() == 0
    assert world.sends() == 0
    assert (await world.row(row_id)).state == "held"
    assert world.told == [row_id]


async def test_a_95001_despite_our_count_holds_the_row_and_spends_the_budget(world):
    aid = await world.account()
    async with UnitOfWork(world.sm) as uow:
        # our side saw a message WeChat does not count (the fake never heard the owner)
        await budget.owner_wrote(uow, aid, world.now())
        await uow.commit()
    tid = await world.ticket(aid)
    (first,) = await world.queue(text_payload("进度通知"), ticket_id=tid)
    assert await world.sender.deliver() == 0
    assert world.fake.refused[-1][1] == 95001
    assert (await world.row(first)).state == "held"
    assert world.told == [first]
    assert (await world.acc(aid)).sent_since_inbound == budget.BUDGET
    (second,) = await world.queue(text_payload("又一条"), ticket_id=tid)
    assert await world.sender.deliver() == 0
    assert world.sends() == 1  # the second is held without asking
    assert (await world.row(second)).state == "held"


async def test_left_counts_down_and_closes_with_the_window():
    now = datetime(2026, 3, 2, 10, tzinfo=UTC)
    acc = Account(last_inbound_at=now, sent_since_inbound=3)
    assert budget.left(acc, now) == 2
    assert budget.left(acc, now + timedelta(hours=47)) == 2
    assert budget.left(acc, now + timedelta(hours=48)) == 0
    assert budget.left(Account(last_inbound_at=None, sent_since_inbound=0), now) == 0
    assert budget.left(Account(last_inbound_at=now, sent_since_inbound=7), now) == 0


async def test_a_held_owner_is_told_as_a_blocked_one_and_their_next_message_releases_it(
    migrated_url,
):
    from bot.factory import build_app
    from bot.followups.unreachable import owner_blocked
    from bot.settings import Settings

    app = build_app(
        Settings(bot_token="1:x", database_url=migrated_url, agent_chat_id=-100500),
        clock=None,
    )
    try:
        async with FakeWeCom() as fake:
            clock = FakeClock(datetime.fromtimestamp(fake.now, UTC))
            app.desk.clock = clock
            api = WeComApi(fake.url, fake.corp_id, fake.secret)
            sender = WeComSender(app.sessionmaker, api, clock, fake.open_kfid)
            sender.on_unreachable = lambda uow, row: owner_blocked(app.desk, uow, row)
            w = World(app.sessionmaker, fake, clock, api, sender)
            aid = await w.owner_writes()
            tid = await w.ticket(aid)
            w.advance(hours=49)
            (row_id,) = await w.queue(text_payload("工程部已完成维修"), ticket_id=tid)
            assert await sender.deliver() == 0
            assert (await w.acc(aid)).unreachable
            alerts = await w.rows(OutboxMessage, OutboxMessage.chat_id == "-100500")
            assert any("电话" in r.payload.get("text", "") for r in alerts)
            await w.owner_writes()
            assert not (await w.acc(aid)).unreachable
            assert (await w.row(row_id)).state == "pending"
            assert await sender.deliver() == 1
            await sender.close()
    finally:
        await app.db.dispose()


# --- the greeting ----------------------------------------------------------------------------------
async def test_the_greeting_goes_with_its_welcome_code_once_and_is_not_counted(world, caplog):
    aid = await world.account()
    code = world.fake.enter_session(OWNER)
    greeting = {"code": code, **menu("您好,请问有什么可以帮您?", "报修", "咨询")}
    (first,) = await world.queue(greeting, method="send_msg_on_event")
    assert await world.sender.deliver() == 1
    (sent,) = world.fake.sent
    assert sent["api"] == "send_msg_on_event" and sent["code"] == code
    assert sent["msgid"] == f"wx{first}" and not [k for k in sent if k.startswith("_")]
    assert (await world.acc(aid)).sent_since_inbound == 0
    (again,) = await world.queue({"code": code, **text_payload("您好")}, method="send_msg_on_event")
    with caplog.at_level(logging.INFO):
        assert await world.sender.deliver() == 0
    stored = await world.row(again)
    assert stored.state == "failed" and "errcode" in stored.error
    assert "send_msg_on_event" in caplog.text
    assert len(world.fake.sent) == 1


# --- msg_send_fail -------------------------------------------------------------------------------
async def test_msg_send_fail_is_kept_on_the_account_and_the_ticket(world):
    aid = await world.owner_writes()
    tid = await world.ticket(aid)
    ids = await world.queue(text_payload("进度一"), text_payload("进度二"), ticket_id=tid)
    assert await world.sender.deliver() == 2
    (sent,) = world.fake.sent
    world.advance(seconds=30)
    async with UnitOfWork(world.sm) as uow:
        await record_send_fail(uow, OWNER, sent["msgid"], 10, world.now())
        await uow.commit()
    acc = await world.acc(aid)
    assert acc.last_send_fail == "10" and acc.last_send_fail_at == world.now()
    assert [(await world.row(i)).state for i in ids] == ["failed", "failed"]
    events = await world.rows(TicketEvent, TicketEvent.ticket_id == tid)
    failed = [e for e in events if e.action == "send_failed"]
    assert len(failed) == 1 and "10" in failed[0].note


async def test_msg_send_fail_for_a_message_not_ours_is_kept_on_the_account_only(world):
    aid = await world.owner_writes()
    tid = await world.ticket(aid)
    (row_id,) = await world.queue(text_payload("进度"), ticket_id=tid)
    assert await world.sender.deliver() == 1
    async with UnitOfWork(world.sm) as uow:
        await record_send_fail(uow, OWNER, "servicer_msg_123", 4, world.now())
        await record_send_fail(uow, "wmSomeoneElse", f"wx{row_id}", 4, world.now())
        await uow.commit()
    assert (await world.acc(aid)).last_send_fail == "4"
    assert (await world.row(row_id)).state == "sent"
    events = await world.rows(TicketEvent, TicketEvent.ticket_id == tid)
    assert not [e for e in events if e.action == "send_failed"]


async def test_a_hold_decided_before_the_owner_wrote_puts_the_rows_back_in_line(world):
    """The budget was read as spent, then the owner wrote before the hold: the rows go back to
    pending (due now) instead of waiting for yet another message."""
    await world.owner_writes()
    (row_id,) = await world.queue(text_payload("进度"))

    fresh = world.sender._owners

    async def stale(chats):
        world.sender._owners = fresh  # once: the next batch reads the budget anew
        return {OWNER: (0, None)}  # as read before the owner's message

    world.sender._owners = stale
    assert await world.sender.deliver(ids=[row_id]) == 0
    stored = await world.row(row_id)
    assert stored.state == "pending" and stored.not_before <= world.now()
    assert world.told == [] and world.sends() == 0
    assert await world.sender.deliver() == 1
