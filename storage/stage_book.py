"""A ticket's stages kept as its history is written: each event is folded into the ticket's one
row of ticket_stages (when each stage was first reached, by whom, and the promise it was held
to then), so the managers' report reads a row per ticket instead of replaying every event, and
a later 延期 cannot rewrite what had been promised when a stage was reached.

Which recorded action marks which stage (storage/ticket_history.py writes them; desk/machine.py
and desk/casework.py name them):

| stage          | first event that marks it                                                |
|----------------|--------------------------------------------------------------------------|
| created        | `created` (the owner's confirmation; the ticket's own created_at otherwise) |
| accepted       | `take` or `grab` (an agent, or a worker grabbing the job: 首问 starts)     |
| first_contact  | a person speaks to the owner: `progress` with a contact step (policy      |
|                | contact_steps: 已联系业主), `note` (an agent's reply relayed), `dispatch`  |
|                | (the owner is told who comes and when), `complete`; a take alone is not   |
| dispatched     | `dispatch` or `grab`                                                     |
| on_site        | `progress` with an arrival step (policy arrived_steps: 已到场, 正在维修)    |
| completed      | the first `complete` (a reopened ticket keeps its first; `last_completed` |
|                | is the final one)                                                        |
| closed         | the last `close`, `merged` or `withdrawn` (to_status closed/withdrawn)   |
| reopened       | the first `reopen` (by the owner's 还有问题 or a bad survey); counted too  |
| rated          | `survey` (the owner answered the 回访 survey)                             |
| followup_done  | `survey`, or a phone 回访 recorded (`task_phone_survey`)                   |
| escalated      | `escalate`, `urge_escalated` or `overdue` (the SLA watch raised it)       |

The promises: first contact is held to the ticket's promised_contact_by, arrival (on site, or
completed without an arrival step) to promised_arrive_by, completion to promised_complete_by,
each as it stood at that moment. Pure folding here; its two writers are `mark` (each new event)
and storage/stage_backfill.py (the history of tickets filed before).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

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
FOLLOWUP = frozenset({"survey", "task_phone_survey"})
ENDED = ("closed", "withdrawn")


def _firsts() -> dict[str, tuple[str, ...]]:
    """Per action, the stages its first occurrence marks (the table above); `progress`
    depends on its step and is read apart."""
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
# the actions a stage row cares about: any other event leaves it as it is (and costs no read)
FOLDED = frozenset(FIRSTS) | CLOSE | {"progress", "reopen", "delay"}


@dataclass(frozen=True, slots=True)
class StepRules:
    """The progress steps that mean a person spoke to the owner, and that a worker is on site
    (policy.toml [desk] contact_steps, arrived_steps)."""

    contact_steps: frozenset[str] = frozenset()
    arrived_steps: frozenset[str] = frozenset()

    @classmethod
    def of(cls, policy: Any) -> StepRules:
        return cls(frozenset(policy.contact_steps), frozenset(policy.arrived_steps))


def completion_deadline(kind: str, data: dict | None) -> bool:
    """Is this follow-up the SLA watch's completion deadline (desk/sla.py)? Its time is the
    ticket's completion promise."""
    return kind == "sla_overdue" and (data or {}).get("stage") == "complete"


Promises = tuple[datetime | None, datetime | None, datetime | None]  # contact, arrive, complete
NO_PROMISES: Promises = (None, None, None)


class Book:
    """A stage row outside the ORM (the backfill folds hundreds of thousands of them)."""

    __slots__ = (
        "ticket_id",
        *(f"{s}_{part}" for s in STAGES for part in ("at", "kind", "by")),
        "last_completed_at",
        "reopen_count",
        "contact_promise",
        "arrive_promise",
        "complete_promise",
        "replans",
    )

    def __init__(self, ticket_id: int):
        for name in self.__slots__:
            setattr(self, name, None)
        self.ticket_id = ticket_id
        self.reopen_count = 0
        self.replans = 0

    def row(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.__slots__}


def reach(book: Any, stage: str, at: datetime, kind: str, by: int | None) -> None:
    setattr(book, f"{stage}_at", at)
    setattr(book, f"{stage}_kind", kind)
    setattr(book, f"{stage}_by", by)


def fold(
    book: Any,
    at: datetime,
    actor_kind: str,
    actor_id: int | None,
    action: str,
    to_status: str | None,
    note: str,
    rules: StepRules,
    promises: Promises,
) -> datetime | None:
    """One event, oldest first, into `book` (a TicketStage or a Book). Returns the promise the
    event's stage was held to (completion before arrival before contact), or None."""
    newly = [s for s in FIRSTS.get(action, ()) if getattr(book, f"{s}_at") is None]
    if action == "progress":
        step = note.split(" ")[0]
        if step in rules.contact_steps and book.first_contact_at is None:
            newly.append("first_contact")
        if step in rules.arrived_steps and book.on_site_at is None:
            newly.append("on_site")
    arrived_before = book.on_site_at is not None or book.completed_at is not None
    for stage in newly:
        reach(book, stage, at, actor_kind, actor_id)
    contact, arrive, complete = promises
    held = None
    if "first_contact" in newly:
        book.contact_promise = held = contact
    if not arrived_before and ("on_site" in newly or "completed" in newly):
        book.arrive_promise = held = arrive
    if "completed" in newly:
        book.complete_promise = held = complete
    if action == "complete":
        book.last_completed_at = at
    elif action in CLOSE:
        if to_status in ENDED:
            reach(book, "closed", at, actor_kind, actor_id)
    elif action == "reopen":
        book.reopen_count = (book.reopen_count or 0) + 1
        reach(book, "closed", None, None, None)  # a closed ticket reopened is open again
    elif action == "delay":
        book.replans = (book.replans or 0) + 1
    return held


async def mark(
    session: Any,
    ticket_id: int,
    at: datetime,
    actor_kind: str,
    actor_id: int | None,
    action: str,
    to_status: str | None,
    note: str,
    rules: StepRules,
    promises: Promises,
) -> datetime | None:
    """Fold one event into the ticket's stage row in the caller's transaction."""
    from .models import TicketStage

    if action not in FOLDED:
        return None
    book = None if action == "created" else await session.get(TicketStage, ticket_id)
    if book is None:
        book = TicketStage(ticket_id=ticket_id, reopen_count=0, replans=0)
        session.add(book)
    return fold(book, at, actor_kind, actor_id, action, to_status, note, rules, promises)
