"""Each agent's command decided as a pure function of (command, actor, the ticket as it is, the
staff, the policy, now): the effects to carry out, or a Refusal with its reason. The ticket is
re-read in the caller's transaction first, so a stale button is judged on today's state."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo
from typing import Any

from dialogs.policy import Policy
from dialogs.polite import check as polite_check
from dialogs.typography import fix_punctuation

from . import commands as c
from . import sla
from .effects import (
    Button,
    CardChanged,
    Effect,
    FollowUpsCancelled,
    FollowUpScheduled,
    HandlerSet,
    HumanStarted,
    Label,
    MarkedEscalated,
    MarkedOwnerConfirmed,
    Moved,
    Noted,
    Prompt,
    Refusal,
    ReplyHeld,
    ToAgents,
    ToOwner,
    ToSupervisors,
    WorkOrdered,
)
from .machine import decide as machine_decide
from .model import Actor, Case, Staff


@dataclass(frozen=True, slots=True)
class Rules:
    """The policy and the moment a decision is made in (local time for the calendar)."""

    policy: Policy
    now: datetime
    tz: tzinfo

    @property
    def local(self) -> datetime:
        return self.now.astimezone(self.tz)


def allowed(case: Case, action: str, actor: Actor) -> str:
    """The status the action leads to, or a Refusal (首问责任制, DOMAIN.md)."""
    v = machine_decide(
        action,
        case.status,
        handler_id=case.handler_id,
        actor_id=actor.id,
        actor_role=actor.role if actor.kind == "agent" else actor.kind,
    )
    if not v.ok:
        raise Refusal(v.reason, handler=case.handler_name)
    return v.to_status or case.status


def pairs(rows: list[tuple[Button, ...]]) -> tuple[tuple[Button, ...], ...]:
    """Pickers two buttons a row: long lists stay readable on a phone."""
    flat = [b for row in rows for b in row]
    return tuple(tuple(flat[i : i + 2]) for i in range(0, len(flat), 2))


def pick(options: list[Any] | tuple[Any, ...], i: int) -> Any:
    if not 0 <= i < len(options):
        raise Refusal("stale")
    return options[i]


def card_buttons(case: Case, policy: Policy) -> tuple[tuple[Button, ...], ...]:
    """The buttons a ticket's card offers in its state."""
    t = case.id
    if case.status == "new":
        first = (
            Button("agent_btn_grab", c.Grab(t))
            if case.urgent and policy.grab_urgent
            else Button("agent_btn_take", c.Take(t))
        )
        return ((first, Button("agent_btn_takeover", c.Takeover(t))),)
    if case.status in sla.OPEN:
        return (
            (
                Button("agent_btn_dispatch", c.Dispatch(t)),
                Button("agent_btn_progress", c.Progress(t)),
                Button("agent_btn_complete", c.Complete(t)),
            ),
            (
                Button("agent_btn_escalate", c.Escalate(t)),
                Button("agent_btn_takeover", c.Takeover(t)),
                Button("agent_btn_reassign", c.Reassign(t)),
            ),
        )
    if case.status == "done":
        return (
            (
                Button("agent_btn_takeover", c.Takeover(t)),
                Button("agent_btn_resurvey", c.ResendSurvey(t)),
            ),
        )
    if case.status == "closed":
        return ((Button("agent_btn_resurvey", c.ResendSurvey(t)),),)
    return ()


def delay_buttons(case: Case, policy: Policy) -> tuple[tuple[Button, ...], ...]:
    """延期 choices: the handler sets the new time (also offered when a ticket is overdue)."""
    return (
        tuple(
            Button("agent_btn_delay", c.Delay(case.id, m), params=(("m", str(m // 60)),))
            for m in policy.delay_choices
        ),
    )


def owner_told(template: str, case: Case, **ctx: Any) -> ToOwner:
    return ToOwner(template, {"number": case.number, **ctx})


# --- taking a ticket ------------------------------------------------------------------------------
def take(cmd: c.Take | c.Grab, actor: Actor, case: Case, staff: Staff, r: Rules) -> list[Effect]:
    action = "grab" if isinstance(cmd, c.Grab) else "take"
    to = allowed(case, action, actor)
    return [
        HandlerSet(actor.id, actor.name),
        Moved(action, to, actor),
        CardChanged(),
        owner_told("owner_ticket_taken", case, agent=actor.name),
    ]


def worker_grab(actor: Actor, case: Case, staff: Staff, r: Rules) -> list[Effect]:
    """抢单 by a worker: the first tap wins; the ticket is dispatched to them at once."""
    worker = staff.worker(actor.id or 0)
    if worker is None:
        raise Refusal("not_roster")
    if case.status != "new" or not (case.urgent and r.policy.grab_urgent):
        raise Refusal(
            "already_taken" if case.status != "new" else "stale", handler=case.handler_name
        )
    due = case.promised_arrive_by or r.now + timedelta(minutes=30)
    return [
        WorkOrdered(worker.department, worker.id, due, None),
        Moved("grab", "dispatched", actor, note=worker.name),
        CardChanged(),
        owner_told(
            "owner_dispatched",
            case,
            department=worker.department,
            worker=worker.name,
            due=due,
            phone=worker.phone,
        ),
    ]


def reassign(cmd: c.Reassign, actor: Actor, case: Case, staff: Staff, r: Rules) -> list[Effect]:
    allowed(case, "reassign", actor)
    if cmd.to_agent_id is None:
        rows = [(Button(a.name, c.Reassign(case.id, a.id), literal=True),) for a in staff.agents]
        return [
            ToAgents(
                "agent_done",
                {"number": case.number, "what": Label("reassign_to"), "agent": actor.name},
                buttons=tuple(rows),
            )
        ]
    new = staff.agent(cmd.to_agent_id)
    if new is None:
        raise Refusal("stale")
    return [
        HandlerSet(new.id, new.name),
        Moved("reassign", case.status, actor, note=new.name),
        CardChanged(),
    ]


# --- dispatch -------------------------------------------------------------------------------------
def dispatch(cmd: c.Dispatch, actor: Actor, case: Case, staff: Staff, r: Rules) -> list[Effect]:
    to = allowed(case, "dispatch", actor)
    p = r.policy
    if cmd.department is None:
        rows = [
            (Button(d, c.Dispatch(case.id, i), literal=True),) for i, d in enumerate(p.departments)
        ]
        return [ToAgents("agent_choose_department", {"number": case.number}, pairs(rows))]
    dept = pick(p.departments, cmd.department)
    if cmd.worker_id is None:
        workers = staff.workers_in(dept)
        rows = [
            (Button(w.name, c.Dispatch(case.id, cmd.department, w.id), literal=True),)
            for w in workers
        ]
        rows.append((Button("agent_btn_no_worker", c.Dispatch(case.id, cmd.department, 0)),))
        ctx = {"number": case.number, "department": dept, "workers": bool(workers)}
        return [ToAgents("agent_choose_worker", ctx, pairs(rows))]
    worker = None
    if cmd.worker_id:
        worker = staff.worker(cmd.worker_id)
        if worker is None or worker.department != dept:
            raise Refusal("no_worker")
    if cmd.minutes is None:
        rows = [
            (
                Button(
                    "agent_btn_eta",
                    c.Dispatch(case.id, cmd.department, cmd.worker_id, m),
                    params=(("m", m),),
                ),
            )
            for m in p.eta_choices
        ]
        ctx = {"number": case.number, "department": dept, "worker": worker.name if worker else ""}
        return [ToAgents("agent_choose_eta", ctx, pairs(rows))]
    if cmd.minutes not in p.eta_choices:
        raise Refusal("stale")
    due = r.now + timedelta(minutes=cmd.minutes)
    name = worker.name if worker else ""
    return [
        *sla.resume(case, r.now),
        WorkOrdered(dept, worker.id if worker else None, due, actor.id),
        Moved("dispatch", to, actor, note=f"{dept}{name}", note_time=due),
        CardChanged(),
        owner_told(
            "owner_dispatched",
            case,
            department=dept,
            worker=name,
            due=due,
            phone=worker.phone if worker else "",
        ),
    ]


# --- progress, delay, notes ---------------------------------------------------------------------
def progress(cmd: c.Progress, actor: Actor, case: Case, staff: Staff, r: Rules) -> list[Effect]:
    to = allowed(case, "progress", actor)
    p = r.policy
    if cmd.step is None:
        rows = [
            (Button(step, c.Progress(case.id, i), literal=True),)
            for i, step in enumerate(p.progress_steps)
        ]
        return [ToAgents("agent_choose_progress", {"number": case.number}, pairs(rows))]
    step = pick(p.progress_steps, cmd.step)
    if step == p.delay_step:
        return [ToAgents("agent_choose_delay", {"number": case.number}, delay_buttons(case, p))]
    paused = step in p.pause_steps
    return [
        *(sla.pause(case, r.now) if paused else sla.resume(case, r.now)),
        Moved("progress", to, actor, note=step),
        CardChanged(),
        owner_told(
            "owner_progress",
            case,
            step=step,
            due=case.work_due,
            step_code="departed" if step == p.departed_step else "",
            unit_label=case.unit_label,
        ),
        ToAgents("agent_note_prompt", {"number": case.number, "what": step}, prompt=Prompt("note")),
    ]


def delay(cmd: c.Delay, actor: Actor, case: Case, staff: Staff, r: Rules) -> list[Effect]:
    """延期: the handler sets a new time; the owner hears an apology and that time."""
    to = allowed(case, "progress", actor)
    if cmd.minutes not in r.policy.delay_choices:
        raise Refusal("stale")
    new_time = r.now + timedelta(minutes=cmd.minutes)
    return [
        *sla.replan(case, r.policy, r.now, new_time),
        Moved("delay", to, actor, note_time=new_time, note_time_only=True),
        CardChanged(),
        owner_told("owner_delayed", case, new_time=new_time),
    ]


def held(text: str, actor: Actor) -> list[Effect] | None:
    """An agent's words for the owner pass the polite-language checker (服务禁言) or are held,
    and the agent is told why (the hold recorded for the report); the ticket does not move."""
    findings = polite_check(text)
    if not findings:
        return None
    return [
        ReplyHeld(actor.id, tuple(f.phrase for f in findings)),
        ToAgents("agent_reply_held", {"issues": findings}),
    ]


def add_note(cmd: c.AddNote, actor: Actor, case: Case, staff: Staff, r: Rules) -> list[Effect]:
    # the owner reads it: full-width marks (GB/T 15834), then the 服务禁言 check
    cmd = c.AddNote(cmd.ticket_id, fix_punctuation(cmd.text))
    if (stop := held(cmd.text, actor)) is not None:
        return stop
    return [
        Noted("note", actor, note=cmd.text),
        owner_told("owner_note", case, note=cmd.text),
    ]


# --- completion -----------------------------------------------------------------------------------
def complete(cmd: c.Complete, actor: Actor, case: Case, staff: Staff, r: Rules) -> list[Effect]:
    to = allowed(case, "complete", actor)
    if cmd.note is None:
        return [
            ToAgents(
                "agent_complete_prompt",
                {"number": case.number},
                buttons=((Button("agent_btn_complete_now", c.Complete(case.id, "")),),),
                prompt=Prompt("complete"),
            )
        ]
    note = fix_punctuation(cmd.note)
    if (stop := held(note, actor)) is not None:
        return stop
    return [
        Moved("complete", to, actor, note=note),
        *sla.after_completion(case, r.policy, r.now, r.tz),
        CardChanged(),
        ToOwner(
            "owner_completed",
            {"number": case.number, "note": note, "agent": case.handler_name or actor.name},
            buttons=(
                (
                    Button("owner_btn_solved", c.OwnerAnswer(case.id, True)),
                    Button("owner_btn_unsolved", c.OwnerAnswer(case.id, False)),
                ),
            ),
        ),
    ]


def resend_survey(
    cmd: c.ResendSurvey, actor: Actor, case: Case, staff: Staff, r: Rules
) -> list[Effect]:
    allowed(case, "resend_survey", actor)
    return [
        FollowUpScheduled(
            "survey", r.now, urgent=True, data={"kind": "survey", "manual": True}, to_reporter=True
        ),
        ToAgents(
            "agent_done",
            {"number": case.number, "what": Label("agent_btn_resurvey"), "agent": actor.name},
        ),
    ]


# --- escalation -----------------------------------------------------------------------------------
def escalate(cmd: c.Escalate, actor: Actor, case: Case, staff: Staff, r: Rules) -> list[Effect]:
    """转主管: never "不归我们管"; the owner hears when the supervisor will answer."""
    allowed(case, "escalate", actor)
    p = r.policy
    if cmd.reason is None:
        rows = tuple(
            (Button(reason, c.EscalateReason(case.id, i), literal=True),)
            for i, reason in enumerate(p.escalation_reasons)
        )
        return [
            ToAgents(
                "agent_escalate_prompt",
                {"number": case.number},
                buttons=rows,
                prompt=Prompt("escalate"),
            )
        ]
    ctx = {
        "number": case.number,
        "agent": actor.name,
        "reason": cmd.reason,
        "supervisors": staff.supervisor_names,
        "hours": p.escalation_reply_hours,
    }
    return [
        MarkedEscalated(),
        Moved("escalate", case.status, actor, note=cmd.reason),
        CardChanged(),
        ToAgents(
            "agent_escalation_alert",
            ctx,
            buttons=((Button("agent_btn_takeover", c.Takeover(case.id)),),),
        ),
        ToSupervisors("agent_escalation_alert", ctx),
        owner_told(
            "owner_escalated", case, reply_by=r.now + timedelta(hours=p.escalation_reply_hours)
        ),
    ]


def escalate_reason(
    cmd: c.EscalateReason, actor: Actor, case: Case, staff: Staff, r: Rules
) -> list[Effect]:
    reason = pick(r.policy.escalation_reasons, cmd.index)
    return escalate(c.Escalate(case.id, reason), actor, case, staff, r)


def takeover(cmd: c.Takeover, actor: Actor, case: Case, staff: Staff, r: Rules) -> list[Effect]:
    allowed(case, "takeover", actor)
    return [HumanStarted(case.reporter_account_id, actor, ticket_id=case.id)]


# --- the owner's answer on the completion message ------------------------------------------------
def owner_answer(
    cmd: c.OwnerAnswer, actor: Actor, case: Case, staff: Staff, r: Rules
) -> list[Effect]:
    """已解决 closes; 还有问题 goes back to its handler (首问), who calls back within the
    bad-review time counted in working hours."""
    action = "close" if cmd.solved else "reopen"
    to = allowed(case, action, actor)
    if cmd.solved:
        return [
            Moved(action, to, actor),
            MarkedOwnerConfirmed(),
            CardChanged(),
            ToOwner("owner_closed_thanks", {"number": case.number}, about_ticket=False),
        ]
    reply_by = r.policy.add_working_minutes(r.local, r.policy.followups.callback_minutes)
    return [
        Moved(action, to, actor),
        FollowUpsCancelled(("survey",)),
        CardChanged(),
        ToOwner(
            "owner_reopened",
            {"number": case.number, "agent": case.handler_name, "reply_by": reply_by},
            about_ticket=False,
        ),
        ToAgents(
            "agent_done",
            {
                "number": case.number,
                "what": Label("event_reopen"),
                "agent": case.handler_name,
                "reply_by": reply_by,
            },
            buttons=(
                (
                    Button("agent_btn_progress", c.Progress(case.id)),
                    Button("agent_btn_takeover", c.Takeover(case.id)),
                ),
            ),
        ),
    ]


Decision = Callable[[Any, Actor, Case, Staff, Rules], list[Effect]]

DECISIONS: dict[type, Decision] = {
    c.Take: take,
    c.Grab: take,
    c.Reassign: reassign,
    c.Dispatch: dispatch,
    c.Progress: progress,
    c.Delay: delay,
    c.AddNote: add_note,
    c.Complete: complete,
    c.ResendSurvey: resend_survey,
    c.Escalate: escalate,
    c.EscalateReason: escalate_reason,
    c.Takeover: takeover,
    c.OwnerAnswer: owner_answer,
}


def handle(cmd: Any, actor: Actor, case: Case, staff: Staff, r: Rules) -> list[Effect]:
    """The effects of one command on one ticket, or a Refusal."""
    if actor.kind == "worker":
        if isinstance(cmd, c.Grab):
            return worker_grab(actor, case, staff, r)
        raise Refusal("not_roster")
    decision = DECISIONS.get(type(cmd))
    if decision is None:
        raise Refusal("stale")
    return decision(cmd, actor, case, staff, r)
