"""One factory that builds the Bot, the Dispatcher and their dependencies; tests reuse it."""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial

from aiogram import Bot, Dispatcher
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from sqlalchemy.ext.asyncio import AsyncEngine

from dialogs.clock import Clock, SystemClock
from dialogs.engine import Engine
from dialogs.policy import Policy
from dialogs.texts import Texts
from storage.db import make_engine, make_sessionmaker

from .conversation import ConversationService
from .desk.context import Desk
from .followups.unreachable import owner_blocked
from .outbox_sender import OutboxSender
from .routers import agents, owner
from .settings import Settings


@dataclass
class App:
    settings: Settings
    db: AsyncEngine
    sessionmaker: object
    texts: Texts
    policy: Policy
    engine: Engine
    conversations: ConversationService
    clock: Clock
    desk: Desk


def build_app(settings: Settings, clock: Clock | None = None) -> App:
    clock = clock or SystemClock()
    db = make_engine(settings.database_url)
    sm = make_sessionmaker(db)
    texts = Texts(settings.service_tz)
    policy = Policy.load(settings.policy_file or None)
    engine = Engine(policy, clock, texts.buttons, tz=settings.service_tz)
    desk = Desk(texts, policy, clock, engine, settings.agent_chat)
    conversations = ConversationService(sm, engine, texts, clock, desk)
    return App(settings, db, sm, texts, policy, engine, conversations, clock, desk)


def build_bot(settings: Settings) -> Bot:
    session = None
    if settings.telegram_api_url:
        session = AiohttpSession(api=TelegramAPIServer.from_base(settings.telegram_api_url))
    return Bot(
        settings.bot_token.get_secret_value(),
        session=session,
        default=DefaultBotProperties(parse_mode="HTML"),
    )


def build_dispatcher(app: App, bot: Bot, **sender_options) -> tuple[Dispatcher, OutboxSender]:
    sender = OutboxSender(
        app.sessionmaker,
        bot,
        app.clock,
        group_chat_id=app.settings.agent_chat,
        texts=app.texts,
        **sender_options,
    )
    sender.on_blocked = partial(owner_blocked, app.desk)
    dp = Dispatcher(
        conversations=app.conversations,
        sender=sender,
        texts=app.texts,
        app=app,
        desk=app.desk,
        sessionmaker=app.sessionmaker,
    )
    dp.include_router(owner.make_router())
    if app.settings.agent_chat:
        dp.include_router(agents.make_router(app.settings.agent_chat))
    return dp, sender
