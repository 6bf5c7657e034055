"""What comes in (Inbound) and what goes out (Reply, Effect), channel-neutral."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

InboundKind = Literal[
    "text",
    "command",
    "choice",
    "contact",
    "photo",
    "voice",
    "sticker",
    "location",
    "other",
    # raised on the owner's conversation from outside their chat (the desk, the scheduler) or by
    # a survey's standing button: each carries its detail below
    "survey_start",
    "survey_answer",
    "takeover",
    "release",
]


@dataclass(frozen=True, slots=True)
class SurveyStart:
    """Ask the owner a survey's current question (the first, or again as a reminder)."""

    survey_id: int
    reminder: bool = False


@dataclass(frozen=True, slots=True)
class SurveyTap:
    """The owner pressed a survey's button: which survey, which question, which answer. Only a
    pointer: checked against the stored survey before anything counts."""

    survey_id: int
    step: str
    value: str


@dataclass(frozen=True, slots=True)
class Takeover:
    """An agent takes the conversation over (human mode), for a handoff and maybe a ticket."""

    agent: str
    handoff_id: int
    ticket_number: str = ""


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
    # survey_start / survey_answer / takeover: what the event is about
    detail: SurveyStart | SurveyTap | Takeover | None = None


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
    # standing buttons (a survey's answers) stay valid whatever the owner does next: each value
    # is its own pointer, checked again when pressed, so it is sent as it is and not as an
    # index into this prompt's choices
    standing: bool = False


# --- effects: what a step asks of the world besides its replies, one type each ---------------
# The agents' side renders them itself (the card from the ticket as stored), so a dialog never
# says how a card looks, and a consumer dispatches on the type, never on a string.


@dataclass(frozen=True, slots=True)
class TicketFiled:
    """A ticket was created in this step: the agents' group gets its card."""

    ticket_id: int


@dataclass(frozen=True, slots=True)
class TicketChanged:
    """The owner completed a ticket already filed (emergency details, the full readback): its
    card in the agents' group is redrawn in place."""

    ticket_id: int


@dataclass(frozen=True, slots=True)
class AlertAgents:
    """A note for the agents' group (a withdrawn ticket, a 催办); also to the supervisors when
    `supervisors` (a second 催办 on an overdue ticket)."""

    reply: Reply
    ticket_id: int | None = None
    purpose: str = "alert"
    supervisors: bool = False


@dataclass(frozen=True, slots=True)
class HandoffRequested:
    """The owner asked for a person: the group is told who and why, and may claim the owner."""

    handoff_id: int
    account_id: int
    note: Reply


@dataclass(frozen=True, slots=True)
class RelayToAgents:
    """An owner's message while a person serves them (or is awaited), for the agents' group;
    `header` on the first of an album, so a reply to it reaches the owner."""

    handoff_id: int | None
    message_id: int
    kind: str
    text: str = ""
    # the channel's reference to a photo or file when it cannot be copied by message id
    # (WeChat's media_id): the agents' side fetches it when it is relayed
    file_id: str = ""
    phone: str = ""
    header: bool = True
    salutation: str = ""
    unit_label: str = ""
    ticket_number: str = ""


@dataclass(frozen=True, slots=True)
class HandoffClosed:
    """The owner left the human-agent queue or conversation; the group is told who ended it."""

    handoff_id: int
    by: str
    salutation: str = ""


@dataclass(frozen=True, slots=True)
class SurveyAnswered:
    """A 回访 is finished (stored as answered, with its mood): the desk closes the ticket with
    thanks, or starts the 差评回访 (reopen, call-back task, agents and supervisors told)."""

    survey_id: int
    ticket_id: int
    overall: int | None
    speed: int | None
    attitude: int | None
    solved: bool | None
    comment: str
    mood: str  # happy / neutral / unhappy

    @property
    def bad(self) -> bool:
        """差评: a score of 2 or less, or 否 to 问题是否已解决."""
        scores = (self.overall, self.speed, self.attitude)
        return self.solved is False or any(v is not None and v <= 2 for v in scores)


Effect = (
    TicketFiled
    | TicketChanged
    | AlertAgents
    | HandoffRequested
    | RelayToAgents
    | HandoffClosed
    | SurveyAnswered
)


@dataclass(slots=True)
class StepResult:
    replies: list[Reply]
    effects: list[Effect]
    # a stale or forged button: the transport answers the tap with a short alert and sends nothing
    alert: str | None = None
    # whether anything durable happened (a ticket created or changed): replies then go via outbox
    durable: bool = False
