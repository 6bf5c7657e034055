"""Service policy as data: categories → departments, promised times, working hours.

Loaded from a readable TOML file (dialogs/data/policy.toml by default, POLICY_FILE to replace).
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from .slots import Window

DATA_DIR = Path(__file__).parent / "data"
DEFAULT_POLICY_FILE = DATA_DIR / "policy.toml"


@dataclass(frozen=True, slots=True)
class Promise:
    contact_by: datetime
    arrive_by: datetime | None
    contact_minutes: int
    arrive_minutes: int
    # an urgent visit promised before the window the owner chose (and the owner is told why)
    earlier_than_slot: bool = False


class Policy:
    def __init__(self, raw: dict[str, Any]):
        self.raw = raw
        self.service_name: str = raw["service"]["name"]
        self.hotline: str = raw["service"]["hotline"]
        # the local gas and fire emergency numbers given with the safety advice
        self.gas_emergency_phone: str = raw["service"].get("gas_emergency_phone", "")
        self.fire_phone: str = raw["service"].get("fire_phone", "119")
        # emergency kind → the repair category it is filed under (one path, one promise)
        self.emergencies: dict[str, dict[str, Any]] = dict(raw.get("emergency", {}))
        wh = raw["working_hours"]
        self.work_days: set[int] = set(wh.get("days", [1, 2, 3, 4, 5]))
        self.work_start: time = time.fromisoformat(wh.get("start", "08:00"))
        self.work_end: time = time.fromisoformat(wh.get("end", "18:00"))
        self.holidays: set[date] = {date.fromisoformat(d) for d in wh.get("holidays", [])}
        self.repair_categories: dict[str, dict[str, Any]] = raw["repair_categories"]
        self.complaint_categories: dict[str, dict[str, Any]] = raw["complaint_categories"]
        self.home_locations: list[str] = raw["repair_locations"]["home"]
        self.public_spots: list[str] = raw["repair_locations"]["public_spots"]
        self.handoff_reply_minutes: int = raw.get("handoff", {}).get("reply_within", 3)
        desk = raw.get("desk", {})
        self.grab_urgent: bool = bool(desk.get("grab_urgent", False))
        self.handoff_wait_minutes: int = int(desk.get("handoff_wait_minutes", 3))
        self.escalation_reply_hours: int = int(desk.get("escalation_reply_hours", 2))
        self.urge_interval_minutes: int = int(desk.get("urge_interval_minutes", 30))
        self.departments: list[str] = list(
            desk.get("departments")
            or dict.fromkeys(
                c["department"]
                for c in [*self.repair_categories.values(), *self.complaint_categories.values()]
            )
        )
        self.eta_choices: list[int] = list(desk.get("eta_choices", [30, 60, 120]))
        self.progress_steps: list[str] = list(desk.get("progress_steps", []))
        self.escalation_reasons: list[str] = list(desk.get("escalation_reasons", []))
        self.delay_step: str = desk.get("delay_step", "")
        self.pause_steps: list[str] = list(desk.get("pause_steps", []))
        self.departed_step: str = desk.get("departed_step", "")
        self.arrived_steps: list[str] = list(desk.get("arrived_steps", []))
        self.delay_choices: list[int] = list(desk.get("delay_choices", [60, 120, 240]))

    @classmethod
    def load(cls, path: str | Path | None = None) -> Policy:
        with open(path or DEFAULT_POLICY_FILE, "rb") as fh:
            return cls(tomllib.load(fh))

    # --- departments -------------------------------------------------------------------------
    def department(self, kind: str, category: str | None) -> str:
        """From the policy file only; an unknown category falls back to the table's last row
        (其他 for repairs)."""
        if kind in ("repair", "complaint"):
            table = self.repair_categories if kind == "repair" else self.complaint_categories
            row = table.get(category or "") or list(table.values())[-1]
            return row["department"]
        return self.raw["consult"]["department"]

    def category_label(self, kind: str, category: str | None) -> str:
        table = self.repair_categories if kind == "repair" else self.complaint_categories
        return table.get(category or "", {}).get("label", category or "")

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
        elif local.time() < self.work_start:
            pass
        for _ in range(370):
            if self.is_working_day(day):
                return datetime.combine(day, self.work_start, tzinfo=local.tzinfo)
            day += timedelta(days=1)
        return local  # a calendar with no working day at all: count plain time

    def add_working_minutes(self, local: datetime, minutes: int) -> datetime:
        """Count `minutes` of working time from `local` (ordinary work waits for opening hours)."""
        cur = self.next_working_start(local)
        left = timedelta(minutes=minutes)
        for _ in range(400):
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
        for _ in range(400):
            if cur >= end:
                break
            end_today = datetime.combine(cur.date(), self.work_end, tzinfo=cur.tzinfo)
            total += min(end_today, end) - cur
            cur = self.next_working_start(end_today)
        return int(total.total_seconds() // 60)

    # --- promised times ----------------------------------------------------------------------
    def promise_minutes(self, kind: str, category: str | None, urgent: bool) -> tuple[int, int]:
        table = self.raw["promise"].get(kind, {})
        row = table.get(category or "", table.get("default", {}))
        entry = row.get("urgent" if urgent else "normal") or row.get("normal") or {}
        return int(entry.get("contact", 60)), int(entry.get("arrive", 0))

    def promise(
        self,
        kind: str,
        category: str | None,
        urgent: bool,
        local_now: datetime,
        window: Window | None = None,
    ) -> Promise:
        """Contact-by and arrive-by. The owner's chosen visit window is kept: ordinary work
        arrives inside it; urgent work may come earlier, and then says so."""
        contact, arrive = self.promise_minutes(kind, category, urgent)
        if urgent:
            contact_by = local_now + timedelta(minutes=contact)
            arrive_by = local_now + timedelta(minutes=arrive) if arrive else None
        else:
            contact_by = self.add_working_minutes(local_now, contact)
            arrive_by = self.add_working_minutes(local_now, arrive) if arrive else None
        earlier = False
        if window is not None and arrive:
            if urgent and arrive_by is not None and arrive_by < window.start:
                earlier = True
            else:
                arrive_by = window.end
        return Promise(contact_by, arrive_by, contact, arrive, earlier)

    @property
    def slots(self) -> dict[str, Any]:
        return dict(self.raw.get("slots", {}))

    @property
    def followups(self):
        """Follow-up timing (回访, SLA, quiet hours) read from the same file."""
        fp = self.__dict__.get("_followups")
        if fp is None:
            from .followup_policy import FollowUpPolicy

            fp = self.__dict__["_followups"] = FollowUpPolicy(self)
        return fp

    def complaint_plans(self, category: str) -> list[dict[str, str]]:
        return list(self.complaint_categories.get(category, {}).get("plans", []))


def load_cues(path: Path | None = None) -> dict[str, list[str]]:
    with open(path or DATA_DIR / "cues.toml", "rb") as fh:
        return tomllib.load(fh)
