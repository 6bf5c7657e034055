"""The agents' group: button taps and replies. Only roster members act; a stranger's tap or
command gets a polite refusal and nothing changes."""

from __future__ import annotations

import logging

from aiogram import Bot, F, Router
from aiogram.types import CallbackQuery, Message

from storage.uow import UnitOfWork

from ..desk import actions, relay
from ..desk.context import Desk
from ..outbox_sender import OutboxSender

log = logging.getLogger(__name__)


async def on_group_tap(
    query: CallbackQuery, desk: Desk, sessionmaker, sender: OutboxSender
) -> None:
    async with UnitOfWork(sessionmaker) as uow:
        alert = await actions.handle_tap(desk, uow, query.from_user.id, query.data or "")
        if alert is None:
            await uow.commit()
        else:
            await uow.rollback()
    if alert:
        await query.answer(alert, show_alert=True)
    else:
        await query.answer()
        await sender.deliver()


async def on_group_message(
    message: Message, bot: Bot, desk: Desk, sessionmaker, sender: OutboxSender
) -> None:
    user = message.from_user
    if user is None or user.is_bot:
        return
    replied = message.reply_to_message
    is_command = bool(message.text and message.text.startswith("/"))
    if replied is None and not is_command:
        return  # the group's own conversation
    async with UnitOfWork(sessionmaker) as uow:
        agent = await uow.desk.agent_by_telegram(user.id)
        if agent is None:
            await desk.to_agents(uow, "agent_not_roster", {})
            await uow.commit()
            await sender.deliver()
            return
        if replied is None:
            return
        row = await uow.desk.sent_in_chat(str(message.chat.id), replied.message_id)
        if row is None:
            return
        text = message.text or message.caption or ""
        kind = "text" if message.text else "media"
        if row.purpose in ("relay", "handoff"):
            account_id = row.ref.get("account_id")
            h = await uow.desk.open_handoff(account_id) if account_id else None
            if h is None or h.state != "active":
                await desk.to_agents(uow, "agent_refused", {"reason": "no_handoff", "handler": ""})
            else:
                await relay.agent_reply(
                    desk, uow, agent, account_id, text, message.message_id, kind
                )
        elif row.purpose == "prompt" and text:
            await _prompt_reply(desk, uow, agent, row.ref, text)
        await uow.commit()
    await sender.deliver()


async def _prompt_reply(desk: Desk, uow: UnitOfWork, agent, ref: dict, text: str) -> None:
    from dialogs.polite import check
    from dialogs.typography import fix_punctuation

    t = await uow.desk.ticket(int(ref.get("ticket_id", 0)))
    if t is None:
        return
    action = ref.get("action")
    if action in ("complete", "note"):
        text = fix_punctuation(text)  # the owner reads it: full-width marks (GB/T 15834)
    try:
        if action == "complete":
            if check(text):
                await desk.to_agents(uow, "agent_reply_held", {"issues": check(text)})
                return
            await actions.complete(desk, uow, agent, t, text)
        elif action == "escalate":
            await actions.escalate(desk, uow, agent, t, text)
        elif action == "task_result":
            await actions.task_result(desk, uow, agent, int(ref.get("task_id", 0)), text)
        elif action == "note":
            findings = check(text)
            if findings:
                await desk.to_agents(uow, "agent_reply_held", {"issues": findings})
                return
            uow.desk.event(t, desk.clock.now(), "agent", agent.id, "note", None, None, text)
            await desk.to_owner(
                uow,
                t.reporter_account_id,
                "owner_note",
                {"number": t.number, "note": text},
                ticket_id=t.id,
            )
    except actions.Refusal as r:
        await desk.to_agents(uow, "agent_refused", {"reason": r.reason, "handler": "", **r.ctx})


def make_router(agent_chat_id: str) -> Router:
    router = Router(name=__name__)
    router.message.filter(F.chat.id == int(agent_chat_id))
    router.callback_query.filter(F.message.chat.id == int(agent_chat_id))
    router.callback_query.register(on_group_tap, F.data.startswith("d:"))
    router.message.register(on_group_message)
    return router
