"""The service's working calendar: working days and hours, holidays, and the quiet hours in which
nothing but urgent matters reach an owner. Ordinary promises count working time on it; urgent ones
count plain time (DOMAIN.md: 紧急 runs around the clock).

Both the promise policy and the follow-up timing read time through this one object, so neither
needs the other to know when the office is open."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

# how far the loops look ahead: a year of days off in a row is a broken calendar, not a real one
_HORIZON_DAYS = 370


@dataclass(frozen=True, slots=True)
class WorkingCalendar:
    work_days: frozenset[int]  # ISO weekdays, 1 = Monday
    work_start: time
    work_end: time
    holidays: frozenset[date] = frozenset()
    quiet_start: time = time(21, 0)
    quiet_end: time = time(8, 0)

    # --- working hours -----------------------------------------------------------------------
    def is_working_day(self, d: date) -> bool:
        return d.isoweekday() in self.work_days and d not in self.holidays

    def in_working_hours(self, local: datetime) -> bool:
        return self.is_working_day(local.date()) and self.work_start <= local.time() < self.work_end

    def next_working_start(self, local: datetime) -> datetime:
        """The first instant at or after `local` that lies in working hours."""
        if self.in_working_hours(local):
            return local
        day = local.date()
        if local.time() >= self.work_end or not self.is_working_day(day):
            day += timedelta(days=1)
        for _ in range(_HORIZON_DAYS):
            if self.is_working_day(day):
                return datetime.combine(day, self.work_start, tzinfo=local.tzinfo)
            day += timedelta(days=1)
        return local  # a calendar with no working day at all: count plain time

    def add_working_minutes(self, local: datetime, minutes: int) -> datetime:
        """Count `minutes` of working time from `local` (ordinary work waits for opening hours)."""
        cur = self.next_working_start(local)
        left = timedelta(minutes=minutes)
        for _ in range(_HORIZON_DAYS):
            end_today = datetime.combine(cur.date(), self.work_end, tzinfo=cur.tzinfo)
            room = end_today - cur
            if left <= room:
                return cur + left
            left -= room
            cur = self.next_working_start(end_today)
        return cur + left

    def working_minutes_between(self, start: datetime, end: datetime) -> int:
        """Minutes of working time from `start` to `end` (0 when end is not later)."""
        total = timedelta()
        cur = self.next_working_start(start)
        for _ in range(_HORIZON_DAYS):
            if cur >= end:
                break
            end_today = datetime.combine(cur.date(), self.work_end, tzinfo=cur.tzinfo)
            total += min(end_today, end) - cur
            cur = self.next_working_start(end_today)
        return int(total.total_seconds() // 60)

    # --- quiet hours (回访 never wakes an owner) -----------------------------------------------
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
