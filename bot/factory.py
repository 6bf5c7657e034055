"""One factory that builds the Bot, the Dispatcher and their dependencies; tests reuse it.

The channels that receive through the outbox are registered here, each with its renderer
(channel_renderers) and its sender (build_senders): a second channel adds one of each."""

from __future__ import annotations

from collections.abc import Mapping
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
from storage.verification_repo import offer_sms_codes

from .conversation import ConversationService
from .desk.context import Desk
from .followups.unreachable import owner_blocked
from .outbound import TELEGRAM, Outbound, Recipient, Renderer, Sender

WECOM = "wecom"
from .outbox_sender import OutboxSender
from .rate_limit import SharedLimits
from .rendering import TelegramRenderer
from .routers import agents, faq, merge, notice, owner, report, stale
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
    outbound: Outbound


def channel_renderers(texts: Texts, settings: Settings | None = None) -> dict[str, Renderer]:
    """Every channel whose messages are written to the outbox, with its renderer."""
    renderers: dict[str, Renderer] = {TELEGRAM: TelegramRenderer(texts)}
    if settings is not None and settings.wecom_enabled:
        from .wecom.render import WeComRenderer

        renderers[WECOM] = WeComRenderer(texts)
    return renderers


def build_app(settings: Settings, clock: Clock | None = None) -> App:
    clock = clock or SystemClock()
    db = make_engine(settings.database_url)
    sm = make_sessionmaker(db)
    if settings.sms_enabled:
        # the identity step may offer SMS codes; without a provider a WeChat owner is told so
        # and goes on unverified
        offer_sms_codes(sm)
    texts = Texts(settings.service_tz)
    policy = Policy.load(settings.policy_file or None)
    engine = Engine(policy, clock, texts.labels, tz=settings.service_tz)
    # the agents' group is a Telegram chat
    agents_chat = Recipient(TELEGRAM, settings.agent_chat) if settings.agent_chat else None
    outbound = Outbound(channel_renderers(texts, settings), clock, agents=agents_chat)
    desk = Desk(texts, policy, clock, engine, settings.agent_chat, outbound)
    conversations = ConversationService(sm, engine, outbound, clock, desk)
    return App(settings, db, sm, texts, policy, engine, conversations, clock, desk, outbound)


def build_bot(settings: Settings) -> Bot:
    session = None
    if settings.telegram_api_url:
        session = AiohttpSession(api=TelegramAPIServer.from_base(settings.telegram_api_url))
    return Bot(
        settings.bot_token.get_secret_value(),
        session=session,
        default=DefaultBotProperties(parse_mode="HTML"),
    )


def build_senders(app: App, bot: Bot | None, **telegram_options) -> dict[str, Sender]:
    """Every channel's sender; each claims only its own channel's rows (bot/jobs.py runs them).
    No bot: WeChat alone (no BOT_TOKEN), the agents' rows wait for Telegram."""
    senders: dict[str, Sender] = {}
    if bot is not None:
        senders[TELEGRAM] = _telegram_sender(app, bot, **telegram_options)
    if app.settings.wecom_enabled:
        from .wecom.channel import make_api
        from .wecom.sender import WeComSender

        wecom = WeComSender(
            app.sessionmaker, make_api(app.settings), app.clock, app.settings.wecom_open_kfid
        )
        # a push beyond WeChat's budget: the handler calls the owner, as for a blocked owner
        wecom.on_unreachable = partial(owner_blocked, app.desk)
        senders[WECOM] = wecom
        if TELEGRAM in senders:
            # a WeChat owner's photo, relayed to the agents' group, is fetched from WeChat
            senders[TELEGRAM].fetch_media = wecom.api.media_get
    if app.settings.sms_enabled:
        from .sms.outbox_sender import SmsOutboxSender
        from .sms.tencent import TencentSms

        s = app.settings
        sms = TencentSms(
            s.sms_api_url,
            s.sms_secret_id,
            s.sms_secret_key.get_secret_value(),
            s.sms_sdk_app_id,
            s.sms_sign_name,
            s.sms_template_id,
        )
        senders["sms"] = SmsOutboxSender(app.sessionmaker, sms, app.clock)
    return senders


def _telegram_sender(app: App, bot: Bot, **telegram_options) -> OutboxSender:
    if app.settings.redis_url and "limits" not in telegram_options:
        # every instance of this bot (named by its id) shares Telegram's limits
        telegram_options["limits"] = SharedLimits(
            app.settings.redis_url,
            f"wuye:bot{bot.id}",
            **{k: v for k, v in telegram_options.items() if k in SharedLimits.OPTIONS},
        )
    telegram = OutboxSender(
        app.sessionmaker,
        bot,
        app.clock,
        group_chat_id=app.settings.agent_chat,
        texts=app.texts,
        **telegram_options,
    )
    telegram.on_blocked = partial(owner_blocked, app.desk)
    return telegram


def build_dispatcher(app: App, bot: Bot, **sender_options) -> tuple[Dispatcher, OutboxSender]:
    """The dispatcher, and Telegram's sender (its handlers send right after their commit)."""
    senders: Mapping[str, Sender] = build_senders(app, bot, **sender_options)
    sender = senders[TELEGRAM]
    dp = Dispatcher(
        # conversations live in the database (dialogs/state.py), not in aiogram's FSM: without
        # it, no per-update FSM context is built (bench/dialogs.py)
        disable_fsm=True,
        conversations=app.conversations,
        sender=sender,
        senders=senders,
        texts=app.texts,
        app=app,
        desk=app.desk,
        sessionmaker=app.sessionmaker,
    )
    dp.include_router(owner.make_router())
    if app.settings.agent_chat:
        # /merge and /split before the agents' router, which answers every other command
        dp.include_router(merge.make_router(app.settings.agent_chat))
        # /faq too: a /faq replying to an owner's message is a look-up, not words for them
        dp.include_router(faq.make_router(app.settings.agent_chat))
        # /notice, and the replies to its prompts (typed buildings, times, the text)
        dp.include_router(notice.make_router(app.settings.agent_chat))
        # /report: supervisors' figures of the week so far (bot/reports/pack.py)
        dp.include_router(report.make_router(app.settings.agent_chat))
        dp.include_router(agents.make_router(app.settings.agent_chat))
    dp.include_router(stale.make_router())  # every tap answered, whatever chat it came from
    return dp, sender
