"""The 回访 survey inside the chat: overall, 响应速度, 服务态度 (1–5 with words), 问题是否已解决
(skipped when the owner already said 已解决), an optional comment; the mood follows from the
scores and the words.

The questions are standing buttons (each names its survey, question and answer, checked again
when pressed), so they work whatever the owner is doing. Only the optional comment becomes the
current step, and only when the owner is idle (at the menu, or not started): words typed in a
dialog under way belong to that dialog. Anything but words for the comment (a command, a button,
media) leaves it and the survey ends without one. What the answers cause on the desk (thanks and
close, or 差评回访) is the SurveyAnswered effect."""

from __future__ import annotations

from ..events import Inbound, SurveyAnswered, SurveyStart, SurveyTap
from ..ports import SurveyView
from ..session import Session
from ..state import SurveyWait
from ..steps import on_event, reprompt, step
from .emergency import detect as emergency_in

SCORE_STEPS = ("overall", "speed", "attitude")
ORDER = ("overall", "speed", "attitude", "solved", "comment")
IDLE_FLOWS = ("menu", "start")
COMMENT_LIMIT = 2000
TAP_PREFIX = "s"
MAX_ID = 2**31 - 1  # what an INTEGER column holds
SCORES = ("1", "2", "3", "4", "5")
# each question's answers, as its buttons carry them
ANSWERS = {**dict.fromkeys(SCORE_STEPS, SCORES), "solved": ("0", "1"), "comment": ("skip",)}


def tap_token(survey: SurveyView, value: str) -> str:
    return f"{TAP_PREFIX}:{survey.id}:{survey.step}:{value}"


def parse_tap(token: str) -> SurveyTap | None:
    """s:<survey>:<step>:<value>, or None when it is not one (forged or mangled): a survey id an
    INTEGER column can hold, a known question and one of its answers."""
    try:
        prefix, sid, question, value = token.split(":", 3)
    except (ValueError, AttributeError):
        return None
    if prefix != TAP_PREFIX or not sid.isascii() or not sid.isdigit() or len(sid) > 10:
        return None
    if not 1 <= int(sid) <= MAX_ID or value not in ANSWERS.get(question, ()):
        return None
    return SurveyTap(int(sid), question, value)


def mood(sv: SurveyView, angry_words: list[str]) -> str:
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


# --- events from outside the chat ------------------------------------------------------------------
@on_event("survey_start")
async def on_survey_start(s: Session, ev: Inbound) -> None:
    assert isinstance(ev.detail, SurveyStart)
    sv = await _open(s, ev.detail.survey_id)
    if sv is not None:  # answered or expired meanwhile: nothing to ask
        await _ask(s, sv, reminder=ev.detail.reminder)


@on_event("survey_answer")
async def on_survey_answer(s: Session, ev: Inbound) -> None:
    """Only this owner's open survey, only at its current question: a double tap or an old
    button changes nothing."""
    tap = ev.detail
    sv = await _open(s, tap.survey_id) if isinstance(tap, SurveyTap) else None
    if sv is None or sv.step != tap.step:
        s.alert = "survey_stale"
        return
    if tap.step in SCORE_STEPS:
        if tap.value not in SCORES:
            s.alert = "survey_stale"
            return
        setattr(sv, tap.step, int(tap.value))
    elif tap.step == "solved":
        sv.solved = tap.value == "1"
    # at the comment the one button is 跳过: on without a comment
    s.durable = True
    await _advance(s, sv)


# --- the optional comment, the one current step ----------------------------------------------------
async def _leave_comment(s: Session, ev: Inbound) -> None:
    """The owner moved on: the survey ends without a comment. Words that raise an emergency are
    kept as the comment too (and on the urgent ticket)."""
    sv = await _open(s, _waiting_for(s))
    _back(s)
    if sv is None or sv.step != "comment":
        return
    if ev.kind in ("text", "photo") and emergency_in(s, ev.text):
        sv.comment = ev.text[:COMMENT_LIMIT]
    s.durable = True
    await _advance(s, sv)


@step("survey.comment", accepts={"text"}, leave=_leave_comment)
async def ask_comment(s: Session) -> None:
    sv = await _open(s, _waiting_for(s))
    if sv is None or sv.step != "comment":
        # the survey ended meanwhile (expired): the owner is back where they were
        _back(s)
        await reprompt(s)
        return
    _question(s, sv, reminder=False)


@ask_comment.on
async def on_comment(s: Session, ev: Inbound, value: str | None) -> None:
    sv = await _open(s, _waiting_for(s))
    _back(s)
    if sv is None or sv.step != "comment":
        await reprompt(s)
        return
    sv.comment = ev.text[:COMMENT_LIMIT]
    s.durable = True
    await _advance(s, sv)


# --- the survey's course --------------------------------------------------------------------------
async def _open(s: Session, survey_id: int) -> SurveyView | None:
    sv = await s.ports.surveys.get(survey_id) if survey_id else None
    if sv is None or sv.account_id != s.account_id or sv.state != "open":
        return None
    return sv


def _next_step(sv: SurveyView) -> str:
    i = ORDER.index(sv.step) + 1
    while i < len(ORDER):
        if ORDER[i] == "solved" and sv.owner_confirmed:
            sv.solved = True  # the owner answered 已解决 on the completion message
            i += 1
            continue
        return ORDER[i]
    return "done"


async def _advance(s: Session, sv: SurveyView) -> None:
    sv.step = _next_step(sv)
    if sv.step == "done":
        await _finish(s, sv)
    else:
        await _ask(s, sv)


async def _ask(s: Session, sv: SurveyView, *, reminder: bool = False) -> None:
    if sv.step == "comment" and not _idle(s, sv):
        # the owner is in the middle of a dialog: their next words belong to it, so the
        # optional comment is not asked for now
        sv.step = "done"
        await _finish(s, sv)
        return
    _question(s, sv, reminder=reminder)
    await s.ports.surveys.save(sv)
    if sv.step == "comment" and s.where != "survey.comment":
        s.state.survey = SurveyWait(sv.id, s.state.flow, s.state.step)
        s.set_step("survey", "comment")


def _question(s: Session, sv: SurveyView, *, reminder: bool) -> None:
    if sv.step in SCORE_STEPS:
        rows = [[(s.label(f"survey_score_{v}"), tap_token(sv, str(v)))] for v in (5, 4, 3, 2, 1)]
    elif sv.step == "solved":
        rows = [
            [
                (s.label("survey_yes"), tap_token(sv, "1")),
                (s.label("survey_no"), tap_token(sv, "0")),
            ]
        ]
    else:
        rows = [[(s.label("survey_skip"), tap_token(sv, "skip"))]]
    s.standing(
        "survey_question",
        rows,
        number=sv.ticket_number,
        step=sv.step,
        kind=sv.kind,
        reminder=reminder,
        first=sv.step == "overall" and not reminder,
        handler=sv.handler_name,
    )


async def _finish(s: Session, sv: SurveyView) -> None:
    sv.state, sv.answered_at = "answered", s.now()
    sv.mood = mood(sv, s.cues.get("angry", []))
    await s.ports.surveys.save(sv)
    s.durable = True
    s.effect(
        SurveyAnswered(
            survey_id=sv.id,
            ticket_id=sv.ticket_id,
            overall=sv.overall,
            speed=sv.speed,
            attitude=sv.attitude,
            solved=sv.solved,
            comment=sv.comment,
            mood=sv.mood,
        )
    )
    if _waiting_for(s) == sv.id:
        _back(s)


def _idle(s: Session, sv: SurveyView) -> bool:
    return s.state.flow in IDLE_FLOWS or _waiting_for(s) == sv.id


def _waiting_for(s: Session) -> int:
    wait = s.state.survey if s.where == "survey.comment" else None
    return wait.survey_id if wait else 0


def _back(s: Session) -> None:
    """Out of the comment, to where the owner was (that prompt's buttons still work)."""
    wait, s.state.survey = s.state.survey, None
    if wait and s.where == "survey.comment":
        s.set_step(wait.flow, wait.step)
