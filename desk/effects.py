"""What a casework decision asks the world to do, as typed values. One writer at the edge
(bot/desk/apply.py) turns them into rows and outbox messages inside the same transaction; the
core never touches either."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from .model import SYSTEM, Actor


@dataclass(frozen=True, slots=True)
class Button:
    """A button on a message: its label (a key of the button labels, or the text itself when
    `literal`), and the command a tap stands for. The channel decides how to carry it."""

    label: str
    command: Any
    params: tuple[tuple[str, Any], ...] = ()
    literal: bool = False


@dataclass(frozen=True, slots=True)
class Label:
    """A context value worded by the renderer from the button labels (not by the core)."""

    key: str


@dataclass(frozen=True, slots=True)
class Prompt:
    """A message whose reply is the agent's input: the note of a completion, a reason…"""

    action: str  # complete / note / escalate / task_result
    task_id: int | None = None


# --- the ticket ---------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Moved:
    """One line of the ticket's history, and its new status (the same one when it stays)."""

    action: str
    to_status: str
    actor: Actor = SYSTEM
    note: str | Label = ""
    # a time to add to the note, worded by the renderer ("10:30前")
    note_time: datetime | None = None
    note_time_only: bool = False


@dataclass(frozen=True, slots=True)
class Reopened:
    """A closed ticket is open again (差评回访): it no longer counts as closed."""


@dataclass(frozen=True, slots=True)
class Noted:
    """A line of the ticket's history that moves nothing (a note, a takeover, a call-back)."""

    action: str
    actor: Actor = SYSTEM
    note: str = ""


@dataclass(frozen=True, slots=True)
class HandlerSet:
    agent_id: int | None
    name: str


@dataclass(frozen=True, slots=True)
class MarkedEscalated:
    pass


@dataclass(frozen=True, slots=True)
class MarkedCompleted:
    at: datetime


@dataclass(frozen=True, slots=True)
class MarkedOwnerConfirmed:
    pass


@dataclass(frozen=True, slots=True)
class ArrivalPromised:
    at: datetime


@dataclass(frozen=True, slots=True)
class SlaPaused:
    since: datetime


@dataclass(frozen=True, slots=True)
class SlaResumed:
    """The clock runs again: pending SLA deadlines and the arrival promise move by `stood`."""

    stood: timedelta


@dataclass(frozen=True, slots=True)
class SlaCleared:
    pass


@dataclass(frozen=True, slots=True)
class WorkOrdered:
    department: str
    worker_id: int | None
    due: datetime
    by_agent_id: int | None


# --- follow-ups -------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class FollowUpScheduled:
    kind: str
    at: datetime
    urgent: bool = False
    data: dict[str, Any] = field(default_factory=dict)
    # the owner it is about (surveys); None for the desk's own reminders
    to_reporter: bool = False


@dataclass(frozen=True, slots=True)
class FollowUpsCancelled:
    kinds: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class CallbackTaskOpened:
    """A call-back the handler owes (差评回访, 电话回访): the task, the agents' alert with its
    result button, the supervisors told when `supervisors`, a deadline watched when `watch`."""

    kind: str
    due: datetime
    agent_id: int | None
    template: str
    context: dict[str, Any]
    supervisors: bool = False
    watch: bool = False


@dataclass(frozen=True, slots=True)
class TaskDone:
    task_id: int
    text: str
    agent_id: int | None


@dataclass(frozen=True, slots=True)
class SurveyOpened:
    """A 回访 starts in the owner's chat: the survey row, its first question, and a reminder
    at `remind_at` if it is not answered."""

    account_id: int
    kind: str
    remind_at: datetime


@dataclass(frozen=True, slots=True)
class SurveyAsked:
    """The survey's current question again (the reminder), then its expiry watched."""

    survey_id: int
    expire_at: datetime


@dataclass(frozen=True, slots=True)
class SurveyUnanswered:
    survey_id: int


@dataclass(frozen=True, slots=True)
class HandoffNudged:
    handoff_id: int


@dataclass(frozen=True, slots=True)
class OwnerUnreachable:
    """The owner blocked the bot or left the channel: no more chat messages are tried."""

    account_id: int


# --- messages -----------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class ToOwner:
    template: str
    context: dict[str, Any]
    buttons: tuple[tuple[Button, ...], ...] = ()
    # None: the ticket's reporter
    account_id: int | None = None
    about_ticket: bool = True


@dataclass(frozen=True, slots=True)
class ToAgents:
    template: str
    context: dict[str, Any]
    buttons: tuple[tuple[Button, ...], ...] = ()
    prompt: Prompt | None = None
    # goes ahead of cards and prompts in the group's queue (the conversation relay)
    relay: bool = False


@dataclass(frozen=True, slots=True)
class ToSupervisors:
    template: str
    context: dict[str, Any]


@dataclass(frozen=True, slots=True)
class CardChanged:
    """The ticket's card in the agents' group is edited in place to show it as it is now."""


# --- conversations ------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class HumanStarted:
    """A person takes the owner's conversation (接入对话); the bot stops answering."""

    account_id: int
    agent: Actor
    handoff_id: int | None = None
    ticket_id: int | None = None


@dataclass(frozen=True, slots=True)
class HumanReleased:
    handoff_id: int
    agent: Actor


@dataclass(frozen=True, slots=True)
class ReplyHeld:
    """An agent's words for an owner were held by 服务禁言: recorded for the report's 情绪管理
    (the phrases, not the reply)."""

    agent_id: int | None
    phrases: tuple[str, ...]
    account_id: int | None = None


Effect = (
    Moved
    | Noted
    | Reopened
    | HandlerSet
    | MarkedEscalated
    | MarkedCompleted
    | MarkedOwnerConfirmed
    | ArrivalPromised
    | SlaPaused
    | SlaResumed
    | SlaCleared
    | WorkOrdered
    | FollowUpScheduled
    | FollowUpsCancelled
    | CallbackTaskOpened
    | TaskDone
    | ToOwner
    | ToAgents
    | ToSupervisors
    | CardChanged
    | HumanStarted
    | HumanReleased
    | SurveyOpened
    | SurveyAsked
    | SurveyUnanswered
    | HandoffNudged
    | OwnerUnreachable
    | ReplyHeld
)


class Refusal(Exception):
    """Why not, as a code the agents' template words (agent_refused)."""

    def __init__(self, reason: str, handler: str = ""):
        super().__init__(reason)
        self.reason, self.handler = reason, handler
