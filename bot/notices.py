"""Notices (公告) told to owners: on creation, every verified owner of the affected units gets
the notice through the outbox, rendered for their channel, so each sender's rate limits apply;
the accounts told are recorded, and only they hear when it ends early or is extended.

Quiet hours (policy.toml [followup] quiet_start/quiet_end) hold a non-urgent notice until they
end: its rows wait in the outbox (not_before), and say 今天/明天 as of that morning. An urgent
notice goes at once. Nothing here imports aiogram: the CLI queues notices too (bot/notice_cli.py)."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from dialogs.notices import context
from dialogs.policy import Policy
from dialogs.ports import NoticeView
from dialogs.texts import Texts
from storage.models import OutboxMessage
from storage.notice_repo import Listener, NoticesRepo

from .outbound import TELEGRAM, Message, Outbound, Part, Recipient, Renderer, Unrenderable
from .telegram_html import split_html

if TYPE_CHECKING:
    from storage.uow import UnitOfWork

log = logging.getLogger(__name__)

PURPOSE = "notice"
WECOM = "wecom"
# a broadcast waits behind every conversation, card and prompt; an urgent one goes before cards
PRIORITY = {False: 5, True: 2}


@dataclass(frozen=True, slots=True)
class Reach:
    """How many owners' accounts a notice (or its change) was written for, and when it goes:
    `held_until` is the end of quiet hours for a non-urgent notice made in them."""

    count: int
    held_until: datetime | None = None


def send_time(policy: Policy, tz, now: datetime, urgent: bool) -> datetime:
    """Now, or for a non-urgent notice in quiet hours their end (nothing but urgent matters
    wakes an owner: dialogs/calendar.py)."""
    return policy.followups.defer_quiet(now.astimezone(tz), urgent)


class Notices:
    """What the agents' /notice and the CLI call: publish a notice, tell its change."""

    def __init__(self, outbound: Outbound, policy: Policy, tz):
        self.outbound, self.policy, self.tz = outbound, policy, tz

    async def audience(
        self, uow: UnitOfWork, community: str, buildings, at: datetime
    ) -> list[Listener]:
        """The verified owners of the affected units that a message can reach at `at`."""
        found = await NoticesRepo(uow.session).audience(community, buildings)
        return [x for x in found if self._reachable(x, at)]

    def _reachable(self, x: Listener, at: datetime) -> bool:
        if not self.outbound.reaches(x.channel):
            return False
        if x.channel == WECOM:
            # WeChat takes 5 messages within 48 hours of the owner's last one: a notice beyond
            # that is not written (the sender would hold it and ask the handler to phone)
            from .wecom.budget import left

            return left(x, at) > 0
        return True

    async def publish(self, uow: UnitOfWork, notice_id: int) -> Reach:
        repo = NoticesRepo(uow.session)
        record = await repo.get(notice_id)
        if record is None:
            return Reach(0)
        n, now = record.view, self.outbound.clock.now()
        at = send_time(self.policy, self.tz, now, n.urgent)
        told = []
        for x in await self.audience(uow, n.community, n.buildings, at):
            if await self._write(uow, x, "notice_push", n, at, "push"):
                told.append(x.account_id)
        await repo.add_recipients(notice_id, told, now)
        return Reach(len(told), at if at > now else None)

    async def tell_change(
        self, uow: UnitOfWork, notice_id: int, change: str, old_end: datetime | None = None
    ) -> Reach:
        """`change`: "ended" or "extended". The same owners are told, and nobody else; one whose
        notice is still waiting for quiet hours to end gets it corrected instead (an extended
        notice anew, an ended one not at all)."""
        repo = NoticesRepo(uow.session)
        record = await repo.get(notice_id)
        if record is None:
            return Reach(0)
        n, now = record.view, self.outbound.clock.now()
        at = send_time(self.policy, self.tz, now, n.urgent)
        unsent = await self._withdraw_unsent(uow, notice_id)
        told = 0
        for x in await repo.listeners(await repo.recipients(notice_id)):
            if (x.channel, x.chat_id) in unsent:
                if change == "extended" and await self._write(uow, x, "notice_push", n, at, "push"):
                    told += 1
                continue
            if change == "extended":
                extra = {"old_end": old_end or n.ends_at}
            else:
                extra = {"early": record.ended_at is not None and record.ended_at < n.ends_at}
            if await self._write(uow, x, f"notice_{change}", n, at, change, extra):
                told += 1
        return Reach(told, at if at > now else None)

    async def _write(
        self,
        uow: UnitOfWork,
        x: Listener,
        template: str,
        n: NoticeView,
        at: datetime,
        what: str,
        extra: Mapping[str, Any] | None = None,
    ) -> bool:
        ctx = {
            "salutation": x.salutation,
            "hotline": self.policy.hotline,
            "service_name": self.policy.service_name,
            "notice": context(n, self.tz),
            # 今天 / 明天 as of when it is read: the end of quiet hours for a notice held
            "now": at,
            **(extra or {}),
        }
        ids = await self.outbound.write(
            uow,
            Recipient(x.channel, x.chat_id),
            Message(template, ctx),
            priority=PRIORITY[n.urgent],
            purpose=PURPOSE,
            ref={"notice_id": n.id, "what": what},
        )
        if ids and at > self.outbound.clock.now():
            await uow.session.execute(
                sa.update(OutboxMessage).where(OutboxMessage.id.in_(ids)).values(not_before=at)
            )
        return bool(ids)

    async def _withdraw_unsent(self, uow: UnitOfWork, notice_id: int) -> set[tuple[str, str]]:
        """This notice's messages not sent yet are withdrawn (a later word replaces them);
        the chats whose first message (the notice itself) was among them."""
        rows = await uow.session.scalars(
            sa.select(OutboxMessage).where(
                OutboxMessage.purpose == PURPOSE, OutboxMessage.state == "pending"
            )
        )
        mine = [r for r in rows if (r.ref or {}).get("notice_id") == notice_id]
        if mine:
            await uow.outbox.set_state([r.id for r in mine], "cancelled")
        return {(r.channel, r.chat_id) for r in mine if (r.ref or {}).get("what") == "push"}


# --- rendering without aiogram (the CLI) --------------------------------------------------------
class TelegramText:
    """A message without buttons as Telegram's renderer makes it (bot/rendering.py), for the
    commands that must not import aiogram; tests/test_notices_push.py holds them equal."""

    channel = TELEGRAM

    def __init__(self, texts: Texts):
        self.texts = texts

    def render(self, content) -> list[Part]:
        if not isinstance(content, Message) or content.buttons:
            raise Unrenderable("only a message without buttons")
        text = self.texts.render(content.template, dict(content.context))
        return [Part("sendMessage", {"text": c, "parse_mode": "HTML"}) for c in split_html(text)]


class WeComText:
    """The same for WeChat (bot/wecom/render.py): plain text within its byte limit."""

    channel = WECOM
    TEXT_LIMIT = 2048

    def __init__(self, texts: Texts):
        self.texts = texts

    def render(self, content) -> list[Part]:
        from .wecom.plain_text import html_to_text, split_text

        if not isinstance(content, Message) or content.buttons:
            raise Unrenderable("only a message without buttons")
        text = html_to_text(self.texts.render(content.template, dict(content.context)))
        return [
            Part("send_msg", {"msgtype": "text", "text": {"content": p}})
            for p in split_text(text, self.TEXT_LIMIT)
        ]


def text_renderers(texts: Texts, wecom: bool) -> dict[str, Renderer]:
    renderers: dict[str, Renderer] = {TELEGRAM: TelegramText(texts)}
    if wecom:
        renderers[WECOM] = WeComText(texts)
    return renderers
