"""The shape of policy.toml, checked when it is loaded.

An operator edits this file by hand; a misspelt key or a value of the wrong kind must stop the
start with a line that names it, never fall back silently to a default (a typo in `[desk]` would
otherwise quietly change whom an urgent ticket is offered to). So every table forbids keys it does
not know, values are taken as written (strict: "yes" is not a boolean), and names that point at
other parts of the file (a category, a progress step, a part of the day) must exist there."""

from __future__ import annotations

import tomllib
from datetime import date, time
from pathlib import Path
from typing import Annotated, Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    NonNegativeInt,
    ValidationError,
    model_validator,
)

from .slots import part_names

# times and dates are written as text in the file ("08:00"): parsed, the rest taken as written
Clock = Annotated[time, Field(strict=False)]
Day = Annotated[date, Field(strict=False)]


class _Table(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class Service(_Table):
    name: str
    hotline: str
    gas_emergency_phone: str = ""
    fire_phone: str = "119"


class WorkingHours(_Table):
    days: list[Annotated[int, Field(ge=1, le=7)]] = [1, 2, 3, 4, 5]
    start: Clock = time(8, 0)
    end: Clock = time(18, 0)
    holidays: list[Day] = []


class RepairCategory(_Table):
    label: str
    department: str
    example: str = ""
    advice: str = ""  # the preparation advice template sent with the confirmation
    emergency: bool = False


class Plan(_Table):
    text: str
    benefit: str
    tradeoff: str = ""


class ComplaintCategory(_Table):
    label: str
    department: str
    group: str = ""
    urgent: bool = False
    plans: list[Plan] = []


class Locations(_Table):
    home: list[str]
    public_spots: list[str]


class Consult(_Table):
    department: str


class PromiseTimes(_Table):
    contact: NonNegativeInt = 60
    arrive: NonNegativeInt = 0


class PromiseRow(_Table):
    urgent: PromiseTimes | None = None
    normal: PromiseTimes | None = None


class Promises(_Table):
    # category (or "default") → promised times
    repair: dict[str, PromiseRow] = {}
    complaint: dict[str, PromiseRow] = {}
    consult: dict[str, PromiseRow] = {}


class Handoff(_Table):
    reply_within: NonNegativeInt = 3


class DeskRules(_Table):
    grab_urgent: bool = False
    handoff_wait_minutes: NonNegativeInt = 3
    escalation_reply_hours: NonNegativeInt = 2
    urge_interval_minutes: NonNegativeInt = 30
    same_fault_hours: NonNegativeInt = 12
    departments: list[str] = []  # empty: the categories' departments, in order
    eta_choices: list[NonNegativeInt] = [30, 60, 120]
    progress_steps: list[str] = []
    escalation_reasons: list[str] = []
    delay_step: str = ""
    pause_steps: list[str] = []
    departed_step: str = ""
    arrived_steps: list[str] = []
    contact_steps: list[str] = []
    delay_choices: list[NonNegativeInt] = [60, 120, 240]

    @model_validator(mode="after")
    def _steps_are_progress_steps(self) -> DeskRules:
        named = {"delay_step": [self.delay_step], "departed_step": [self.departed_step]}
        named |= {"pause_steps": self.pause_steps, "arrived_steps": self.arrived_steps}
        named |= {"contact_steps": self.contact_steps}
        for key, steps in named.items():
            for s in steps:
                if s and s not in self.progress_steps:
                    raise ValueError(f"{key}: {s!r} is not one of progress_steps")
        return self


class FollowUpRules(_Table):
    urgent_repair_survey_minutes: NonNegativeInt = 30
    ordinary_repair_survey_at: Clock = time(9, 0)
    complaint_survey_hours: float = 4
    leak_recheck_days: NonNegativeInt = 3
    leak_categories: list[str] = ["water"]
    routine_departments: list[str] = []
    routine_survey_days: NonNegativeInt = 90
    survey_reminder_hours: float = 24
    survey_expire_hours: float = 48
    bad_review_callback_minutes: NonNegativeInt = 60
    improvement_check_days: NonNegativeInt = 3
    quiet_start: Clock = time(21, 0)
    quiet_end: Clock = time(8, 0)
    sla_warn_ratio: Annotated[float, Field(gt=0, le=1)] = 0.8
    sla_complete_urgent_minutes: NonNegativeInt = 120
    sla_complete_minutes: NonNegativeInt = 240


class Slot(_Table):
    day: NonNegativeInt
    part: str

    @model_validator(mode="after")
    def _known_part(self) -> Slot:
        if self.part not in part_names():
            raise ValueError(f"part {self.part!r} is not a part of the day in time_words.toml")
        return self


class Slots(BaseModel):
    # every other key is a slot button's value
    model_config = ConfigDict(extra="allow", strict=True, frozen=True)
    __pydantic_extra__: dict[str, Slot] = Field(init=False)
    named_hour_window: NonNegativeInt = 60


class Emergency(_Table):
    category: str


class PolicyFile(_Table):
    service: Service
    working_hours: WorkingHours
    repair_categories: Annotated[dict[str, RepairCategory], Field(min_length=1)]
    repair_locations: Locations
    complaint_categories: Annotated[dict[str, ComplaintCategory], Field(min_length=1)]
    consult: Consult
    promise: Promises
    handoff: Handoff = Handoff()
    desk: DeskRules = DeskRules()
    followup: FollowUpRules = FollowUpRules()
    slots: Slots = Slots()
    emergency: dict[str, Emergency] = {}

    @model_validator(mode="after")
    def _categories_exist(self) -> PolicyFile:
        """A category named elsewhere in the file must be one the file defines: a misspelt one
        would silently get the default promise or never match."""
        known = {"repair": set(self.repair_categories), "complaint": set(self.complaint_categories)}
        for kind, table in (("repair", self.promise.repair), ("complaint", self.promise.complaint)):
            for category in table:
                if category != "default" and category not in known[kind]:
                    raise ValueError(f"promise.{kind}.{category}: no such {kind} category")
        for kind, row in self.emergency.items():
            if row.category not in known["repair"]:
                raise ValueError(f"emergency.{kind}.category: no repair category {row.category!r}")
        for category in self.followup.leak_categories:
            if category not in known["repair"]:
                raise ValueError(f"followup.leak_categories: no repair category {category!r}")
        return self


class PolicyError(ValueError):
    """policy.toml cannot be used as written; the message names the file and each bad key."""

    def __init__(self, path: Path, problems: list[str]):
        self.path = path
        self.problems = problems
        super().__init__(f"{path}: " + "; ".join(problems))


_WHAT = {"extra_forbidden": "unknown key", "missing": "required key missing"}


def _problem(error: dict[str, Any]) -> str:
    where = ".".join(str(part) for part in error["loc"])
    what = _WHAT.get(error["type"]) or error["msg"].removeprefix("Value error, ")
    return f"{where}: {what}" if where else what


def read_policy_file(path: Path) -> PolicyFile:
    try:
        with open(path, "rb") as fh:
            raw = tomllib.load(fh)
    except tomllib.TOMLDecodeError as e:
        raise PolicyError(path, [str(e)]) from None
    try:
        return PolicyFile.model_validate(raw)
    except ValidationError as e:
        raise PolicyError(path, [_problem(err) for err in e.errors()]) from None
