"""The agents' group: /notice, its guided draft (bot/desk/notice_wizard.py) and its commands
(bot/desk/notice_commands.py). Thin: each update becomes a call on the notice desk; the
unit-of-work middleware commits and wakes the sender.
Included before the group's own router (bot/routers/agents.py), which would otherwise take the
command and the replies to a draft's prompts as any other."""

from __future__ import annotations

from typing import Any

from aiogram import F, Router
from aiogram.filters import Command, CommandObject
from aiogram.types import CallbackQuery, Message

from dialogs.clean_text import clean_text
from storage.uow import UnitOfWork

from ..desk.context import Desk
from ..desk.notice_callbacks import NoticeCb
from ..desk.notice_commands import NoticeCommands
from ..desk.notice_wizard import DRAFT, NoticeDesk
from ..outbound import TELEGRAM
from ..unit_of_work import UnitOfWorkMiddleware


async def on_notice(message: Message, command: CommandObject, desk: Desk, uow: UnitOfWork):
    agent = await _agent(message, uow)
    if agent is None:
        await desk.to_agents(uow, "agent_not_roster", {})
        return
    await NoticeCommands(desk).command(uow, agent, clean_text(command.args or ""))


async def on_prompt_reply(message: Message, prompt: dict[str, Any], desk: Desk, uow: UnitOfWork):
    agent = await _agent(message, uow)
    if agent is None:
        await desk.to_agents(uow, "agent_not_roster", {})
        return
    await NoticeDesk(desk).reply(uow, agent, prompt, clean_text(message.text))


async def on_tap(query: CallbackQuery, callback_data: NoticeCb, desk: Desk, uow: UnitOfWork):
    agent = await uow.staff.agent_by_telegram(query.from_user.id)
    if agent is None:
        await query.answer(desk.texts.render("agent_not_roster"), show_alert=True)
        return
    alert = await NoticeDesk(desk).tap(uow, agent, callback_data)
    if alert:
        await query.answer(alert, show_alert=True)
    else:
        await query.answer()


async def _agent(message: Message, uow: UnitOfWork):
    user = message.from_user
    if user is None or user.is_bot:
        return None
    return await uow.staff.agent_by_telegram(user.id)


async def draft_prompt(message: Message, sessionmaker) -> dict[str, Any] | bool:
    """A reply to one of a draft's prompts: which draft and prompt (from the prompt's outbox
    row), else not ours."""
    replied = message.reply_to_message
    if replied is None or not message.text:
        return False
    async with UnitOfWork(sessionmaker) as uow:
        row = await uow.outbox.sent_in_chat(TELEGRAM, str(message.chat.id), replied.message_id)
    if row is None or row.purpose != DRAFT:
        return False
    return {"prompt": dict(row.ref or {})}


def make_router(agent_chat_id: int | str) -> Router:
    router = Router(name=__name__)
    router.message.filter(F.chat.id == int(agent_chat_id))
    router.callback_query.filter(F.message.chat.id == int(agent_chat_id))
    router.message.middleware(UnitOfWorkMiddleware())
    router.callback_query.middleware(UnitOfWorkMiddleware())
    router.message.register(on_notice, Command("notice"))
    router.message.register(on_prompt_reply, draft_prompt)
    router.callback_query.register(on_tap, NoticeCb.filter())
    return router
