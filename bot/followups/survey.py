"""The 回访 survey inside the chat, answered with buttons: overall, 响应速度, 服务态度 (1–5 with
words), 问题是否已解决 (skipped when the owner already said 已解决), an optional comment; the mood
follows from scores and words. A score of 2 or less, or 否, reopens the ticket and opens a 差评回访
task for its handler, with the supervisors told and the owner told exactly when they will hear."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from storage.models import Survey, Ticket
from storage.uow import UnitOfWork

from ..desk import cards
from ..desk.context import Desk

SCORE_STEPS = ("overall", "speed", "attitude")
ORDER = ("overall", "speed", "attitude", "solved", "comment")


def _next_step(sv: Survey, t: Ticket) -> str:
    i = ORDER.index(sv.step) + 1
    while i < len(ORDER):
        step = ORDER[i]
        if step == "solved" and t.owner_confirmed:
            sv.solved = True  # the owner answered 已解决 on the completion message
            i += 1
            continue
        return step
    return "done"


def question_rows(sv: Survey) -> list[list[tuple[str, str]]]:
    if sv.step in SCORE_STEPS:
        return [[(f"survey_score_{v}", f"s:{sv.id}:{sv.step}:{v}")] for v in (5, 4, 3, 2, 1)]
    if sv.step == "solved":
        return [[("survey_yes", f"s:{sv.id}:solved:1"), ("survey_no", f"s:{sv.id}:solved:0")]]
    if sv.step == "comment":
        return [[("survey_skip", f"s:{sv.id}:comment:skip")]]
    return []


async def ask(
    desk: Desk, uow: UnitOfWork, sv: Survey, t: Ticket, *, reminder: bool = False
) -> None:
    if sv.step == "comment":
        conv = await uow.desk.conversation(sv.account_id)
        if conv is not None and (conv.state or {}).get("flow") not in (None, "menu", "start"):
            # the owner is in the middle of a dialog: their next words belong to it, so the
            # optional comment is not asked for now
            sv.step = "done"
            await finish(desk, uow, sv, t)
            return
    ctx = {
        "number": t.number,
        "step": sv.step,
        "kind": sv.kind,
        "reminder": reminder,
        "first": sv.step == "overall" and not reminder,
        "handler": sv.handler_name,
    }
    await desk.to_owner(
        uow, sv.account_id, "survey_question", ctx, rows=question_rows(sv), ticket_id=t.id
    )
    if sv.step == "comment":
        conv = await uow.desk.conversation(sv.account_id)
        if conv is not None:
            state = dict(conv.state or {})
            state["survey_comment"] = sv.id
            uow.desk.save_state(conv, state, desk.clock.now())


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
    """s:<survey>:<step>:<value>. Only this owner's open survey, only at its current step: a
    double tap or an old button changes nothing."""
    try:
        _, sid, step, value = data.split(":", 3)
        sv = await uow.followups.survey(int(sid))
    except ValueError:
        sv = None
    if sv is None or sv.account_id != account_id or sv.state != "open" or sv.step != step:
        return desk.texts.render("survey_stale")
    t = await uow.desk.ticket(sv.ticket_id)
    if step in SCORE_STEPS:
        if value not in ("1", "2", "3", "4", "5"):
            return desk.texts.render("survey_stale")
        setattr(sv, step, int(value))
    elif step == "solved":
        sv.solved = value == "1"
    elif step == "comment" and value == "skip":
        await _clear_comment_wait(desk, uow, account_id)
    await _advance(desk, uow, sv, t)
    return None


async def comment(desk: Desk, uow: UnitOfWork, account_id: int, survey_id: int, text: str) -> None:
    sv = await uow.followups.survey(survey_id)
    if sv is None or sv.account_id != account_id or sv.state != "open" or sv.step != "comment":
        return
    sv.comment = text[:2000]
    await _advance(desk, uow, sv, await uow.desk.ticket(sv.ticket_id))


async def _clear_comment_wait(desk: Desk, uow: UnitOfWork, account_id: int) -> None:
    conv = await uow.desk.conversation(account_id)
    if conv is not None and (conv.state or {}).get("survey_comment"):
        state = dict(conv.state)
        state.pop("survey_comment", None)
        uow.desk.save_state(conv, state, desk.clock.now())


async def _advance(desk: Desk, uow: UnitOfWork, sv: Survey, t: Ticket) -> None:
    sv.step = _next_step(sv, t)
    if sv.step != "done":
        await ask(desk, uow, sv, t)
        return
    await finish(desk, uow, sv, t)


def mood(sv: Survey, angry_words: list[str]) -> str:
    scores = [v for v in (sv.overall, sv.speed, sv.attitude) if v is not None]
    if (
        sv.solved is False
        or any(v <= 2 for v in scores)
        or any(w in sv.comment for w in angry_words)
    ):
        return "unhappy"
    if scores and sum(scores) / len(scores) >= 4:
        return "happy"
    return "neutral"


async def finish(desk: Desk, uow: UnitOfWork, sv: Survey, t: Ticket) -> None:
    now = desk.clock.now()
    sv.state, sv.answered_at = "answered", now
    sv.mood = mood(sv, desk.engine.cues.get("angry", []))
    await uow.followups.cancel(t.id, ("survey_reminder", "survey_expire"))
    bad = sv.solved is False or any(
        v is not None and v <= 2 for v in (sv.overall, sv.speed, sv.attitude)
    )
    uow.desk.event(
        t,
        now,
        "owner",
        sv.account_id,
        "survey",
        None,
        None,
        f"{sv.overall}/{sv.speed}/{sv.attitude} {sv.mood}",
    )
    if not bad:
        if t.status == "done":
            await uow.desk.move(t, "closed", now, "system", None, "close")
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
        await uow.desk.move(
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
        "supervisors": [s.name for s in await uow.desk.supervisors()],
    }
    await desk.to_agents(
        uow,
        "agent_bad_review",
        ctx,
        ticket_id=t.id,
        rows=[[("agent_btn_task_result", f"d:task:{task.id}")]],
    )
    await desk.to_supervisors(uow, "agent_bad_review", ctx, ticket_id=t.id)
    await desk.to_owner(
        uow,
        sv.account_id,
        "survey_bad_followup",
        {"number": t.number, "handler": t.handler_name, "due": due},
    )
