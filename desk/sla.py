"""SLA arithmetic on a ticket (DOMAIN.md 时限): the clock stops while the work waits on parts or
on the owner and moves every pending deadline by the time it stood still; a 延期 re-plans the
promises; completion ends the watch and schedules the 回访 by kind of work."""

from __future__ import annotations

from datetime import datetime

from dialogs.policy import Policy

from .effects import (
    ArrivalPromised,
    Effect,
    FollowUpsCancelled,
    FollowUpScheduled,
    MarkedCompleted,
    SlaCleared,
    SlaPaused,
    SlaResumed,
)
from .machine import OPEN
from .model import Case

# the follow-ups that watch a promise (cancelled when it is re-planned or kept for good)
SLA_KINDS = ("sla_warn", "sla_overdue")

__all__ = ["OPEN", "SLA_KINDS", "after_completion", "pause", "replan", "resume", "stage_due"]


def pause(case: Case, now: datetime) -> list[Effect]:
    return [] if case.sla_paused_since is not None else [SlaPaused(now)]


def resume(case: Case, now: datetime) -> list[Effect]:
    if case.sla_paused_since is None:
        return []
    return [SlaResumed(now - case.sla_paused_since)]


def replan(case: Case, policy: Policy, now: datetime, arrive_by: datetime) -> list[Effect]:
    """A new arrival time is watched, then completion after it (contact was kept: it is taken)."""
    return [
        ArrivalPromised(arrive_by),
        FollowUpsCancelled(SLA_KINDS),
        *(
            FollowUpScheduled(due.kind, due.at, urgent=True, data=due.data or {})
            for due in policy.followups.sla(
                kind=case.kind, urgent=True, local_created=now, contact_by=None, arrive_by=arrive_by
            )
        ),
    ]


def after_completion(case: Case, policy: Policy, now: datetime, tz) -> list[Effect]:
    """回访 by kind of work, in the completion's own transaction (DOMAIN.md)."""
    local_now = now.astimezone(tz)
    last = case.last_routine_survey
    return [
        MarkedCompleted(now),
        FollowUpsCancelled((*SLA_KINDS, "survey")),
        SlaCleared(),
        *(
            FollowUpScheduled(
                due.kind, due.at, urgent=due.urgent, data=due.data or {}, to_reporter=True
            )
            for due in policy.followups.after_completion(
                kind=case.kind,
                category=case.category,
                department=case.department,
                urgent=case.urgent,
                local_done=local_now,
                last_routine=last.astimezone(tz) if last else None,
            )
        ),
    ]


def stage_due(case: Case, policy: Policy, data: dict) -> tuple[str, datetime | None] | None:
    """The stage an SLA follow-up watches and its deadline, or None when its promise was kept
    (or the ticket is no longer open)."""
    if case.status not in OPEN:
        return None
    stage = data.get("stage") or ("arrive" if case.promised_arrive_by else "contact")
    if data.get("deadline"):
        deadline = datetime.fromisoformat(data["deadline"])
    else:
        deadline = case.promised_arrive_by if stage == "arrive" else case.promised_contact_by
    arrived = stage == "arrive" and any(s in policy.arrived_steps for s in case.progress_steps)
    if policy.followups.stage_met(stage, case.status, case.status != "new", arrived):
        return None
    return stage, deadline
