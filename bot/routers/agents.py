"""The agents' group: button taps and replies. Only roster members act; a stranger's tap or
command gets a polite refusal and nothing changes. Thin: each update becomes a desk command,
the core decides, the unit-of-work middleware commits and wakes the sender."""

from __future__ import annotations

from typing import Any

from aiogram import F, Router
from aiogram.types import CallbackQuery, Message

from dialogs.clean_text import clean_text
from storage.uow import UnitOfWork

from ..desk import relay, service
from ..desk.callbacks import DESK_CALLBACKS
from ..desk.context import Desk
from ..desk.legacy_callbacks import OldDeskTap
from ..outbound import TELEGRAM
from ..unit_of_work import UnitOfWorkMiddleware


async def on_desk_tap(query: CallbackQuery, callback_data: Any, desk: Desk, uow: UnitOfWork):
    alert = await service.agent_tap(desk, uow, query.from_user.id, callback_data.command())
    if alert:
        await query.answer(alert, show_alert=True)
    else:
        await query.answer()


async def on_old_tap(query: CallbackQuery, command: Any, desk: Desk, uow: UnitOfWork) -> None:
    """A button from before the CallbackData classes, on a card still in the group."""
    alert = await service.agent_tap(desk, uow, query.from_user.id, command)
    if alert:
        await query.answer(alert, show_alert=True)
    else:
        await query.answer()


async def on_stale_tap(query: CallbackQuery, desk: Desk) -> None:
    """A button from an older version, or forged: nothing changes."""
    alert = desk.texts.render("agent_refused", {"reason": "stale", "handler": ""})
    await query.answer(alert, show_alert=True)


async def on_group_message(message: Message, desk: Desk, uow: UnitOfWork) -> None:
    user = message.from_user
    if user is None or user.is_bot:
        return
    replied = message.reply_to_message
    is_command = bool(message.text and message.text.startswith("/"))
    if replied is None and not is_command:
        return  # the group's own conversation
    agent = await uow.staff.agent_by_telegram(user.id)
    if agent is None:
        await desk.to_agents(uow, "agent_not_roster", {})
        return
    if replied is None:
        return
    row = await uow.outbox.sent_in_chat(TELEGRAM, str(message.chat.id), replied.message_id)
    if row is None:
        return
    # words from outside, as they may be stored (NUL breaks every write on PostgreSQL)
    text = clean_text(message.text or message.caption)
    if row.purpose in ("relay", "handoff"):
        account_id = row.ref.get("account_id")
        h = await uow.handoffs.open_handoff(account_id) if account_id else None
        if h is None or h.state != "active":
            await desk.to_agents(uow, "agent_refused", {"reason": "no_handoff", "handler": ""})
        else:
            kind = "text" if message.text else "media"
            await relay.agent_reply(desk, uow, agent, account_id, text, message.message_id, kind)
    elif row.purpose == "prompt" and text:
        await service.prompt_reply(desk, uow, agent, row.ref, text)


def make_router(agent_chat_id: int | str) -> Router:
    router = Router(name=__name__)
    router.message.filter(F.chat.id == int(agent_chat_id))
    router.callback_query.filter(F.message.chat.id == int(agent_chat_id))
    router.message.middleware(UnitOfWorkMiddleware())
    router.callback_query.middleware(UnitOfWorkMiddleware())
    for cb in DESK_CALLBACKS:
        router.callback_query.register(on_desk_tap, cb.filter())
    router.callback_query.register(on_old_tap, OldDeskTap())
    router.callback_query.register(on_stale_tap)
    router.message.register(on_group_message)
    return router
