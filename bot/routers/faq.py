"""/faq and the 📚 加入常见问题 button in the agents' group (issue 12). Included before the
agents' router: a /faq sent as a reply to an owner's relayed message is a look-up, never words
for the owner. Only roster members act; others get the desk's polite refusal."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Command, CommandObject
from aiogram.types import CallbackQuery, Message

from dialogs.clean_text import clean_text
from storage.uow import UnitOfWork

from ..desk import faq, faq_offer
from ..desk.context import Desk
from ..desk.faq_callbacks import FaqAddCb
from ..desk.faq_commands import parse
from ..outbound import TELEGRAM
from ..unit_of_work import UnitOfWorkMiddleware


async def on_faq(message: Message, command: CommandObject, desk: Desk, uow: UnitOfWork) -> None:
    user = message.from_user
    if user is None or user.is_bot:
        return
    agent = await uow.staff.agent_by_telegram(user.id)
    if agent is None:
        await desk.to_agents(uow, "agent_not_roster", {})
        return
    replied = None
    if message.reply_to_message is not None:
        replied = await uow.outbox.sent_in_chat(
            TELEGRAM, str(message.chat.id), message.reply_to_message.message_id
        )
    await faq.run(desk, uow, agent, parse(clean_text(command.args)), replied)


async def on_add_tap(
    query: CallbackQuery, callback_data: FaqAddCb, desk: Desk, uow: UnitOfWork
) -> None:
    assert query.message is not None  # the router's filter reads its chat
    alert = await faq_offer.add_from_offer(
        desk,
        uow,
        query.from_user.id,
        callback_data.handoff_id,
        str(query.message.chat.id),
        query.message.message_id,
    )
    await query.answer(alert, show_alert=True)


def make_router(agent_chat_id: int | str) -> Router:
    router = Router(name=__name__)
    router.message.filter(F.chat.id == int(agent_chat_id))
    router.callback_query.filter(F.message.chat.id == int(agent_chat_id))
    router.message.middleware(UnitOfWorkMiddleware())
    router.callback_query.middleware(UnitOfWorkMiddleware())
    router.message.register(on_faq, Command("faq", ignore_case=True))
    router.callback_query.register(on_add_tap, FaqAddCb.filter())
    return router
