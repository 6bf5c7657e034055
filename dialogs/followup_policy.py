"""When follow-ups fall due, as pure functions of the follow-up rules, the working calendar and a
local time (DOMAIN.md 回访): urgent repair right after completion, ordinary repair the next
morning, complaint within 24 hours, a leak re-checked after 3 days, routine services at most once
a quarter; SLA reminders at 80% of the promised time on the working calendar; nothing but urgent
matters in quiet hours."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from .calendar import WorkingCalendar
from .policy_file import FollowUpRules


@dataclass(frozen=True, slots=True)
class Due:
    kind: str
    at: datetime
    urgent: bool = False
    data: dict[str, Any] | None = None


class FollowUpPolicy:
    def __init__(self, rules: FollowUpRules, calendar: WorkingCalendar):
        self.calendar = calendar
        self.urgent_minutes = rules.urgent_repair_survey_minutes
        self.ordinary_at = rules.ordinary_repair_survey_at
        self.complaint_hours = rules.complaint_survey_hours
        self.leak_days = rules.leak_recheck_days
        self.leak_categories = set(rules.leak_categories)
        self.routine_departments = set(rules.routine_departments)
        self.routine_days = rules.routine_survey_days
        self.reminder_hours = rules.survey_reminder_hours
        self.expire_hours = rules.survey_expire_hours
        self.callback_minutes = rules.bad_review_callback_minutes
        self.improvement_days = rules.improvement_check_days
        self.sla_ratio = rules.sla_warn_ratio
        # completion is watched this long after the promised arrival (urgent: plain minutes)
        self.complete_minutes = {
            True: rules.sla_complete_urgent_minutes,
            False: rules.sla_complete_minutes,
        }

    # --- after completion -----------------------------------------------------------------------
    def after_completion(
        self,
        *,
        kind: str,
        category: str | None,
        department: str,
        urgent: bool,
        local_done: datetime,
        last_routine: datetime | None,
    ) -> list[Due]:
        out: list[Due] = []
        if department in self.routine_departments:
            if last_routine is None or local_done - last_routine >= timedelta(
                days=self.routine_days
            ):
                out.append(Due("survey", self._next_morning(local_done), data={"kind": "routine"}))
        elif kind == "repair":
            if urgent:
                out.append(Due("survey", local_done + timedelta(minutes=self.urgent_minutes)))
            else:
                out.append(Due("survey", self._next_morning(local_done)))
        elif kind == "complaint":
            out.append(Due("survey", local_done + timedelta(hours=self.complaint_hours)))
        if kind == "repair" and category in self.leak_categories:
            out.append(
                Due("survey", local_done + timedelta(days=self.leak_days), data={"kind": "recheck"})
            )
        return out

    def _next_morning(self, local: datetime) -> datetime:
        return datetime.combine(
            local.date() + timedelta(days=1), self.ordinary_at, tzinfo=local.tzinfo
        )

    # --- quiet hours ------------------------------------------------------------------------------
    def in_quiet_hours(self, local: datetime) -> bool:
        return self.calendar.in_quiet_hours(local)

    def defer_quiet(self, local: datetime, urgent: bool = False) -> datetime:
        """The first instant a non-urgent message may go out: the end of quiet hours."""
        return self.calendar.defer_quiet(local, urgent)

    # --- SLA --------------------------------------------------------------------------------------
    def sla(
        self,
        *,
        kind: str,
        urgent: bool,
        local_created: datetime,
        contact_by: datetime | None,
        arrive_by: datetime | None = None,
    ) -> list[Due]:
        """Every promise is watched in its turn: first contact, then arrival, then completion.
        Each stage gets a reminder at 80% of its time (working time for ordinary work) and an
        alert when it falls due unmet (000 §02: no follow-up point missed or overdue)."""
        stages: list[tuple[str, datetime]] = []
        if contact_by is not None:
            stages.append(("contact", contact_by))
        if arrive_by is not None:
            stages.append(("arrive", arrive_by))
            minutes = self.complete_minutes[urgent]
            if kind == "repair" and minutes:
                done_by = (
                    arrive_by + timedelta(minutes=minutes)
                    if urgent
                    else self.calendar.add_working_minutes(arrive_by, minutes)
                )
                stages.append(("complete", done_by))
        out: list[Due] = []
        for stage, deadline in stages:
            out.extend(self.sla_stage(stage, local_created, deadline, urgent))
        return out

    def sla_stage(
        self, stage: str, local_start: datetime, deadline: datetime, urgent: bool
    ) -> list[Due]:
        data = {"stage": stage, "deadline": deadline.isoformat()}
        if urgent:
            span = (deadline - local_start).total_seconds() / 60
            warn = local_start + timedelta(minutes=int(span * self.sla_ratio))
        else:
            span = self.calendar.working_minutes_between(local_start, deadline)
            warn = self.calendar.add_working_minutes(local_start, int(span * self.sla_ratio))
        warn = min(warn, deadline)
        return [
            Due("sla_warn", warn, urgent=True, data=data),
            Due("sla_overdue", deadline, urgent=True, data=data),
        ]

    @staticmethod
    def stage_met(stage: str, status: str, taken: bool, arrived: bool) -> bool:
        """Has the promise of this stage been kept? Contact: someone took the ticket; arrival: a
        worker reported being on site (or the work is done); completion: the work is done."""
        done = status in ("done", "closed")
        if stage == "contact":
            return taken or done
        if stage == "arrive":
            return arrived or done
        return done
