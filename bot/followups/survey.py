"""The 回访 survey from the desk's side. The questions, the skip rule, the optional comment and
the mood are a dialog flow (dialogs/flows/survey.py) the engine runs on the owner's
conversation; here a survey is started or reminded (an event raised on that conversation), a
tap on its buttons is passed on, and what a finished survey causes is carried out: thanks and
the ticket closed, or, for a score of 2 or less or 否, the 差评回访 (the ticket reopened, a
call-back task for its handler, the supervisors told, the owner told exactly when they will
hear)."""

from __future__ import annotations

from desk import surveys
from dialogs.events import Inbound, SurveyAnswered, SurveyStart
from dialogs.flows.survey import parse_tap
from storage.models import Survey, Ticket
from storage.uow import UnitOfWork

from ..desk.apply import apply
from ..desk.casefile import case_of, staff_of
from ..desk.context import Desk
from ..desk.service import rules
from ..owner_events import raise_event


async def ask(
    desk: Desk, uow: UnitOfWork, sv: Survey, t: Ticket, *, reminder: bool = False
) -> None:
    """The survey's current question, to the owner's conversation."""
    ev = Inbound("survey_start", detail=SurveyStart(sv.id, reminder=reminder))
    await raise_event(desk, uow, sv.account_id, ev, ticket_id=t.id)


async def start(
    desk: Desk, uow: UnitOfWork, t: Ticket, account_id: int, kind: str, *, remind_at
) -> Survey:
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
    await uow.followups.add(
        "survey_reminder",
        remind_at,
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
    """A finished survey (stored as answered by the flow): what it does to the ticket is the
    core's decision (desk/surveys.py), carried out by the one writer."""
    sv = await uow.followups.survey(e.survey_id)
    t = await uow.cases.ticket(e.ticket_id)
    if sv is None or t is None:
        return
    effects = surveys.answered(
        e, sv.account_id, await case_of(uow, t), await staff_of(uow), rules(desk)
    )
    await apply(desk, uow, t, effects)
