"""The stage rows of tickets filed before stages were kept (storage/stage_book.py): derived
from each ticket's recorded history by the same fold the bot runs on every new event. Migration
0012 runs it on upgrade; bench/report.py on a month loaded as history only."""

from __future__ import annotations

import os
from datetime import datetime
from typing import Any

from .stage_book import Book, StepRules, completion_deadline, fold, reach

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
                reach(book, "created", created_at, "owner", None)
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
    for tid, data in conn.execute(q):  # the model's JSON type hands over a dict
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
