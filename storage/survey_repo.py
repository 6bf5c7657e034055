"""Surveys as the survey dialog sees them (dialogs.ports.Surveys): one 回访 row with the ticket
it is about, read and written back. The follow-ups side (new survey, reminders, expiry) stays in
FollowUpRepo. Never commits."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from dialogs.ports import SurveyView

from .models import Survey, Ticket

# what the dialog may change on the row; the rest (who, which ticket, when sent) is fixed
_WRITABLE = ("step", "overall", "speed", "attitude", "solved", "comment", "mood", "state")


class SurveyRepo:
    def __init__(self, session: AsyncSession):
        self.s = session

    async def get(self, survey_id: int) -> SurveyView | None:
        sv = await self.s.get(Survey, survey_id)
        if sv is None:
            return None
        t = await self.s.get(Ticket, sv.ticket_id)
        return SurveyView(
            id=sv.id,
            ticket_id=sv.ticket_id,
            account_id=sv.account_id,
            kind=sv.kind,
            state=sv.state,
            step=sv.step,
            ticket_number=t.number if t else "",
            handler_name=sv.handler_name,
            owner_confirmed=bool(t and t.owner_confirmed),
            overall=sv.overall,
            speed=sv.speed,
            attitude=sv.attitude,
            solved=sv.solved,
            comment=sv.comment or "",
            mood=sv.mood or "",
            answered_at=sv.answered_at,
        )

    async def save(self, survey: SurveyView) -> None:
        sv = await self.s.get(Survey, survey.id)
        if sv is None:
            return
        for name in _WRITABLE:
            setattr(sv, name, getattr(survey, name))
        if survey.answered_at is not None:
            sv.answered_at = survey.answered_at
        await self.s.flush()
