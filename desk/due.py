"""What a due follow-up does to its ticket (DOMAIN.md 时限 and 回访): an SLA reminder at 80%, an
alert when a promise is missed (the way out offered on it), a call-back task that ran late, a
phone 回访 for an owner the bot cannot reach. Pure: the scheduler claims the row, builds the
case, and carries out the effects in the row's own transaction."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from . import commands as c
from .casework import Rules, card_buttons, delay_buttons
from .effects import (
    Button,
    CallbackTaskOpened,
    CardChanged,
    Effect,
    MarkedEscalated,
    Noted,
    ToAgents,
    ToSupervisors,
)
from .model import Case, Staff
from .sla import OPEN, stage_due


class Paused(Exception):
    """The SLA clock is stopped (等待配件): the row is looked at again later."""

    retry_after = timedelta(minutes=30)


def sla_warn(case: Case, data: dict[str, Any], staff: Staff, r: Rules) -> list[Effect]:
    found = _stage(case, data, r)
    if found is None:
        return []
    stage, deadline = found
    ctx = {
        "number": case.number,
        "handler": case.handler_name,
        "deadline": deadline,
        "stage": stage,
    }
    return [ToAgents("agent_sla_warn", ctx)]


def sla_overdue(case: Case, data: dict[str, Any], staff: Staff, r: Rules) -> list[Effect]:
    found = _stage(case, data, r)
    if found is None:
        return []
    stage, deadline = found
    ctx = {
        "number": case.number,
        "handler": case.handler_name,
        "deadline": deadline,
        "stage": stage,
        "supervisors": staff.supervisor_names,
    }
    # nobody took it: the way out is to take it now; otherwise a new time for the owner
    rows = (
        card_buttons(case, r.policy)[:1] if case.status == "new" else delay_buttons(case, r.policy)
    )
    return [
        MarkedEscalated(),
        Noted("overdue", note=stage),
        ToAgents("agent_sla_overdue", ctx, buttons=rows),
        ToSupervisors("agent_sla_overdue", ctx),
        CardChanged(),
    ]


def task_overdue(case: Case, task_id: int, staff: Staff) -> list[Effect]:
    ctx = {
        "number": case.number,
        "handler": case.handler_name,
        "supervisors": staff.supervisor_names,
    }
    return [
        ToAgents(
            "agent_task_overdue",
            ctx,
            buttons=((Button("agent_btn_task_result", c.OpenCallback(task_id)),),),
        ),
        ToSupervisors("agent_task_overdue", ctx),
    ]


def phone_survey(case: Case, kind: str, r: Rules) -> list[Effect]:
    """An owner the bot cannot reach (blocked, or on no chat channel) gets a phone 回访."""
    return [
        CallbackTaskOpened(
            "phone_survey",
            r.now + timedelta(days=1),
            case.handler_id,
            "agent_phone_survey",
            {
                "number": case.number,
                "handler": case.handler_name,
                "phone": case.contact_phone,
                "unit_label": case.unit_label,
                "kind": kind,
            },
        )
    ]


def _stage(case: Case, data: dict[str, Any], r: Rules):
    if case.status in OPEN and case.sla_paused_since is not None:
        raise Paused
    return stage_due(case, r.policy, data)
