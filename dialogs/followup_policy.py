"""When follow-ups fall due, as pure functions of the policy and a local time (DOMAIN.md 回访):
urgent repair right after completion, ordinary repair the next morning, complaint within 24
hours, a leak re-checked after 3 days, routine services at most once a quarter; SLA reminders at
80% of the promised time on the working calendar; nothing but urgent matters in quiet hours."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any

from .policy import Policy


@dataclass(frozen=True, slots=True)
class Due:
    kind: str
    at: datetime
    urgent: bool = False
    data: dict[str, Any] | None = None


class FollowUpPolicy:
    def __init__(self, policy: Policy):
        raw = policy.raw.get("followup", {})
        self.p = policy
        self.urgent_minutes = int(raw.get("urgent_repair_survey_minutes", 30))
        self.ordinary_at = time.fromisoformat(raw.get("ordinary_repair_survey_at", "09:00"))
        self.complaint_hours = float(raw.get("complaint_survey_hours", 4))
        self.leak_days = int(raw.get("leak_recheck_days", 3))
        self.leak_categories = set(raw.get("leak_categories", ["water"]))
        self.routine_departments = set(raw.get("routine_departments", []))
        self.routine_days = int(raw.get("routine_survey_days", 90))
        self.reminder_hours = float(raw.get("survey_reminder_hours", 24))
        self.expire_hours = float(raw.get("survey_expire_hours", 48))
        self.callback_minutes = int(raw.get("bad_review_callback_minutes", 60))
        self.improvement_days = int(raw.get("improvement_check_days", 3))
        self.quiet_start = time.fromisoformat(raw.get("quiet_start", "21:00"))
        self.quiet_end = time.fromisoformat(raw.get("quiet_end", "08:00"))
        self.sla_ratio = float(raw.get("sla_warn_ratio", 0.8))

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
        t = local.time()
        if self.quiet_start <= self.quiet_end:
            return self.quiet_start <= t < self.quiet_end
        return t >= self.quiet_start or t < self.quiet_end

    def defer_quiet(self, local: datetime, urgent: bool = False) -> datetime:
        """The first instant a non-urgent message may go out: the end of quiet hours."""
        if urgent or not self.in_quiet_hours(local):
            return local
        day = local.date() if local.time() < self.quiet_end else local.date() + timedelta(days=1)
        return datetime.combine(day, self.quiet_end, tzinfo=local.tzinfo)

    # --- SLA --------------------------------------------------------------------------------------
    def sla(
        self,
        *,
        kind: str,
        category: str | None,
        urgent: bool,
        local_created: datetime,
        deadline: datetime | None,
    ) -> list[Due]:
        """A reminder at 80% of the promised time, an escalation when it is overdue."""
        if deadline is None:
            return []
        contact, arrive = self.p.promise_minutes(kind, category, urgent)
        total = arrive or contact
        warn_minutes = int(total * self.sla_ratio)
        if urgent:
            warn = local_created + timedelta(minutes=warn_minutes)
        else:
            warn = self.p.add_working_minutes(local_created, warn_minutes)
        return [Due("sla_warn", warn, urgent=True), Due("sla_overdue", deadline, urgent=True)]
