"""The desk's buttons as aiogram CallbackData: each kind of tap a class, packed and unpacked in
one place. The data only points (ticket, index); the server re-reads the ticket, the policy and
the roster before anything happens (desk/casework.py)."""

from __future__ import annotations

from enum import Enum
from typing import Annotated, Any

from aiogram.filters.callback_data import CallbackData
from pydantic import Field, model_validator

from desk import commands as c
from dialogs.flows.survey import parse_tap

# The data comes back from the client and anyone can send any: a number no INTEGER column holds
# (or a negative one) fails here, the filter does not match, and the tap is answered as stale
# instead of raising in the database (PostgreSQL: out of int32 range; SQLite: overflow).
MAX_ID = 2**31 - 1
Id = Annotated[int, Field(ge=1, le=MAX_ID)]
Number = Annotated[int, Field(ge=0, le=MAX_ID)]  # an index, minutes, a card's version


class TicketAction(str, Enum):
    # the first five keep their short wire names: cards already posted in groups carry them
    take = "take"
    grab = "grab"
    dispatch = "disp"
    progress = "prog"
    complete = "done"
    escalate = "escalate"
    takeover = "takeover"
    reassign = "reassign"
    resurvey = "resurvey"


TICKET_COMMANDS = {
    TicketAction.take: c.Take,
    TicketAction.grab: c.Grab,
    TicketAction.dispatch: c.Dispatch,
    TicketAction.progress: c.Progress,
    TicketAction.complete: c.Complete,
    TicketAction.escalate: c.Escalate,
    TicketAction.takeover: c.Takeover,
    TicketAction.reassign: c.Reassign,
    TicketAction.resurvey: c.ResendSurvey,
}


class TicketCb(CallbackData, prefix="d"):
    action: TicketAction
    ticket_id: Id
    v: Number | None = None  # the card's version

    def command(self) -> Any:
        cls = TICKET_COMMANDS[self.action]
        if self.v is not None and "version" in cls.__dataclass_fields__:
            return cls(self.ticket_id, version=self.v)
        return cls(self.ticket_id)


class DispatchCb(CallbackData, prefix="dispatch"):
    ticket_id: Id
    department: Number
    worker_id: Number | None = None  # 0: the department, no one named
    minutes: Number | None = None
    v: Number | None = None  # the card's version

    def command(self) -> Any:
        return c.Dispatch(self.ticket_id, self.department, self.worker_id, self.minutes, self.v)


class ProgressCb(CallbackData, prefix="progress"):
    ticket_id: Id
    step: Number
    v: Number | None = None  # the card's version

    def command(self) -> Any:
        return c.Progress(self.ticket_id, self.step, self.v)


class CompleteNowCb(CallbackData, prefix="complete"):
    """完成 without a note (the prompt's button)."""

    ticket_id: Id
    v: Number | None = None  # the card's version

    def command(self) -> Any:
        return c.Complete(self.ticket_id, "", self.v)


class DelayCb(CallbackData, prefix="delay"):
    ticket_id: Id
    minutes: Number
    v: Number | None = None  # the card's version

    def command(self) -> Any:
        return c.Delay(self.ticket_id, self.minutes, self.v)


class ReassignCb(CallbackData, prefix="reassign"):
    ticket_id: Id
    agent_id: Id
    v: Number | None = None  # the card's version

    def command(self) -> Any:
        return c.Reassign(self.ticket_id, self.agent_id, self.v)


class EscalateCb(CallbackData, prefix="escalate"):
    ticket_id: Id
    reason: Number
    v: Number | None = None  # the card's version

    def command(self) -> Any:
        return c.EscalateReason(self.ticket_id, self.reason, self.v)


class HandoffAction(str, Enum):
    claim = "claim"
    release = "release"


class HandoffCb(CallbackData, prefix="handoff"):
    action: HandoffAction
    handoff_id: Id

    def command(self) -> Any:
        if self.action is HandoffAction.claim:
            return c.ClaimHandoff(self.handoff_id)
        return c.ReleaseHandoff(self.handoff_id)


class CallbackTaskCb(CallbackData, prefix="callback"):
    task_id: Id

    def command(self) -> Any:
        return c.OpenCallback(self.task_id)


class OwnerAnswer(str, Enum):
    solved = "solved"
    unsolved = "unsolved"


class OwnerAnswerCb(CallbackData, prefix="o"):
    """已解决 / 还有问题 under the completion message, in the owner's chat."""

    answer: OwnerAnswer
    ticket_id: Id

    def command(self) -> Any:
        return c.OwnerAnswer(self.ticket_id, self.answer is OwnerAnswer.solved)


class SurveyAnswerCb(CallbackData, prefix="s"):
    """A tap on a 回访 question (the survey flow's own token: s:<survey>:<question>:<value>)."""

    survey_id: Id
    question: str
    value: str

    @model_validator(mode="after")
    def _known(self) -> SurveyAnswerCb:
        # the flow's parser knows the questions and their answers: one place decides
        if parse_tap(f"{self.__prefix__}:{self.survey_id}:{self.question}:{self.value}") is None:
            raise ValueError("not a survey answer")
        return self


# the group's taps, in the order the router tries them
DESK_CALLBACKS: tuple[type[CallbackData], ...] = (
    TicketCb,
    DispatchCb,
    ProgressCb,
    CompleteNowCb,
    DelayCb,
    ReassignCb,
    EscalateCb,
    HandoffCb,
    CallbackTaskCb,
)


def pack(command: Any) -> str:
    """The callback data for a command a button stands for."""
    match command:
        case c.Dispatch(ticket_id=t, department=d, worker_id=w, minutes=m, version=v) if (
            d is not None
        ):
            return DispatchCb(ticket_id=t, department=d, worker_id=w, minutes=m, v=v).pack()
        case c.Progress(ticket_id=t, step=s, version=v) if s is not None:
            return ProgressCb(ticket_id=t, step=s, v=v).pack()
        case c.Reassign(ticket_id=t, to_agent_id=a, version=v) if a is not None:
            return ReassignCb(ticket_id=t, agent_id=a, v=v).pack()
        case c.Complete(ticket_id=t, note="", version=v):
            return CompleteNowCb(ticket_id=t, v=v).pack()
        case c.Delay(ticket_id=t, minutes=m, version=v):
            return DelayCb(ticket_id=t, minutes=m, v=v).pack()
        case c.EscalateReason(ticket_id=t, index=i, version=v):
            return EscalateCb(ticket_id=t, reason=i, v=v).pack()
        case c.ClaimHandoff(handoff_id=h):
            return HandoffCb(action=HandoffAction.claim, handoff_id=h).pack()
        case c.ReleaseHandoff(handoff_id=h):
            return HandoffCb(action=HandoffAction.release, handoff_id=h).pack()
        case c.OpenCallback(task_id=t):
            return CallbackTaskCb(task_id=t).pack()
        case c.OwnerAnswer(ticket_id=t, solved=s):
            answer = OwnerAnswer.solved if s else OwnerAnswer.unsolved
            return OwnerAnswerCb(answer=answer, ticket_id=t).pack()
    for action, cls in TICKET_COMMANDS.items():
        if type(command) is cls:
            v = getattr(command, "version", None)
            return TicketCb(action=action, ticket_id=command.ticket_id, v=v).pack()
    raise ValueError(f"no button for {command!r}")


def _lenient_unpack(cls, value: str):
    """Data drawn before buttons carried the card's version (d:take:<id>) still unpacks: the
    missing version is simply not checked."""
    if value.count(cls.__separator__) == len(cls.model_fields) - 1:
        value += cls.__separator__
    return CallbackData.unpack.__func__(cls, value)


for _cb in (TicketCb, DispatchCb, ProgressCb, CompleteNowCb, DelayCb, ReassignCb, EscalateCb):
    _cb.unpack = classmethod(_lenient_unpack)
