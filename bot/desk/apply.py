"""The one writer of casework effects: each typed effect becomes rows (the ticket, its history,
work orders, follow-ups, tasks) and rendered outbox messages, all in the caller's transaction.
Nothing is sent here; the sender delivers after commit."""

from __future__ import annotations

from typing import Any

from desk import effects as fx
from desk import merge
from desk.sla import SLA_KINDS
from storage.models import ReplyHold, Ticket
from storage.stage_book import StepRules, completion_deadline
from storage.uow import UnitOfWork

from . import cards
from .buttons import stamped, worded
from .context import PRIORITY_PROMPT, PRIORITY_RELAY, Desk, owner_accounts

# effects that change the ticket itself (messages and follow-ups alone do not)
TICKET_CHANGES = (
    fx.Moved,
    fx.Noted,
    fx.HandlerSet,
    fx.MarkedEscalated,
    fx.MarkedCompleted,
    fx.MarkedOwnerConfirmed,
    fx.ArrivalPromised,
    fx.SlaPaused,
    fx.SlaResumed,
    fx.WorkOrdered,
    fx.Reopened,
    fx.FollowUpScheduled,
    merge.MarkedMerged,
    merge.SubscriberDropped,
)


def history_note(desk: Desk, e: fx.Moved) -> str:
    note = desk.texts.button(e.note.key) if isinstance(e.note, fx.Label) else e.note
    if e.note_time is None:
        return note
    when = desk.texts.env.filters["when"](e.note_time, desk.clock.now())
    if e.note_time_only:
        return when
    return f"{note} " + desk.texts.button("time_before", when=when)


async def apply(desk: Desk, uow: UnitOfWork, t: Ticket | None, effects: list[Any]) -> None:
    """Carry out a decision's effects, in order, on ticket `t` (None: effects need none)."""
    now = desk.clock.now()
    if t is not None and any(isinstance(e, TICKET_CHANGES) for e in effects):
        t.version = (t.version or 0) + 1  # buttons drawn before this change are now stale
        if not any(isinstance(e, fx.CardChanged) for e in effects):
            # the card's own buttons must carry the new version too
            effects = [*effects, fx.CardChanged()]
    for e in effects:
        match e:
            case fx.Moved():
                await uow.cases.move(
                    t,
                    e.to_status,
                    now,
                    e.actor.kind,
                    e.actor.id,
                    e.action,
                    history_note(desk, e),
                    StepRules.of(desk.policy),
                )
            case fx.Noted():
                await uow.cases.event(
                    t, now, e.actor.kind, e.actor.id, e.action, None, None, e.note
                )
            case fx.Reopened():
                t.closed_at = None
            case fx.HandlerSet():
                t.handler_agent_id, t.handler_name = e.agent_id, e.name
            case fx.MarkedEscalated():
                t.escalated = True
            case fx.MarkedCompleted():
                t.completed_at = e.at
            case fx.MarkedOwnerConfirmed():
                t.owner_confirmed = True  # the survey will not ask again whether it is solved
            case fx.ArrivalPromised():
                t.promised_arrive_by = e.at
            case fx.SlaPaused():
                t.sla_paused_since = e.since
            case fx.SlaResumed():
                await uow.followups.shift(t.id, SLA_KINDS, e.stood)
                if t.promised_arrive_by:
                    t.promised_arrive_by += e.stood
                if t.promised_complete_by:
                    t.promised_complete_by += e.stood
                t.sla_paused_since = None
            case fx.SlaCleared():
                t.sla_paused_since = None
            case fx.WorkOrdered():
                await uow.cases.add_work_order(
                    t, e.department, e.worker_id, e.due, now, e.by_agent_id
                )
            case fx.FollowUpScheduled():
                if completion_deadline(e.kind, e.data) and t is not None:
                    t.promised_complete_by = e.at  # a 延期 re-plans completion with arrival
                await uow.followups.add(
                    e.kind,
                    e.at,
                    now,
                    ticket_id=t.id,
                    account_id=t.reporter_account_id if e.to_reporter else None,
                    urgent=e.urgent,
                    data=dict(e.data),
                )
            case fx.FollowUpsCancelled():
                await uow.followups.cancel(t.id, e.kinds)
            case fx.CallbackTaskOpened():
                await _open_task(desk, uow, t, e)
            case fx.TaskDone():
                task = await uow.followups.task(e.task_id)
                task.state, task.result, task.done_at, task.agent_id = (
                    "done",
                    e.text,
                    now,
                    e.agent_id,
                )
            case fx.CardChanged():
                await cards.refresh_card(desk, uow, t)
            case fx.ToOwner():
                # the ticket's news goes to every owner who reported it (one fault, one ticket)
                to = [e.account_id] if e.account_id is not None else await owner_accounts(uow, t)
                for account_id in to:
                    await desk.to_owner(
                        uow,
                        account_id,
                        e.template,
                        _public_place(t, worded(desk, e.context)),
                        buttons=stamped(e.buttons, t),
                        ticket_id=t.id if (t is not None and e.about_ticket) else None,
                    )
            case fx.ToAgents():
                await desk.to_agents(
                    uow,
                    e.template,
                    worded(desk, e.context),
                    buttons=stamped(e.buttons, t),
                    purpose="prompt" if e.prompt else "alert",
                    priority=PRIORITY_RELAY if e.relay else PRIORITY_PROMPT,
                    ref=_prompt_ref(t, e.prompt) if e.prompt else None,
                    ticket_id=t.id if t is not None else None,
                )
            case fx.ToSupervisors():
                await desk.to_supervisors(
                    uow, e.template, worded(desk, e.context), ticket_id=t.id if t else None
                )
            case fx.SurveyOpened():
                from ..followups import survey

                await survey.start(desk, uow, t, e.account_id, e.kind, remind_at=e.remind_at)
            case fx.SurveyAsked():
                await _ask_again(desk, uow, t, e)
            case fx.SurveyUnanswered():
                sv = await uow.followups.survey(e.survey_id)
                sv.state = "no_answer"
            case fx.HandoffNudged():
                h = await uow.handoffs.handoff(e.handoff_id)
                h.nudged_at = now
            case fx.OwnerUnreachable():
                acc = await uow.accounts.account(e.account_id)
                acc.unreachable = True
            case fx.HumanStarted():
                from . import relay

                await relay.start_human(desk, uow, e.agent, e.account_id, ticket=t)
            case merge.ReportersMoved():
                into = await uow.cases.ticket(e.into)
                for r in e.reporters:
                    await uow.cases.add_subscriber(into, r.account_id, r.owner_id, now)
                for sub in await uow.cases.subscribers(t.id):
                    await uow.cases.drop_subscriber(t.id, sub.account_id)
            case merge.MarkedMerged():
                t.merged_into = e.into
            case merge.SubscriberDropped():
                await uow.cases.drop_subscriber(t.id, e.account_id)
            case fx.ReplyHeld():
                uow.session.add(
                    ReplyHold(
                        agent_id=e.agent_id,
                        ticket_id=t.id if t is not None else None,
                        account_id=e.account_id,
                        phrases="、".join(e.phrases)[:200],
                        at=now,
                    )
                )
            case _:
                raise TypeError(f"no writer for {e!r}")


def _public_place(t: Ticket | None, ctx: dict[str, Any]) -> dict[str, Any]:
    """A public fault is where its owners meet it, not the reporter's home: every owner of the
    ticket hears the same place, and nobody hears another owner's unit."""
    if t is not None and (t.details or {}).get("place") == "public" and "unit_label" in ctx:
        return {**ctx, "unit_label": t.location}
    return ctx


def _prompt_ref(t: Ticket | None, prompt: fx.Prompt) -> dict[str, Any]:
    """Stored with the prompt message: a reply to it is read as this input for this ticket."""
    ref: dict[str, Any] = {"ticket_id": t.id if t else None, "action": prompt.action}
    if prompt.task_id is not None:
        ref["task_id"] = prompt.task_id
    return ref


async def _open_task(desk: Desk, uow: UnitOfWork, t: Ticket, e: fx.CallbackTaskOpened) -> None:
    from desk.commands import OpenCallback

    now = desk.clock.now()
    task = await uow.followups.new_task(e.kind, t.id, e.agent_id, e.due, now)
    if e.watch:
        await uow.followups.add(
            "task_deadline", e.due, now, ticket_id=t.id, urgent=True, data={"task_id": task.id}
        )
    button = fx.Button("agent_btn_task_result", OpenCallback(task.id))
    await desk.to_agents(
        uow,
        e.template,
        worded(desk, e.context),
        ticket_id=t.id,
        buttons=((button,),),
    )
    if e.supervisors:
        await desk.to_supervisors(uow, e.template, worded(desk, e.context), ticket_id=t.id)


async def _ask_again(desk: Desk, uow: UnitOfWork, t: Ticket, e: fx.SurveyAsked) -> None:
    from ..followups import survey

    sv = await uow.followups.survey(e.survey_id)
    now = desk.clock.now()
    sv.reminded_at = now
    await survey.ask(desk, uow, sv, t, reminder=True)
    await uow.followups.add(
        "survey_expire",
        e.expire_at,
        now,
        ticket_id=t.id,
        account_id=sv.account_id,
        data={"survey_id": sv.id},
    )
