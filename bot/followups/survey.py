"""The 回访 survey from the desk's side. The questions, the skip rule, the optional comment and
the mood are a dialog flow (dialogs/flows/survey.py) the engine runs on the owner's
conversation; here a survey is started or reminded (an event raised on that conversation), a
tap on its buttons is passed on, and what a finished survey causes is carried out: thanks and
the ticket closed, or, for a score of 2 or less or 否, the 差评回访 (the ticket reopened, a
call-back task for its handler, the supervisors told, the owner told exactly when they will
hear)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from desk.commands import OpenCallback
from dialogs.events import Inbound, SurveyAnswered, SurveyStart
from dialogs.flows.survey import parse_tap
from storage.models import Survey, Ticket
from storage.uow import UnitOfWork

from ..desk import cards
from ..desk.callbacks import pack
from ..desk.context import Desk
from ..owner_events import raise_event


async def ask(
    desk: Desk, uow: UnitOfWork, sv: Survey, t: Ticket, *, reminder: bool = False
) -> None:
    """The survey's current question, to the owner's conversation."""
    ev = Inbound("survey_start", detail=SurveyStart(sv.id, reminder=reminder))
    await raise_event(desk, uow, sv.account_id, ev, ticket_id=t.id)


async def start(desk: Desk, uow: UnitOfWork, t: Ticket, account_id: int, kind: str) -> Survey:
    sv = await uow.followups.new_survey(
        ticket_id=t.id,
        account_id=account_id,
        kind=kind,
        handler_agent_id=t.handler_agent_id,
        handler_name=t.handler_name,
        state="open",
        step="overall",
        sent_at=desk.clock.now(),
    )
    await ask(desk, uow, sv, t)
    fp = desk.policy.followups
    await uow.followups.add(
        "survey_reminder",
        desk.clock.now() + timedelta(hours=fp.reminder_hours),
        desk.clock.now(),
        ticket_id=t.id,
        account_id=account_id,
        data={"survey_id": sv.id},
    )
    return sv


async def handle_tap(desk: Desk, uow: UnitOfWork, account_id: int, data: str) -> str | None:
    """s:<survey>:<step>:<value>, judged by the survey flow against the stored survey: the
    alert's text when it changes nothing (an old button, a double tap), else None."""
    tap = parse_tap(data)
    sv = await uow.followups.survey(tap.survey_id) if tap is not None else None
    if tap is None or sv is None:
        return desk.texts.render("survey_stale")
    ev = Inbound("survey_answer", detail=tap)
    result = await raise_event(desk, uow, account_id, ev, ticket_id=sv.ticket_id)
    if result is None or result.alert:
        return desk.texts.render(result.alert if result else "survey_stale")
    return None


async def on_answered(desk: Desk, uow: UnitOfWork, e: SurveyAnswered) -> None:
    """A finished survey (stored as answered by the flow): closed with thanks, or 差评回访."""
    sv = await uow.followups.survey(e.survey_id)
    t = await uow.cases.ticket(e.ticket_id)
    if sv is None or t is None:
        return
    now = desk.clock.now()
    await uow.followups.cancel(t.id, ("survey_reminder", "survey_expire"))
    uow.cases.event(
        t,
        now,
        "owner",
        sv.account_id,
        "survey",
        None,
        None,
        f"{e.overall}/{e.speed}/{e.attitude} {e.mood}",
    )
    if not e.bad:
        if t.status == "done":
            await uow.cases.move(t, "closed", now, "system", None, "close")
            await cards.refresh_card(desk, uow, t)
        await desk.to_owner(uow, sv.account_id, "survey_thanks", {"number": t.number})
        return
    await bad_review(desk, uow, sv, t)


async def bad_review(desk: Desk, uow: UnitOfWork, sv: Survey, t: Ticket) -> None:
    """差评回访: reopen to the handler, who must call within the policy's time (问题 → 改进 → 反馈)."""
    now = desk.clock.now()
    fp = desk.policy.followups
    if t.status in ("done", "closed"):
        t.closed_at = None
        await uow.cases.move(
            t,
            "in_progress",
            now,
            "system",
            None,
            "reopen",
            desk.texts.button("event_note_survey_unhappy"),
        )
    due = now + timedelta(minutes=fp.callback_minutes)
    task = await uow.followups.new_task("bad_review_callback", t.id, t.handler_agent_id, due, now)
    await uow.followups.add(
        "task_deadline", due, now, ticket_id=t.id, urgent=True, data={"task_id": task.id}
    )
    await cards.refresh_card(desk, uow, t)
    ctx: dict[str, Any] = {
        "number": t.number,
        "handler": t.handler_name,
        "due": due,
        "sv": sv,
        "mood_word": desk.texts.button(f"mood_{sv.mood}"),
        "supervisors": [s.name for s in await uow.staff.supervisors()],
    }
    await desk.to_agents(
        uow,
        "agent_bad_review",
        ctx,
        ticket_id=t.id,
        rows=[[("agent_btn_task_result", pack(OpenCallback(task.id)))]],
    )
    await desk.to_supervisors(uow, "agent_bad_review", ctx, ticket_id=t.id)
    await desk.to_owner(
        uow,
        sv.account_id,
        "survey_bad_followup",
        {"number": t.number, "handler": t.handler_name, "due": due},
    )
