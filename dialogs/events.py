"""What comes in (Inbound) and what goes out (Reply, Effect), channel-neutral."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

InboundKind = Literal[
    "text", "command", "choice", "contact", "photo", "voice", "sticker", "location", "other"
]


@dataclass(slots=True)
class Inbound:
    """One owner action, already stripped of its channel."""

    kind: InboundKind
    text: str = ""
    # choice: the token carried by the pressed button ("<nonce>:<index>")
    token: str = ""
    # contact: the shared phone, and whether it is the sender's own (contact.user_id == sender)
    phone: str = ""
    contact_is_own: bool = False
    # photo / voice / other media: the channel's file reference
    file_id: str = ""
    album_id: str = ""
    # the channel's id of the owner's message, so a person can be shown it whole (relay)
    message_id: int = 0


@dataclass(slots=True)
class Choice:
    label: str
    value: str


@dataclass(slots=True)
class Reply:
    """One message: a template and its context, plus buttons as rows of choices."""

    template: str
    context: dict[str, Any] = field(default_factory=dict)
    rows: list[list[Choice]] = field(default_factory=list)
    request_contact: bool = False
    remove_keyboard: bool = False


@dataclass(slots=True)
class Effect:
    """Something the transport must do besides answering: notify agents, and later more."""

    kind: str
    data: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class StepResult:
    replies: list[Reply]
    effects: list[Effect]
    # a stale or forged button: the transport answers the tap with a short alert and sends nothing
    alert: str | None = None
    # whether anything durable happened (a ticket created or changed): replies then go via outbox
    durable: bool = False
