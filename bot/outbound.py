"""The one outbound writer: a message for a recipient (an owner's account, the agents' group, a
supervisor's private chat) is rendered by the recipient's channel and written to the outbox in
the caller's transaction. Nothing is sent here; each channel's sender delivers its own rows after
commit (DESIGN.md: commit, then send).

A channel is a renderer here and a sender at the wiring (bot/factory.py): a second channel adds
those two, nothing else. What a channel cannot carry (no renderer, or a Telegram message to copy
into another channel) is logged and skipped, never written for a sender that cannot send it."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import timedelta
from typing import TYPE_CHECKING, Any, Protocol

from desk.effects import Button
from dialogs.clock import Clock
from dialogs.events import Reply

if TYPE_CHECKING:
    from storage.uow import UnitOfWork

log = logging.getLogger(__name__)

TELEGRAM = "telegram"


@dataclass(frozen=True, slots=True)
class Recipient:
    """Who receives: the channel, and the address as that channel names it (a chat id)."""

    channel: str
    address: str


# --- what is written ----------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Message:
    """A template, its context and typed buttons; each channel carries a tap its own way."""

    template: str
    context: Mapping[str, Any] = field(default_factory=dict)
    buttons: Sequence[Sequence[Button]] = ()


@dataclass(frozen=True, slots=True)
class Card:
    """A ticket's card: one message, never split, whose later versions replace it (`edit`)."""

    template: str
    context: Mapping[str, Any] = field(default_factory=dict)
    buttons: Sequence[Sequence[Button]] = ()
    edit: bool = False


@dataclass(frozen=True, slots=True)
class Copy:
    """A message a person sent (a photo, a voice note), passed on whole from where it is."""

    source: Recipient
    message_id: int
    # a channel whose messages cannot be copied (WeChat) names the media instead: the sender
    # fetches it from there and posts it (bot/outbox_sender.py, sendWeComMedia)
    file_id: str = ""


@dataclass(frozen=True, slots=True)
class Replies:
    """One dialog step's replies (dialogs/), rendered together: a channel may join them."""

    replies: Sequence[Reply]


Content = Message | Card | Copy | Replies


@dataclass(frozen=True, slots=True)
class Part:
    """One outbox row's worth: the channel's method and its JSON-able payload."""

    method: str
    payload: dict[str, Any]


class Unrenderable(Exception):
    """The channel cannot carry this content (e.g. a message of another channel to copy)."""


# --- what a channel provides --------------------------------------------------------------------
class Renderer(Protocol):
    def render(self, content: Content) -> list[Part]: ...


class Sender(Protocol):
    """Delivers the rows of its own channel (OutboxRepo.claim(channels=…)), run as a
    background job every `poll_seconds` (bot/jobs.py)."""

    channel: str
    poll_seconds: float

    async def deliver(
        self, ids: list[int] | None = None, min_age: timedelta | None = None
    ) -> int: ...

    async def deliver_left_over(self) -> int: ...


# --- the writer ---------------------------------------------------------------------------------
class Outbound:
    def __init__(
        self,
        renderers: Mapping[str, Renderer],
        clock: Clock,
        *,
        agents: Recipient | None = None,
    ):
        self.renderers = dict(renderers)
        self.clock = clock
        # the agents' group (None: none configured, so nothing is written for it)
        self.agents = agents

    @staticmethod
    def private_chat(user_id: int | str) -> Recipient:
        """A staff member's private chat with the bot (supervisors are on Telegram)."""
        return Recipient(TELEGRAM, str(user_id))

    def reaches(self, channel: str) -> bool:
        """Whether messages (and a survey's buttons) can be written for this channel."""
        return channel in self.renderers

    async def owner(self, uow: UnitOfWork, account_id: int | None) -> Recipient | None:
        """The owner behind an account, on the channel the account belongs to."""
        acc = await uow.accounts.account(account_id) if account_id is not None else None
        return Recipient(acc.channel, acc.chat_id) if acc is not None else None

    def render(self, channel: str, content: Content) -> list[dict[str, Any]]:
        """Payloads to send at once, outside the outbox (a step that changed nothing durable).
        The console has no renderer of its own: it prints Telegram's payloads as plain text
        (bot/console.py)."""
        renderer = self.renderers.get(channel) or self.renderers[TELEGRAM]
        return [p.payload for p in renderer.render(content)]

    async def write(
        self,
        uow: UnitOfWork,
        to: Recipient | None,
        content: Content,
        *,
        priority: int,
        purpose: str = "owner",
        ticket_id: int | None = None,
        ref: dict[str, Any] | None = None,
    ) -> list[int]:
        """Rendered for `to`'s channel and queued; the outbox ids, in order ([] when nothing
        could be written for that recipient)."""
        if to is None or (isinstance(content, Replies) and not content.replies):
            return []
        renderer = self.renderers.get(to.channel)
        if renderer is None:
            log.warning(
                "outbox: no renderer for channel %r; %s (%s) not queued",
                to.channel,
                _what(content),
                purpose,
            )
            return []
        now = self.clock.now()
        if isinstance(content, Message | Card):
            # every desk message may say when it was written ("10:30前")
            content = replace(content, context={"now": now, **content.context})
        try:
            parts = renderer.render(content)
        except Unrenderable as e:
            log.info(
                "outbox: channel %r cannot carry %s (%s): %s",
                to.channel,
                _what(content),
                purpose,
                e,
            )
            return []
        ids = []
        for part in parts:
            ids.append(
                await uow.outbox.add(
                    to.address,
                    part.payload,
                    now,
                    channel=to.channel,
                    method=part.method,
                    priority=priority,
                    purpose=purpose,
                    ticket_id=ticket_id,
                    ref=ref,
                )
            )
        return ids


def _what(content: Content) -> str:
    match content:
        case Message(template=t) | Card(template=t):
            return t
        case Replies(replies=rs):
            return "+".join(r.template for r in rs) or "no replies"
        case _:
            return type(content).__name__.lower()
