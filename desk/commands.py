"""What an agent (or a worker, or the owner on a desk message) asks of a ticket, as typed
commands. A channel turns a tap or a reply into one of these; it carries ids and indexes only,
never a meaning the server has not checked (the decision re-reads the ticket and the policy)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Take:
    ticket_id: int


@dataclass(frozen=True, slots=True)
class Grab:
    """抢单: urgent tickets, first tap wins (an agent takes it; a worker is dispatched)."""

    ticket_id: int


@dataclass(frozen=True, slots=True)
class Reassign:
    ticket_id: int
    to_agent_id: int | None = None  # None: show the roster to choose from
    # the card's version the button was drawn for: a second tap finds it moved on
    version: int | None = None


@dataclass(frozen=True, slots=True)
class Dispatch:
    """派单 in three picks: department → worker (0: none named) → time. Each pick not yet made is
    None, and the decision asks for it."""

    ticket_id: int
    department: int | None = None
    worker_id: int | None = None
    minutes: int | None = None
    # the card's version the button was drawn for: a second tap finds it moved on
    version: int | None = None


@dataclass(frozen=True, slots=True)
class Progress:
    ticket_id: int
    step: int | None = None  # index into the policy's progress steps; None: show them
    # the card's version the button was drawn for: a second tap finds it moved on
    version: int | None = None


@dataclass(frozen=True, slots=True)
class Complete:
    ticket_id: int
    note: str | None = None  # None: ask for the note; "": complete without one
    # the card's version the button was drawn for: a second tap finds it moved on
    version: int | None = None


@dataclass(frozen=True, slots=True)
class Escalate:
    ticket_id: int
    reason: str | None = None  # None: ask; a reason picked from the policy or typed


@dataclass(frozen=True, slots=True)
class EscalateReason:
    ticket_id: int
    index: int
    version: int | None = None


@dataclass(frozen=True, slots=True)
class Delay:
    ticket_id: int
    minutes: int
    version: int | None = None


@dataclass(frozen=True, slots=True)
class AddNote:
    ticket_id: int
    text: str


@dataclass(frozen=True, slots=True)
class ResendSurvey:
    ticket_id: int
    version: int | None = None


@dataclass(frozen=True, slots=True)
class Takeover:
    ticket_id: int


@dataclass(frozen=True, slots=True)
class ClaimHandoff:
    handoff_id: int


@dataclass(frozen=True, slots=True)
class ReleaseHandoff:
    handoff_id: int


@dataclass(frozen=True, slots=True)
class OpenCallback:
    """Ask the agent for the result of a call-back task (差评回访 / 电话回访)."""

    task_id: int


@dataclass(frozen=True, slots=True)
class RecordCallback:
    task_id: int
    text: str


@dataclass(frozen=True, slots=True)
class OwnerAnswer:
    """已解决 / 还有问题 on the completion message."""

    ticket_id: int
    solved: bool


TicketCommand = (
    Take
    | Grab
    | Reassign
    | Dispatch
    | Progress
    | Complete
    | Escalate
    | EscalateReason
    | Delay
    | AddNote
    | ResendSurvey
    | Takeover
    | OwnerAnswer
)
