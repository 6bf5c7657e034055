"""Service policy as data: categories → departments, promised times, working hours.

Loaded from a readable TOML file (dialogs/data/policy.toml by default, POLICY_FILE to replace)
and checked against its shape (policy_file.py) before anything uses it."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from .calendar import WorkingCalendar
from .followup_policy import FollowUpPolicy
from .policy_file import PolicyError, PolicyFile, read_policy_file
from .slots import Window

__all__ = ["DATA_DIR", "DEFAULT_POLICY_FILE", "Policy", "PolicyError", "Promise", "load_cues"]

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
    def __init__(self, spec: PolicyFile):
        self.spec = spec
        self.service_name: str = spec.service.name
        self.hotline: str = spec.service.hotline
        # the local gas and fire emergency numbers given with the safety advice
        self.gas_emergency_phone: str = spec.service.gas_emergency_phone
        self.fire_phone: str = spec.service.fire_phone
        # emergency kind → the repair category it is filed under (one path, one promise)
        self.emergencies: dict[str, dict[str, Any]] = {
            kind: row.model_dump() for kind, row in spec.emergency.items()
        }
        wh, fu = spec.working_hours, spec.followup
        self.calendar = WorkingCalendar(
            work_days=frozenset(wh.days),
            work_start=wh.start,
            work_end=wh.end,
            holidays=frozenset(wh.holidays),
            quiet_start=fu.quiet_start,
            quiet_end=fu.quiet_end,
        )
        # 回访, SLA and quiet hours, read from the same file and counted on the same calendar
        self.followups = FollowUpPolicy(fu, self.calendar)
        # the flows read categories as plain rows (label, department, example, plans…)
        self.repair_categories: dict[str, dict[str, Any]] = {
            key: row.model_dump() for key, row in spec.repair_categories.items()
        }
        self.complaint_categories: dict[str, dict[str, Any]] = {
            key: row.model_dump() for key, row in spec.complaint_categories.items()
        }
        self.home_locations: list[str] = list(spec.repair_locations.home)
        self.public_spots: list[str] = list(spec.repair_locations.public_spots)
        self.handoff_reply_minutes: int = spec.handoff.reply_within
        desk = spec.desk
        self.grab_urgent: bool = desk.grab_urgent
        self.handoff_wait_minutes: int = desk.handoff_wait_minutes
        self.escalation_reply_hours: int = desk.escalation_reply_hours
        self.urge_interval_minutes: int = desk.urge_interval_minutes
        # one fault, one ticket (issue 12): how far back an open public repair is matched
        self.same_fault_hours: int = desk.same_fault_hours
        self.departments: list[str] = list(
            desk.departments
            or dict.fromkeys(
                c.department
                for c in [*spec.repair_categories.values(), *spec.complaint_categories.values()]
            )
        )
        self.eta_choices: list[int] = list(desk.eta_choices)
        self.progress_steps: list[str] = list(desk.progress_steps)
        self.escalation_reasons: list[str] = list(desk.escalation_reasons)
        self.delay_step: str = desk.delay_step
        self.pause_steps: list[str] = list(desk.pause_steps)
        self.departed_step: str = desk.departed_step
        self.arrived_steps: list[str] = list(desk.arrived_steps)
        self.contact_steps: list[str] = list(desk.contact_steps)
        self.delay_choices: list[int] = list(desk.delay_choices)

    @classmethod
    def load(cls, path: str | Path | None = None) -> Policy:
        """The policy file, checked: a PolicyError names every key it cannot use."""
        return cls(read_policy_file(Path(path or DEFAULT_POLICY_FILE)))

    # --- departments -------------------------------------------------------------------------
    def department(self, kind: str, category: str | None) -> str:
        """From the policy file only; an unknown category falls back to the table's last row
        (其他 for repairs)."""
        if kind in ("repair", "complaint"):
            table = self.repair_categories if kind == "repair" else self.complaint_categories
            row = table.get(category or "") or list(table.values())[-1]
            return row["department"]
        return self.spec.consult.department

    def category_label(self, kind: str, category: str | None) -> str:
        table = self.repair_categories if kind == "repair" else self.complaint_categories
        return table.get(category or "", {}).get("label", category or "")

    # --- working hours (the calendar's, kept here for the many callers) ----------------------
    def is_working_day(self, d: date) -> bool:
        return self.calendar.is_working_day(d)

    def in_working_hours(self, local: datetime) -> bool:
        return self.calendar.in_working_hours(local)

    def next_working_start(self, local: datetime) -> datetime:
        return self.calendar.next_working_start(local)

    def add_working_minutes(self, local: datetime, minutes: int) -> datetime:
        return self.calendar.add_working_minutes(local, minutes)

    def working_minutes_between(self, start: datetime, end: datetime) -> int:
        return self.calendar.working_minutes_between(start, end)

    # --- promised times ----------------------------------------------------------------------
    def promise_minutes(self, kind: str, category: str | None, urgent: bool) -> tuple[int, int]:
        table = getattr(self.spec.promise, kind, None) or {}
        row = table.get(category or "") or table.get("default")
        entry = row and ((row.urgent if urgent else row.normal) or row.normal)
        if entry is None:
            return 60, 0
        return entry.contact, entry.arrive

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
        """Slot buttons (value → day and part of the day) and `named_hour_window`."""
        return self.spec.slots.model_dump()

    def complaint_plans(self, category: str) -> list[dict[str, str]]:
        return list(self.complaint_categories.get(category, {}).get("plans", []))


def load_cues(path: Path | None = None) -> dict[str, list[str]]:
    with open(path or DATA_DIR / "cues.toml", "rb") as fh:
        return tomllib.load(fh)
