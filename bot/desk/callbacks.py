"""The desk's buttons as aiogram CallbackData: each kind of tap a class, packed and unpacked in
one place. The data only points (ticket, index); the server re-reads the ticket, the policy and
the roster before anything happens (desk/casework.py)."""

from __future__ import annotations

from enum import Enum
from typing import Any

from aiogram.filters.callback_data import CallbackData

from desk import commands as c


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
    ticket_id: int

    def command(self) -> Any:
        return TICKET_COMMANDS[self.action](self.ticket_id)


class DispatchCb(CallbackData, prefix="dispatch"):
    ticket_id: int
    department: int
    worker_id: int | None = None
    minutes: int | None = None

    def command(self) -> Any:
        return c.Dispatch(self.ticket_id, self.department, self.worker_id, self.minutes)


class ProgressCb(CallbackData, prefix="progress"):
    ticket_id: int
    step: int

    def command(self) -> Any:
        return c.Progress(self.ticket_id, self.step)


class CompleteNowCb(CallbackData, prefix="complete"):
    """完成 without a note (the prompt's button)."""

    ticket_id: int

    def command(self) -> Any:
        return c.Complete(self.ticket_id, "")


class DelayCb(CallbackData, prefix="delay"):
    ticket_id: int
    minutes: int

    def command(self) -> Any:
        return c.Delay(self.ticket_id, self.minutes)


class ReassignCb(CallbackData, prefix="reassign"):
    ticket_id: int
    agent_id: int

    def command(self) -> Any:
        return c.Reassign(self.ticket_id, self.agent_id)


class EscalateCb(CallbackData, prefix="escalate"):
    ticket_id: int
    reason: int

    def command(self) -> Any:
        return c.EscalateReason(self.ticket_id, self.reason)


class HandoffAction(str, Enum):
    claim = "claim"
    release = "release"


class HandoffCb(CallbackData, prefix="handoff"):
    action: HandoffAction
    handoff_id: int

    def command(self) -> Any:
        if self.action is HandoffAction.claim:
            return c.ClaimHandoff(self.handoff_id)
        return c.ReleaseHandoff(self.handoff_id)


class CallbackTaskCb(CallbackData, prefix="callback"):
    task_id: int

    def command(self) -> Any:
        return c.OpenCallback(self.task_id)


class OwnerAnswer(str, Enum):
    solved = "solved"
    unsolved = "unsolved"


class OwnerAnswerCb(CallbackData, prefix="o"):
    """已解决 / 还有问题 under the completion message, in the owner's chat."""

    answer: OwnerAnswer
    ticket_id: int

    def command(self) -> Any:
        return c.OwnerAnswer(self.ticket_id, self.answer is OwnerAnswer.solved)


class SurveyAnswerCb(CallbackData, prefix="s"):
    """A tap on a 回访 question (the survey flow's own token: s:<survey>:<question>:<value>)."""

    survey_id: int
    question: str
    value: str


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
        case c.Dispatch(ticket_id=t, department=d, worker_id=w, minutes=m) if d is not None:
            return DispatchCb(ticket_id=t, department=d, worker_id=w, minutes=m).pack()
        case c.Progress(ticket_id=t, step=s) if s is not None:
            return ProgressCb(ticket_id=t, step=s).pack()
        case c.Reassign(ticket_id=t, to_agent_id=a) if a is not None:
            return ReassignCb(ticket_id=t, agent_id=a).pack()
        case c.Complete(ticket_id=t, note=""):
            return CompleteNowCb(ticket_id=t).pack()
        case c.Delay(ticket_id=t, minutes=m):
            return DelayCb(ticket_id=t, minutes=m).pack()
        case c.EscalateReason(ticket_id=t, index=i):
            return EscalateCb(ticket_id=t, reason=i).pack()
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
            return TicketCb(action=action, ticket_id=command.ticket_id).pack()
    raise ValueError(f"no button for {command!r}")
