"""Every stage of a ticket's life, derived from its history (ticket_events), so each figure of the
report is a query over what was recorded, and tickets filed before the reports existed are
backfilled by the same derivation.

Which recorded action means which stage (storage/ticket_history.py writes them; desk/machine.py
and desk/casework.py name them):

| stage          | first event that marks it                                                |
|----------------|--------------------------------------------------------------------------|
| created        | `created` (the owner's confirmation; the ticket's own created_at otherwise) |
| accepted       | `take` or `grab` (an agent, or a worker grabbing the job: 首问 starts)     |
| first_contact  | a person speaks to the owner: `progress` with a contact step (已联系业主),   |
|                | `note` (an agent's reply relayed to the owner), `dispatch` (the owner is  |
|                | told who comes and when), `complete`; the take alone is not a contact     |
| dispatched     | `dispatch` or `grab`                                                     |
| on_site        | `progress` with an arrival step (policy `arrived_steps`: 已到场, 正在维修)  |
| completed      | the first `complete` (a reopened ticket keeps its first; `last_completed` |
|                | is the final one)                                                        |
| closed         | the last `close`, `merged` or `withdrawn` (to_status closed/withdrawn)   |
| reopened       | the first `reopen` (by the owner's 还有问题 or a bad survey); counted too  |
| rated          | `survey` (the owner answered the 回访 survey)                             |
| followup_done  | `survey`, or a phone 回访 recorded (`task_phone_survey`)                   |
| escalated      | `escalate`, `urge_escalated` or `overdue` (the SLA watch raised it)       |

Each stage keeps who did it (actor kind and id). The promise a stage was held to comes from the
ticket (promised_contact_by, promised_arrive_by) and, for completion, from the report's own
target by urgency (the ticket records no completion promise).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import NamedTuple

STAGES = (
    "created",
    "accepted",
    "first_contact",
    "dispatched",
    "on_site",
    "completed",
    "closed",
    "reopened",
    "rated",
    "followup_done",
    "escalated",
)

ACCEPT = frozenset({"take", "grab"})
DISPATCH = frozenset({"dispatch", "grab"})
CONTACT = frozenset({"note", "dispatch", "complete"})
CLOSE = frozenset({"close", "merged", "withdrawn"})
ESCALATE = frozenset({"escalate", "urge_escalated", "overdue"})
URGE = frozenset({"urge", "urge_escalated"})
FOLLOWUP = frozenset({"survey", "task_phone_survey"})


class Event(NamedTuple):
    """One row of ticket_events, as the report reads it."""

    at: datetime
    action: str
    actor_kind: str
    actor_id: int | None
    to_status: str | None
    note: str


@dataclass(frozen=True, slots=True)
class StageRules:
    """The progress steps that mean a person spoke to the owner, and that a worker is on site
    (policy.toml [desk] arrived_steps)."""

    contact_steps: tuple[str, ...]
    arrived_steps: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Mark:
    at: datetime
    actor_kind: str
    actor_id: int | None


@dataclass(slots=True)
class Stages:
    marks: dict[str, Mark] = field(default_factory=dict)
    last_completed: datetime | None = None
    reopen_count: int = 0
    reopened_within_7d: bool = False
    urges: int = 0

    def at(self, stage: str) -> datetime | None:
        mark = self.marks.get(stage)
        return mark.at if mark else None


def _firsts() -> dict[str, tuple[str, ...]]:
    """Per action, the stages its first occurrence marks (the table above), so a ticket's
    history is read with one lookup per event; `progress` depends on its step, read apart."""
    out: dict[str, tuple[str, ...]] = {}
    for stage, actions in (
        ("created", {"created"}),
        ("accepted", ACCEPT),
        ("dispatched", DISPATCH),
        ("first_contact", CONTACT),
        ("completed", {"complete"}),
        ("reopened", {"reopen"}),
        ("rated", {"survey"}),
        ("followup_done", FOLLOWUP),
        ("escalated", ESCALATE),
    ):
        for a in actions:
            out[a] = out.get(a, ()) + (stage,)
    return out


FIRSTS = _firsts()


def derive(events: Iterable[Event], rules: StageRules, created_at: datetime) -> Stages:
    """The stages of one ticket from its events, oldest first. Pure."""
    s = Stages()
    marks = s.marks
    for e in events:
        a = e.action
        for stage in FIRSTS.get(a, ()):
            if stage not in marks:
                marks[stage] = Mark(e.at, e.actor_kind, e.actor_id)
        if a == "progress":
            step = e.note.split(" ")[0]
            if step in rules.contact_steps and "first_contact" not in marks:
                marks["first_contact"] = Mark(e.at, e.actor_kind, e.actor_id)
            if step in rules.arrived_steps and "on_site" not in marks:
                marks["on_site"] = Mark(e.at, e.actor_kind, e.actor_id)
        elif a == "complete":
            s.last_completed = e.at
        elif a in CLOSE:
            if e.to_status in ("closed", "withdrawn"):
                marks["closed"] = Mark(e.at, e.actor_kind, e.actor_id)
        elif a == "reopen":
            s.reopen_count += 1
            done = marks.get("completed")
            if done and (e.at - done.at).total_seconds() <= 7 * 86400:
                s.reopened_within_7d = True
            marks.pop("closed", None)  # a closed ticket reopened is open again
        if a in URGE:
            s.urges += 1
    if "created" not in marks:  # a ticket older than its history: its row says when
        marks["created"] = Mark(created_at, "owner", None)
    return s


def minutes(start: datetime | None, end: datetime | None) -> float | None:
    if start is None or end is None:
        return None
    return (end - start).total_seconds() / 60
