"""What a finished 回访 does to its ticket (DOMAIN.md 回访): a good one closes the ticket with
thanks; a score of 2 or less, or 否 to 问题是否已解决, is a 差评回访: the ticket goes back to its
handler, who owes the owner a call within the policy's time (问题 → 改进 → 反馈), the
supervisors are told, and the owner hears exactly by when."""

from __future__ import annotations

from datetime import timedelta

from dialogs.events import SurveyAnswered

from .casework import Rules
from .due import phone_survey
from .effects import (
    CallbackTaskOpened,
    CardChanged,
    Effect,
    FollowUpsCancelled,
    Label,
    Moved,
    Noted,
    OwnerUnreachable,
    Reopened,
    SurveyAsked,
    SurveyOpened,
    SurveyUnanswered,
    ToAgents,
    ToOwner,
)
from .model import SYSTEM, Actor, Case, Staff


def answered(
    e: SurveyAnswered, account_id: int, case: Case, staff: Staff, r: Rules
) -> list[Effect]:
    owner = Actor("owner", account_id)
    out: list[Effect] = [
        FollowUpsCancelled(("survey_reminder", "survey_expire")),
        Noted("survey", owner, note=f"{e.overall}/{e.speed}/{e.attitude} {e.mood}"),
    ]
    if not e.bad:
        if case.status == "done":
            out += [Moved("close", "closed", SYSTEM), CardChanged()]
        out.append(
            ToOwner(
                "survey_thanks",
                {"number": case.number, "commented": bool(e.comment.strip())},
                account_id=account_id,
                about_ticket=False,
            )
        )
        return out
    due = r.now + timedelta(minutes=r.policy.followups.callback_minutes)
    if case.status in ("done", "closed"):
        out += [
            Reopened(),
            Moved("reopen", "in_progress", SYSTEM, note=Label("event_note_survey_unhappy")),
        ]
    out += [
        CallbackTaskOpened(
            "bad_review_callback",
            due,
            case.handler_id,
            "agent_bad_review",
            {
                "number": case.number,
                "handler": case.handler_name,
                "due": due,
                "sv": e,
                "mood_word": Label(f"mood_{e.mood}"),
                "supervisors": staff.supervisor_names,
            },
            supervisors=True,
            watch=True,
        ),
        CardChanged(),
        ToOwner(
            "survey_bad_followup",
            {"number": case.number, "handler": case.handler_name, "due": due},
            account_id=account_id,
            about_ticket=False,
        ),
    ]
    return out


def due(case: Case, kind: str, account_id: int, reachable: bool, r: Rules) -> list[Effect]:
    """A 回访 falls due: in the owner's chat, or by phone when the chat cannot reach them."""
    if not reachable:
        return phone_survey(case, kind, r)
    remind_at = r.now + timedelta(hours=r.policy.followups.reminder_hours)
    return [SurveyOpened(account_id, kind, remind_at)]


def remind(survey_id: int, still_open: bool, r: Rules) -> list[Effect]:
    """Unanswered after the reminder time: asked once more, then left to expire."""
    if not still_open:
        return []
    return [SurveyAsked(survey_id, r.now + timedelta(hours=r.policy.followups.expire_hours))]


def expire(survey_id: int, still_open: bool) -> list[Effect]:
    if not still_open:
        return []
    return [SurveyUnanswered(survey_id), Noted("survey_no_answer")]


def unreachable(
    case: Case | None,
    account_id: int,
    salutation: str,
    phone: str,
    open_survey,
    r: Rules,
    why: str = "blocked",
) -> list[Effect]:
    """A 403 (blocked, deactivated), or WeChat's budget spent (`why="budget"`: 5 messages in the
    48 hours after the owner last wrote): the owner is marked unreachable until they write
    again, the handler told to phone, and a survey waiting in the chat becomes a phone 回访
    (`open_survey`: (id, kind) or None)."""
    out: list[Effect] = [
        OwnerUnreachable(account_id),
        ToAgents(
            "agent_owner_unreachable",
            {
                "salutation": salutation,
                "number": case.number if case else "",
                "handler": case.handler_name if case else "",
                "phone": case.contact_phone if case else phone,
                "why": why,
            },
        ),
    ]
    if open_survey is not None and case is not None:
        survey_id, kind = open_survey
        out += [SurveyUnanswered(survey_id), *phone_survey(case, kind, r)]
    return out
