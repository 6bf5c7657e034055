"""One card for one ticket: the dialog says which ticket was filed, and the agents' side draws the
card once, from agent_card.j2 and the ticket as stored. Every channel shows that same card: the
agents' group through the outbox, the offline console under its 客服群收到 line."""

from __future__ import annotations

import sqlalchemy as sa

from bot.factory import App, build_app
from bot.paths import SAMPLE_OWNERS
from bot.settings import Settings
from dialogs.clock import FakeClock
from dialogs.events import Inbound, TicketFiled
from dialogs.texts import TEMPLATES_DIR
from storage.models import OutboxMessage, Ticket
from storage.owner_import import import_owners
from storage.uow import UnitOfWork

from .dialog_driver import MONDAY_10

AGENTS = -100777


class Chat:
    """One owner on the conversation service, pressing buttons by their label."""

    def __init__(self, app: App, use_outbox: bool):
        self.app, self.use_outbox = app, use_outbox
        self.buttons: dict[str, str] = {}
        self.last = None

    async def _go(self, inbound: Inbound):
        self.last = await self.app.conversations.handle(
            channel="telegram",
            external_id="5001",
            chat_id="5001",
            display_name="王芳",
            inbound=inbound,
            use_outbox=self.use_outbox,
        )
        for p in self.last.direct or await _queued(self.app, self.last.outbox_ids):
            keyboard = (p.get("reply_markup") or {}).get("inline_keyboard")
            if keyboard:
                # the dialog's buttons carry "o:<nonce>:<index>"; the engine takes the token
                self.buttons = {b["text"]: b["callback_data"][2:] for row in keyboard for b in row}
        return self.last

    async def send(self, text: str):
        return await self._go(Inbound("command" if text.startswith("/") else "text", text=text))

    async def press(self, label: str):
        token = next(t for lb, t in self.buttons.items() if label in lb)
        return await self._go(Inbound("choice", token=token))

    async def file_a_repair(self):
        await self.send("/start")
        await self._go(Inbound("contact", phone="13800000301", contact_is_own=True))
        for label in ("是", "报修", "厨房", "水管/漏水"):
            await self.press(label)
        await self.send("水管接口一直在漏水")
        for label in ("继续", "紧急", "今天下午"):
            if any(label in lb for lb in self.buttons):
                await self.press(label)
        return await self.press("确认")


async def _queued(app: App, ids: list[int]) -> list[dict]:
    """The step's replies as the outbox holds them (every reply is queued, then sent)."""
    async with UnitOfWork(app.sessionmaker) as uow:
        rows = await uow.session.scalars(
            sa.select(OutboxMessage).where(OutboxMessage.id.in_(ids)).order_by(OutboxMessage.id)
        )
        return [r.payload for r in rows]


async def _app(url: str) -> App:
    app = build_app(Settings(database_url=url, agent_chat_id=AGENTS), clock=FakeClock(MONDAY_10))
    async with UnitOfWork(app.sessionmaker) as uow:
        await import_owners(uow.session, SAMPLE_OWNERS.read_bytes())
        await uow.commit()
    return app


def _rows(outbox: list[OutboxMessage], chat: int) -> list[OutboxMessage]:
    return [r for r in outbox if r.chat_id == str(chat)]


async def test_filing_a_ticket_posts_one_card_drawn_from_agent_card(migrated_url):
    app = await _app(migrated_url)
    try:
        outcome = await Chat(app, use_outbox=True).file_a_repair()
        async with UnitOfWork(app.sessionmaker) as uow:
            (ticket,) = list(await uow.session.scalars(sa.select(Ticket)))
            outbox = list(await uow.session.scalars(sa.select(OutboxMessage)))
        # the dialog names the ticket and carries no card of its own
        assert outcome.result.effects == [TicketFiled(ticket.id)]
        # the agents' chat gets exactly one card, and it is agent_card's
        (card,) = _rows(outbox, AGENTS)
        assert card.purpose == "card" and card.ticket_id == ticket.id
        assert card.payload["text"].startswith("❗ <b>紧急</b> " + ticket.number)
        assert "处理人：待接单" in card.payload["text"]
    finally:
        await app.db.dispose()


async def test_the_console_shows_the_card_the_agents_get(migrated_url):
    app = await _app(migrated_url)
    try:
        outcome = await Chat(app, use_outbox=False).file_a_repair()
        (shown,) = outcome.agent_replies
        assert shown.template == "agent_card"
        text = app.texts.render(shown.template, shown.context)
        assert "BX-20261123-0001" in text and "处理人：待接单" in text
    finally:
        await app.db.dispose()


def test_the_dialogs_own_card_template_is_gone():
    assert not list(TEMPLATES_DIR.rglob("agent_ticket_card.j2"))
