"""WeChat messages in: each pulled message (kf/sync_msg) made into what the rest of the bot
understands, and applied once.

- text → a text event; a text carrying `menu_id` → the button with that id. The ids are
  Telegram's callback data (bot/wecom/render.py), so a tap is checked on the server exactly as a
  Telegram tap is: a dialog choice by the conversation's nonce, an answer under a desk message
  (已解决, a 回访 answer) by its stored ticket or survey. `more:N` draws the next page of the last
  menu the owner was sent.
- image / voice / video / file → an attachment, kept by its media_id (fetched from WeChat only
  when an agent needs to see it); location → location.
- event enter_session → the greeting, sent with its welcome_code; event msg_send_fail →
  recorded (bot/wecom/failures.py).

Every message is applied once (channel_messages, in the step's own transaction), and an owner's
message opens the 48-hour budget again (bot/wecom/budget.py) before anything is sent."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from dialogs.clean_text import clean_text
from dialogs.events import Inbound
from dialogs.state import profile_of
from storage.channel_repo import ChannelRepo
from storage.models import OutboxMessage
from storage.uow import UnitOfWork

from ..conversation import ConversationService, Outcome
from ..desk import service
from ..desk.callbacks import OwnerAnswerCb
from ..desk.context import PRIORITY_OWNER
from ..followups import survey
from ..rendering import CALLBACK_PREFIX
from . import budget
from .render import METHOD, menu_page, more_page, text_payload

log = logging.getLogger(__name__)

WECOM = "wecom"
FROM_OWNER = 3  # origin: 3 the WeChat user, 4 a system event, 5 a servicer in WeCom's own app
MEDIA = {"image": "photo", "voice": "voice", "video": "other", "file": "other"}


@dataclass(slots=True)
class Applied:
    """What one pulled message came to, for the caller to send after commit."""

    claimed: list[Any]
    kind: str  # step / tap / page / greeting / send_fail / skipped / duplicate


class WeComInbound:
    def __init__(
        self,
        conversations: ConversationService,
        desk,
        open_kfid: str,
        record_send_fail: Callable[..., Awaitable[None]] | None = None,
    ):
        self.conversations = conversations
        self.desk = desk
        self.open_kfid = open_kfid
        self.clock = conversations.clock
        self.outbound = conversations.outbound
        self.record_send_fail = record_send_fail

    async def apply(self, msg: Mapping[str, Any]) -> Applied:
        msgid = str(msg.get("msgid") or "")
        kind = msg.get("msgtype")
        if kind == "event":
            return await self._event(msgid, msg.get("event") or {})
        if msg.get("origin") != FROM_OWNER or not msgid:
            # our own messages and a servicer's in WeCom's app come back in the stream too
            return Applied([], "skipped")
        user = str(msg.get("external_userid") or "")
        if not user or msg.get("open_kfid", self.open_kfid) != self.open_kfid:
            return Applied([], "skipped")
        if kind == "text":
            text = (msg.get("text") or {}).get("content", "")
            menu_id = (msg.get("text") or {}).get("menu_id", "")
            if menu_id:
                return await self._tap(msgid, user, str(menu_id), text)
            return await self._step(msgid, user, Inbound("text", text=clean_text(text)))
        if kind in MEDIA:
            media_id = str((msg.get(kind) or {}).get("media_id", ""))[:256]
            return await self._step(
                msgid, user, Inbound(MEDIA[kind], file_id=f"wecom:{kind}:{media_id}")
            )
        if kind == "location":
            return await self._step(msgid, user, Inbound("location"))
        return await self._step(msgid, user, Inbound("other"))

    # --- an owner's step, through the same conversation service as Telegram ----------------------
    async def _step(self, msgid: str, user: str, inbound: Inbound) -> Applied:
        if inbound.text.startswith("/"):
            inbound = Inbound("command", text=inbound.text)
        outcome = await self.conversations.handle(
            channel=WECOM,
            external_id=user,
            chat_id=user,
            display_name="",
            inbound=inbound,
            send_now=SEND_NOW,
            message_key=msgid,
            before_step=self._owner_wrote,
        )
        return self._applied(outcome, "step")

    async def _owner_wrote(self, uow: UnitOfWork, account_id: int) -> None:
        await budget.owner_wrote(uow, account_id, self.clock.now())

    @staticmethod
    def _applied(outcome: Outcome, kind: str) -> Applied:
        if outcome.result is None:
            return Applied([], "duplicate")
        return Applied(list(outcome.claimed), kind)

    # --- a menu item tapped ------------------------------------------------------------------------
    async def _tap(self, msgid: str, user: str, menu_id: str, text: str) -> Applied:
        page = more_page(menu_id)
        if page is not None:
            return await self._page(msgid, user, page)
        if menu_id.startswith(CALLBACK_PREFIX):
            token = menu_id[len(CALLBACK_PREFIX) :]
            return await self._step(msgid, user, Inbound("choice", token=token))
        if menu_id.startswith(("o:", "s:")):
            return await self._desk_tap(msgid, user, menu_id)
        # an id we never sent: answered like a typed word, so nothing is lost
        return await self._step(msgid, user, Inbound("text", text=clean_text(text)))

    async def _desk_tap(self, msgid: str, user: str, data: str) -> Applied:
        """已解决 / 还有问题 and 回访 answers: the same checks as a Telegram tap; what Telegram shows
        as an alert is a message here."""
        now = self.clock.now()
        async with UnitOfWork(self.conversations.sessionmaker) as uow:
            if not await ChannelRepo(uow.session).first_seen(WECOM, msgid, now):
                return Applied([], "duplicate")
            acc = await uow.accounts.account_by_external(WECOM, user)
            alert = None
            if acc is None:
                alert = self.desk.texts.render("owner_action_stale")
            else:
                await budget.owner_wrote(uow, acc.id, now)
                acc.unreachable = False
                if data.startswith("o:"):
                    command = _owner_answer(data)
                    if command is None:
                        alert = self.desk.texts.render("owner_action_stale")
                    else:
                        conv = await uow.accounts.conversation(acc.id)
                        owner_id = profile_of(conv.state if conv else None).owner_id
                        alert = await service.owner_tap(self.desk, uow, acc.id, owner_id, command)
                else:
                    alert = await survey.handle_tap(self.desk, uow, acc.id, data)
            if alert:
                await uow.outbox.add(
                    user,
                    text_payload(alert),
                    now,
                    channel=WECOM,
                    method=METHOD,
                    priority=PRIORITY_OWNER,
                )
            await uow.commit()
        return Applied([], "tap")

    async def _page(self, msgid: str, user: str, page: int) -> Applied:
        """更多: the next page of the last menu this owner was sent, as a new message."""
        now = self.clock.now()
        async with UnitOfWork(self.conversations.sessionmaker) as uow:
            if not await ChannelRepo(uow.session).first_seen(WECOM, msgid, now):
                return Applied([], "duplicate")
            acc = await uow.accounts.account_by_external(WECOM, user)
            if acc is not None:
                await budget.owner_wrote(uow, acc.id, now)
            last = await uow.session.scalar(
                sa.select(OutboxMessage)
                .where(
                    OutboxMessage.channel == WECOM,
                    OutboxMessage.chat_id == user,
                    OutboxMessage.method == METHOD,
                    OutboxMessage.state == "sent",
                )
                .order_by(OutboxMessage.id.desc())
                .limit(1)
            )
            body = menu_page(last.payload, page) if last is not None else None
            if body is not None:
                await uow.outbox.add(
                    user, body, now, channel=WECOM, method=METHOD, priority=PRIORITY_OWNER
                )
            await uow.commit()
        return Applied([], "page")

    # --- events --------------------------------------------------------------------------------------
    async def _event(self, msgid: str, event: Mapping[str, Any]) -> Applied:
        kind = event.get("event_type")
        user = str(event.get("external_userid") or "")
        if event.get("open_kfid", self.open_kfid) != self.open_kfid or not user:
            return Applied([], "skipped")
        if kind == "enter_session":
            return await self._greet(msgid, user, str(event.get("welcome_code") or ""))
        if kind == "msg_send_fail" and self.record_send_fail is not None:
            now = self.clock.now()
            async with UnitOfWork(self.conversations.sessionmaker) as uow:
                if not await ChannelRepo(uow.session).first_seen(WECOM, msgid, now):
                    return Applied([], "duplicate")
                await self.record_send_fail(
                    uow,
                    user,
                    str(event.get("fail_msgid") or ""),
                    int(event.get("fail_type") or 0),
                    now,
                )
                await uow.commit()
            return Applied([], "send_fail")
        return Applied([], "skipped")

    async def _greet(self, msgid: str, user: str, welcome_code: str) -> Applied:
        """The owner opened the chat: the greeting (the dialog's /start), sent with the event's
        welcome_code, which does not count against the budget and works once. Without a code
        (the owner was greeted recently) nothing is sent: they write first."""
        if not welcome_code:
            return Applied([], "skipped")
        outcome = await self.conversations.handle(
            channel=WECOM,
            external_id=user,
            chat_id=user,
            display_name="",
            inbound=Inbound("command", text="/start"),
            send_now=SEND_NOW,
            message_key=msgid,
            # entering the chat is not a message: WeChat opens no budget for it
            reply_as=("send_msg_on_event", {"code": welcome_code}),
        )
        return self._applied(outcome, "greeting")


SEND_NOW = frozenset({WECOM, "telegram"})


def _owner_answer(data: str):
    """o:<answer>:<ticket>, validated as Telegram's filter does (bounded id, known answer)."""
    try:
        return OwnerAnswerCb.unpack(data).command()
    except (ValueError, TypeError):
        return None
