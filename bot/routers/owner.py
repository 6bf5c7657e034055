"""Owners in private chats: map each update to an inbound event, run the step, commit, then
wake the outbox sender for the rows the step queued (every reply goes through the outbox)."""

from __future__ import annotations

import logging

from aiogram import F, Router
from aiogram.types import CallbackQuery, Message, Update

from dialogs.clean_text import clean_text
from dialogs.events import Inbound
from dialogs.state import profile_of
from dialogs.texts import Texts
from storage.uow import UnitOfWork

from ..conversation import ConversationService, Outcome
from ..desk import service
from ..desk.callbacks import OwnerAnswerCb, SurveyAnswerCb
from ..followups import survey
from ..outbound import TELEGRAM
from ..outbox_sender import OutboxSender
from ..rendering import CALLBACK_PREFIX
from ..unit_of_work import UnitOfWorkMiddleware

log = logging.getLogger(__name__)


def to_inbound(message: Message) -> Inbound:
    ev = _to_inbound(message)
    ev.message_id = message.message_id
    # words from outside, as they may be stored (NUL breaks every write on PostgreSQL)
    ev.text, ev.phone = clean_text(ev.text), clean_text(ev.phone)
    return ev


def _to_inbound(message: Message) -> Inbound:
    if message.contact is not None:
        own = bool(message.from_user and message.contact.user_id == message.from_user.id)
        return Inbound("contact", phone=message.contact.phone_number, contact_is_own=own)
    if message.photo:
        return Inbound(
            "photo",
            text=message.caption or "",
            file_id=message.photo[-1].file_id,
            album_id=message.media_group_id or "",
        )
    if message.voice or message.audio or message.video_note:
        media = message.voice or message.audio or message.video_note
        return Inbound("voice", file_id=media.file_id)
    if message.document or message.video or message.animation:
        media = message.document or message.video or message.animation
        return Inbound("other", text=message.caption or "", file_id=media.file_id)
    if message.sticker:
        return Inbound("sticker")
    if message.location or message.venue:
        return Inbound("location")
    if message.text is not None:
        if message.text.startswith("/"):
            return Inbound("command", text=message.text)
        return Inbound("text", text=message.text)
    return Inbound("other")


# the step's Telegram rows are written claimed and sent by this handler after commit
SEND_NOW = frozenset({TELEGRAM})


async def _deliver(sender: OutboxSender, outcome: Outcome, chat_id: str) -> None:
    if outcome.claimed:
        # at once, and only this step's rows, claimed when written: the owner's reply first
        # (priority), then the agents' side; anything else due is the background job's
        # (bot/jobs.py). The owner just wrote, so their chat is open.
        await sender.deliver_claimed(outcome.claimed, reachable=frozenset({chat_id}))


async def on_message(
    message: Message,
    event_update: Update,
    conversations: ConversationService,
    sender: OutboxSender,
) -> None:
    user = message.from_user
    if user is None:
        return
    outcome = await conversations.handle(
        channel="telegram",
        external_id=str(user.id),
        chat_id=str(message.chat.id),
        display_name=clean_text(user.full_name),
        inbound=to_inbound(message),
        update_id=event_update.update_id,
        send_now=SEND_NOW,
    )
    await _deliver(sender, outcome, str(message.chat.id))


async def on_owner_answer(
    query: CallbackQuery, callback_data: OwnerAnswerCb, desk, uow: UnitOfWork
) -> None:
    """已解决 / 还有问题 under a completion message (desk/casework.py decides)."""
    acc = await uow.accounts.account_by_external("telegram", str(query.from_user.id))
    if acc is None:
        alert = desk.texts.render("owner_action_stale")
    else:
        acc.unreachable = False  # the owner tapped: the chat is open again
        conv = await uow.accounts.conversation(acc.id)
        owner_id = profile_of(conv.state if conv else None).owner_id
        alert = await service.owner_tap(desk, uow, acc.id, owner_id, callback_data.command())
    if alert:
        await query.answer(alert, show_alert=True)
    else:
        await query.answer()


async def on_survey_answer(
    query: CallbackQuery, callback_data: SurveyAnswerCb, desk, uow: UnitOfWork
) -> None:
    """A 回访 answer: judged by the survey flow against the stored survey (only this owner's
    open survey, at its current question); an old or double tap changes nothing."""
    acc = await uow.accounts.account_by_external("telegram", str(query.from_user.id))
    if acc is None:
        alert = desk.texts.render("owner_action_stale")
    else:
        acc.unreachable = False  # the owner tapped: the chat is open again
        alert = await survey.handle_tap(desk, uow, acc.id, callback_data.pack())
    if alert:
        await query.answer(alert, show_alert=True)
    else:
        await query.answer()


async def on_callback(
    query: CallbackQuery,
    event_update: Update,
    texts: Texts,
    conversations: ConversationService,
    sender: OutboxSender,
) -> None:
    data = query.data or ""
    # the token is only a pointer: its meaning is looked up in the server-side state
    token = data[len(CALLBACK_PREFIX) :] if data.startswith(CALLBACK_PREFIX) else "forged"
    chat_id = str(query.message.chat.id) if query.message else str(query.from_user.id)
    outcome = await conversations.handle(
        channel="telegram",
        external_id=str(query.from_user.id),
        chat_id=chat_id,
        display_name=clean_text(query.from_user.full_name),
        inbound=Inbound("choice", token=token),
        update_id=event_update.update_id,
        send_now=SEND_NOW,
    )
    if outcome.result is None:
        await query.answer()
        return
    if outcome.result.alert:
        await query.answer(texts.render(outcome.result.alert), show_alert=True)
    else:
        await query.answer()
    await _deliver(sender, outcome, chat_id)


def make_router() -> Router:
    """A fresh router per dispatcher: tests and restarts build several in one process. The
    owner's answers on desk messages come first; everything else is the conversation."""
    answers = Router(name=f"{__name__}.answers")
    answers.callback_query.filter(F.message.chat.type == "private")
    answers.callback_query.middleware(UnitOfWorkMiddleware())
    answers.callback_query.register(on_owner_answer, OwnerAnswerCb.filter())
    answers.callback_query.register(on_survey_answer, SurveyAnswerCb.filter())
    chat = Router(name=f"{__name__}.chat")
    chat.message.filter(F.chat.type == "private")
    chat.callback_query.filter(F.message.chat.type == "private")
    chat.message.register(on_message)
    chat.callback_query.register(on_callback)
    router = Router(name=__name__)
    router.include_routers(answers, chat)
    return router
