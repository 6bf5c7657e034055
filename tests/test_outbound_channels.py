"""The outbox is channel-aware: a second channel adds a renderer and a sender, nothing else. An
owner on a fake channel (plain text and numbered menus, the shape of a WeChat-like channel) files
a repair and hears from the desk through the same writer and outbox as a Telegram owner; the
agents' card stays a Telegram row, left to Telegram's sender."""

from __future__ import annotations

import html
import logging
import re
from typing import Any

import sqlalchemy as sa

from bot.desk import service
from bot.factory import App, build_app
from bot.outbound import Copy, Message, Part, Recipient, Replies, Unrenderable
from bot.paths import SAMPLE_OWNERS
from bot.settings import Settings
from desk import commands as c
from dialogs.clock import FakeClock
from dialogs.events import Inbound
from dialogs.state import profile_of
from storage.models import OutboxMessage, Ticket, UTCDateTime
from storage.owner_import import import_owners
from storage.uow import UnitOfWork

from .dialog_driver import MONDAY_10

AGENTS = -100888
LIN = 7101
FAKE = "fake"


class FakeRenderer:
    """Plain text, buttons as a numbered menu whose keys the channel maps back to commands."""

    def __init__(self, texts):
        self.texts = texts
        self.taps: dict[str, Any] = {}

    def render(self, content) -> list[Part]:
        match content:
            case Replies(replies=replies):
                return [
                    self._part(
                        self.texts.render(r.template, r.context),
                        [(ch.label, ch.value) for row in r.rows for ch in row],
                    )
                    for r in replies
                ]
            case Message():
                menu = []
                for b in (b for row in content.buttons for b in row):
                    key = f"m{len(self.taps) + 1}"
                    self.taps[key] = b.command
                    label = b.label if b.literal else self.texts.button(b.label, **dict(b.params))
                    menu.append((label, key))
                return [
                    self._part(self.texts.render(content.template, dict(content.context)), menu)
                ]
        raise Unrenderable("the fake channel carries text and menus only")

    @staticmethod
    def _part(text: str, menu: list[tuple[str, str]]) -> Part:
        plain = html.unescape(re.sub(r"<[^>]+>", "", text))
        return Part("send_text", {"text": plain, "menu": [list(m) for m in menu]})


class FakeSender:
    """Claims the fake channel's rows only, and records what it 'sent'."""

    channel = FAKE
    poll_seconds = 1.0

    def __init__(self, sessionmaker, clock):
        self.sessionmaker, self.clock = sessionmaker, clock
        self.sent: list[tuple[str, str, dict]] = []

    async def deliver(self, ids=None, min_age=None) -> int:
        async with UnitOfWork(self.sessionmaker) as uow:
            rows = await uow.outbox.claim(
                self.clock.now(), ids=ids, min_age=min_age, channels=(self.channel,)
            )
            for row in rows:
                assert row.channel == FAKE
                self.sent.append((row.chat_id, row.method, row.payload))
                await uow.outbox.mark_sent(row.id, self.clock.now())
            await uow.commit()
        return len(rows)

    async def deliver_left_over(self) -> int:
        return await self.deliver()


class FakeChannelOwner:
    """An owner on the fake channel: the same conversation service, menus instead of buttons."""

    def __init__(self, app: App):
        self.app, self.menu = app, {}

    async def _go(self, inbound: Inbound):
        outcome = await self.app.conversations.handle(
            channel=FAKE,
            external_id="wx-5001",
            chat_id="wx-5001",
            display_name="王芳",
            inbound=inbound,
        )
        # every reply is queued, rendered by the fake channel's renderer; read as queued
        async with UnitOfWork(self.app.sessionmaker) as uow:
            rows = await uow.session.scalars(
                sa.select(OutboxMessage)
                .where(OutboxMessage.id.in_(outcome.outbox_ids))
                .order_by(OutboxMessage.id)
            )
            payloads = [r.payload for r in rows]
        for p in payloads:
            if p["menu"]:
                self.menu = dict(p["menu"])
        return outcome

    async def send(self, text: str):
        return await self._go(Inbound("command" if text.startswith("/") else "text", text=text))

    async def press(self, label: str):
        token = next(v for lb, v in self.menu.items() if label in lb)
        return await self._go(Inbound("choice", token=token))

    async def file_a_repair(self):
        await self.send("/start")
        await self._go(Inbound("contact", phone="13800000301", contact_is_own=True))
        for label in ("是", "报修", "厨房", "水管/漏水"):
            await self.press(label)
        await self.send("水管接口一直在漏水")
        for label in ("继续", "紧急", "今天下午"):
            if any(label in lb for lb in self.menu):
                await self.press(label)
        return await self.press("确认")


async def _app(url: str) -> tuple[App, FakeSender]:
    app = build_app(Settings(database_url=url, agent_chat_id=AGENTS), clock=FakeClock(MONDAY_10))
    # the second channel: a renderer for the writer, a sender for its rows; nothing else
    app.outbound.renderers[FAKE] = FakeRenderer(app.texts)
    sender = FakeSender(app.sessionmaker, app.clock)
    async with UnitOfWork(app.sessionmaker) as uow:
        await import_owners(uow.session, SAMPLE_OWNERS.read_bytes())
        await uow.staff.add_agent(str(LIN), "小林", "agent", app.clock.now())
        await uow.commit()
    return app, sender


async def _rows(app: App) -> list[OutboxMessage]:
    async with UnitOfWork(app.sessionmaker) as uow:
        return list(await uow.session.scalars(sa.select(OutboxMessage).order_by(OutboxMessage.id)))


async def test_an_owner_on_a_second_channel_hears_the_desk_through_the_same_outbox(migrated_url):
    app, fake = await _app(migrated_url)
    try:
        await FakeChannelOwner(app).file_a_repair()
        async with UnitOfWork(app.sessionmaker) as uow:
            t = await uow.session.scalar(sa.select(Ticket))
            account_id = t.reporter_account_id
            for command in (c.Take(t.id), c.Complete(t.id, "已更换厨房进水管接头，试水无渗漏")):
                assert await service.agent_tap(app.desk, uow, LIN, command) is None
            await uow.commit()
        assert await fake.deliver() >= 3
        texts = [p["text"] for _, _, p in fake.sent]
        assert all(to == "wx-5001" and method == "send_text" for to, method, _ in fake.sent)
        assert any(t.number in x and "<" not in x for x in texts)  # the filing's confirmation
        assert any("已由客服小林受理" in x for x in texts)
        completed = next(p for _, _, p in fake.sent if "已更换厨房进水管接头" in p["text"])
        menu = {label.split()[-1]: key for label, key in completed["menu"]}
        assert set(menu) == {"已解决", "还有问题"}

        # a tap on the fake channel's menu is the same typed command a Telegram button packs
        command = app.outbound.renderers[FAKE].taps[menu["已解决"]]
        assert command == c.OwnerAnswer(t.id, True)
        async with UnitOfWork(app.sessionmaker) as uow:
            conv = await uow.accounts.conversation(account_id)
            owner_id = profile_of(conv.state).owner_id
            assert await service.owner_tap(app.desk, uow, account_id, owner_id, command) is None
            await uow.commit()
        assert await fake.deliver() == 1
        assert t.number in fake.sent[-1][2]["text"]

        # Telegram's rows (the card and its edits) are Telegram's, untouched by the fake sender
        rows = await _rows(app)
        telegram = [r for r in rows if r.channel == "telegram"]
        assert {r.chat_id for r in telegram} == {str(AGENTS)}
        assert {r.purpose for r in telegram} >= {"card", "card_edit"}
        assert all(r.state in ("pending", "superseded") and r.attempts == 0 for r in telegram)
        assert all(r.state == "sent" for r in rows if r.channel == FAKE)
    finally:
        await app.db.dispose()


async def test_each_sender_claims_only_its_own_channel(sessionmaker):
    now = MONDAY_10
    async with UnitOfWork(sessionmaker) as uow:
        tg = await uow.outbox.add("42", {"text": "tg"}, now, channel="telegram")
        other = await uow.outbox.add("wx-1", {"text": "fake"}, now, channel=FAKE)
        await uow.commit()
    async with UnitOfWork(sessionmaker) as uow:
        claimed = await uow.outbox.claim(now, channels=("telegram",))
        await uow.commit()
    assert [(r.id, r.channel) for r in claimed] == [(tg, "telegram")]
    async with UnitOfWork(sessionmaker) as uow:
        claimed = await uow.outbox.claim(now, channels=(FAKE,))
        await uow.commit()
    assert [(r.id, r.channel, r.chat_id) for r in claimed] == [(other, FAKE, "wx-1")]


async def test_a_channel_without_a_renderer_is_skipped_and_said(migrated_url, caplog):
    app, _ = await _app(migrated_url)
    try:
        async with UnitOfWork(app.sessionmaker) as uow:
            acc = await uow.accounts.get_or_create("sms", "1", "1", "x", app.clock.now())
            await uow.accounts.open_conversation("sms", "1", "1", "x", app.clock.now())
            with caplog.at_level(logging.WARNING, logger="bot.outbound"):
                ids = await app.desk.to_owner(uow, acc.id, "owner_released", {})
            await uow.commit()
        assert ids == []
        assert "no renderer for channel 'sms'" in caplog.text
        assert await _rows(app) == []
        # a channel that cannot carry a content (a Telegram message to copy) skips it too
        async with UnitOfWork(app.sessionmaker) as uow:
            copy_ids = await app.outbound.write(
                uow, Recipient(FAKE, "wx-1"), Copy(Recipient("telegram", "1"), 5), priority=1
            )
        assert copy_ids == []
    finally:
        await app.db.dispose()


async def test_rows_written_before_the_channel_column_are_telegrams(db_url):
    from storage.db import downgrade, make_engine, migrate

    async def columns() -> set[str]:
        engine = make_engine(db_url)
        async with engine.connect() as conn:
            cols = await conn.run_sync(lambda s: sa.inspect(s).get_columns("outbox"))
        await engine.dispose()
        return {col["name"] for col in cols}

    await migrate(db_url, "0004")
    engine = make_engine(db_url)
    async with engine.begin() as conn:
        await conn.execute(
            sa.text(
                "INSERT INTO outbox (chat_id, method, payload, priority, state, attempts, "
                "not_before, created_at, error, purpose, ref) VALUES ('42', 'sendMessage', "
                "'{}', 1, 'pending', 0, :now, :now, '', 'owner', '{}')"
            ).bindparams(sa.bindparam("now", type_=UTCDateTime())),
            {"now": MONDAY_10},
        )
    await engine.dispose()
    await migrate(db_url)
    engine = make_engine(db_url)
    async with engine.connect() as conn:
        assert (await conn.execute(sa.text("SELECT channel FROM outbox"))).scalar() == "telegram"
    await engine.dispose()
    await downgrade(db_url, "0004")
    assert "channel" not in await columns()
    await migrate(db_url)
    assert "channel" in await columns()
