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
each as it stood at that moment. Pure folding here; `mark` and `backfill` are its two writers.
"""

from __future__ import annotations

import os
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


def _reach(book: Any, stage: str, at: datetime, kind: str, by: int | None) -> None:
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
        _reach(book, stage, at, actor_kind, actor_id)
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
            _reach(book, "closed", at, actor_kind, actor_id)
    elif action == "reopen":
        book.reopen_count = (book.reopen_count or 0) + 1
        _reach(book, "closed", None, None, None)  # a closed ticket reopened is open again
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


# --- backfill: tickets filed before stages were kept -----------------------------------------
BACKFILL_BATCH = 5000


def policy_rules() -> StepRules:
    """The step rules of the policy the bot runs with (POLICY_FILE, as bot/settings.py reads
    it), for a migration that has no settings of its own."""
    from dialogs.policy import Policy

    return StepRules.of(Policy.load(os.environ.get("POLICY_FILE") or None))


def backfill(conn: Any, rules: StepRules, only_missing: bool = True) -> int:
    """Derive the stage rows (and each event's promise) from the recorded history, on a sync
    connection (a migration's, or `run_sync`): tickets streamed in id order with their events,
    rows written in batches. Returns how many tickets were folded."""
    import sqlalchemy as sa

    from .models import FollowUp, Ticket, TicketEvent, TicketStage

    stages, tickets, events = TicketStage.__table__, Ticket.__table__, TicketEvent.__table__
    complete_by = _completion_deadlines(conn, FollowUp.__table__)
    head = sa.select(
        tickets.c.id,
        tickets.c.created_at,
        tickets.c.promised_contact_by,
        tickets.c.promised_arrive_by,
        tickets.c.promised_complete_by,
    ).order_by(tickets.c.id)
    if only_missing:
        head = head.where(~sa.exists().where(stages.c.ticket_id == tickets.c.id))
    ev = sa.select(
        events.c.ticket_id,
        events.c.id,
        events.c.at,
        events.c.actor_kind,
        events.c.actor_id,
        events.c.action,
        events.c.to_status,
        events.c.note,
    ).order_by(events.c.ticket_id, events.c.at, events.c.id)
    done, last = 0, 0
    while True:  # keyset pages of tickets, each with its events: no cursor left open on writes
        heads = conn.execute(head.where(tickets.c.id > last).limit(BACKFILL_BATCH)).all()
        if not heads:
            break
        first, last = heads[0][0], heads[-1][0]
        by_ticket: dict[int, list] = {}
        for e in conn.execute(ev.where(events.c.ticket_id.between(first, last))):
            by_ticket.setdefault(e[0], []).append(e)
        rows: list[dict] = []
        promised: list[dict] = []
        for tid, created_at, contact, arrive, complete in heads:
            held_to = (contact, arrive, complete or complete_by.get(tid))
            book = Book(tid)
            for e in by_ticket.get(tid, ()):
                held = fold(book, e[2], e[3], e[4], e[5], e[6], e[7] or "", rules, held_to)
                if held is not None:
                    promised.append({"b_id": e[1], "b_promise": held})
            if book.created_at is None:  # older than its history: the ticket's row says when
                _reach(book, "created", created_at, "owner", None)
            rows.append(book.row())
        _flush(conn, stages, events, rows, promised)
        done += len(heads)
    if complete_by:
        for tid, at in complete_by.items():
            conn.execute(
                tickets.update()
                .where(tickets.c.id == tid, tickets.c.promised_complete_by.is_(None))
                .values(promised_complete_by=at)
            )
    return done


def _completion_deadlines(conn: Any, followups: Any) -> dict[int, datetime]:
    """The completion deadline the SLA watch held each ticket to, from its last sla_overdue
    follow-up of stage complete (tickets filed before promised_complete_by was kept)."""
    import sqlalchemy as sa

    out: dict[int, datetime] = {}
    q = (
        sa.select(followups.c.ticket_id, followups.c.data)
        .where(followups.c.kind == "sla_overdue", followups.c.ticket_id.is_not(None))
        .order_by(followups.c.id)
    )
    for tid, data in conn.execute(q):
        if isinstance(data, str):
            import json

            data = json.loads(data)
        if completion_deadline("sla_overdue", data) and data.get("deadline"):
            out[tid] = datetime.fromisoformat(data["deadline"])
    return out


def _flush(conn: Any, stages: Any, events: Any, rows: list[dict], promised: list[dict]) -> None:
    import sqlalchemy as sa

    if rows:
        conn.execute(stages.insert(), rows)
        rows.clear()
    if promised:
        conn.execute(
            events.update()
            .where(events.c.id == sa.bindparam("b_id"))
            .values(promise_at=sa.bindparam("b_promise")),
            promised,
        )
        promised.clear()
