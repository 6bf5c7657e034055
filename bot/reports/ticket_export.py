"""tickets.csv made by the database: the same rows tables.ticket_row writes, every label and
instant formatted in SQL. Formatting a hundred thousand rows of fifteen instants is most of the
report's Python time. PostgreSQL sends the rows with COPY while Python computes the figures from
its own stream (the server works on a core of its own); SQLite formats them in its C code and
csv.writer writes them a batch at a time. SQLite has no time zones: there this runs for a zone
with one offset all year (the service's Asia/Shanghai), and tables.ticket_row for any other.
tests/test_reports.py checks that the writers give the same file for the hand-counted month.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from datetime import timedelta, tzinfo
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.ext.asyncio import AsyncConnection

from storage.models import Account, Ticket, TicketStage, Unit

from .queries import BATCH, Scope, narrow, sort_in_memory, touches
from .stages import STAGES
from .stamps import fixed_offset
from .words import Words

S = TicketStage


def _text(value: Any) -> sa.ColumnElement[str]:
    return sa.cast(value, sa.Text)


def _label(column: Any, labels: dict[str, str]) -> sa.ColumnElement[str]:
    """`column`'s label where one is known, the value itself otherwise (as Words does)."""
    if not labels:
        return sa.func.coalesce(_text(column), "")
    return sa.case(labels, value=column, else_=sa.func.coalesce(_text(column), ""))


class _Dialect:
    """What differs between the two databases: local time, and a span of days."""

    def __init__(self, name: str, zone: str, offset: timedelta | None):
        self.name, self.zone, self.offset = name, zone, offset

    def local(self, column: Any) -> sa.ColumnElement[str]:
        """The stored naive UTC instant as local "YYYY-MM-DD HH:MM" (tables.local)."""
        if self.name == "postgresql":
            at = sa.func.timezone(self.zone, sa.func.timezone("UTC", column))
            return sa.func.coalesce(sa.func.to_char(at, "YYYY-MM-DD HH24:MI"), "")
        shift = f"{int(self.offset.total_seconds() // 60):+d} minutes"
        return sa.func.coalesce(sa.func.strftime("%Y-%m-%d %H:%M", column, shift), "")

    def within_days(self, later: Any, earlier: Any, days: int) -> sa.ColumnElement[bool]:
        if self.name == "postgresql":
            return later - earlier <= sa.text(f"interval '{days} days'")
        return sa.func.julianday(later) - sa.func.julianday(earlier) <= days


def _who(stage: str, w: Words, names: dict[int, str]) -> sa.ColumnElement[str]:
    """tables.actor: an agent by name, else the kind of actor; "" where the stage was not
    reached."""
    at, kind, by = (getattr(S, f"{stage}_{p}") for p in ("at", "kind", "by"))
    kinds = {k: str(v) for k, v in w.labels.get("actor", {}).items()}
    named = [(sa.and_(kind == "agent", by == i), name) for i, name in names.items()]
    return sa.case(
        (at.is_(None), ""),
        *named,
        else_=_label(kind, kinds),
    )


def _categories(w: Words) -> list[tuple[sa.ColumnElement[bool], str]]:
    out: list[tuple[sa.ColumnElement[bool], str]] = [
        (Ticket.kind == "consult", w.category("consult", None))
    ]
    for kind, table in (
        ("repair", w.policy.repair_categories),
        ("complaint", w.policy.complaint_categories),
    ):
        for key in table:
            label = w.category(kind, key)
            out.append((sa.and_(Ticket.kind == kind, Ticket.category == key), label))
    return out


def _prefixed(labels: dict[str, str], prefix: str) -> dict[str, str]:
    return {k[len(prefix) :]: str(v) for k, v in labels.items() if k.startswith(prefix)}


def export_query(scope: Scope, w: Words, names: dict[int, str], db: _Dialect) -> sa.Select:
    yes, no = w("csv", "yes"), w("csv", "no")
    reached_contact = S.first_contact_at.is_not(None)
    arrived = sa.or_(S.on_site_at.is_not(None), S.completed_at.is_not(None))
    done = S.completed_at.is_not(None)
    texts = w.texts.labels
    columns: list[Any] = [
        Ticket.number,
        _label(Ticket.kind, _prefixed(texts, "kind_")),
        sa.case(*_categories(w), else_=sa.func.coalesce(Ticket.category, "")),
        Ticket.department,
        sa.case((Ticket.urgent, w("urgency", "urgent")), else_=w("urgency", "normal")),
        _label(Ticket.status, _prefixed(texts, "status_")),
        _label(Account.channel, {k: str(v) for k, v in w.labels.get("channel", {}).items()}),
        sa.func.coalesce(Unit.community, ""),
        sa.func.coalesce(Unit.building, ""),
        Ticket.unit_label,
        Ticket.handler_name,
        db.local(sa.case((reached_contact, S.contact_promise), else_=Ticket.promised_contact_by)),
        db.local(sa.case((arrived, S.arrive_promise), else_=Ticket.promised_arrive_by)),
        db.local(sa.case((done, S.complete_promise), else_=Ticket.promised_complete_by)),
    ]
    for stage in STAGES:
        if stage == "created":  # a ticket older than its history: its own row says when
            columns += [
                db.local(sa.func.coalesce(S.created_at, Ticket.created_at)),
                sa.case((S.created_at.is_(None), w("actor", "owner")), else_=_who(stage, w, names)),
            ]
            continue
        columns += [db.local(getattr(S, f"{stage}_at")), _who(stage, w, names)]
    within_7d = sa.and_(
        S.completed_at.is_not(None),
        S.reopened_at.is_not(None),
        db.within_days(S.reopened_at, S.completed_at, 7),
    )
    columns += [
        db.local(S.last_completed_at),
        sa.func.coalesce(S.reopen_count, 0),
        sa.case((within_7d, yes), else_=no),
        Ticket.urge_count,
        sa.func.coalesce(S.replans, 0),
    ]
    # COPY quotes an empty string ("") to tell it from NULL, csv.writer leaves it bare: every
    # empty cell goes out as NULL, so both writers give the same bytes
    q = (
        sa.select(*(sa.func.nullif(_text(c), "") for c in columns))
        .select_from(Ticket)
        .join(Account, Account.id == Ticket.reporter_account_id)
        .outerjoin(Unit, Unit.id == Ticket.unit_id)
        .outerjoin(S, S.ticket_id == Ticket.id)
        .where(touches(scope))
        .order_by(Ticket.id)
    )
    return narrow(q, scope)


def zone_name(tz: tzinfo) -> str:
    return getattr(tz, "key", None) or str(tz)


def can_export(dialect: str, tz: tzinfo, year: int) -> bool:
    return dialect == "postgresql" or (dialect == "sqlite" and fixed_offset(tz, year) is not None)


async def export_tickets(
    conn: AsyncConnection,
    path: Path,
    header: Iterable[str],
    scope: Scope,
    w: Words,
    names: dict[int, str],
    tz: tzinfo,
) -> None:
    """tickets.csv from the database: the header (and the BOM Excel needs) written here, the
    rows through COPY on PostgreSQL, a batch at a time on SQLite."""
    name = conn.dialect.name
    db = _Dialect(name, zone_name(tz), fixed_offset(tz, scope.start.year))
    q = export_query(scope, w, names, db)
    with open(path, "w", encoding="utf-8-sig", newline="") as fh:  # noqa: ASYNC230
        out = csv.writer(fh)
        out.writerow(header)
        if name != "postgresql":
            result = await conn.stream(q.execution_options(yield_per=BATCH))
            async for part in result.partitions():
                out.writerows(part)
            return
    sql = str(q.compile(dialect=postgresql.dialect(), compile_kwargs={"literal_binds": True}))
    await sort_in_memory(conn)
    raw = await conn.get_raw_connection()
    with open(path, "ab") as binary:  # noqa: ASYNC230

        async def sink(chunk: bytes) -> None:
            binary.write(chunk)

        await raw.driver_connection.copy_from_query(sql, output=sink, format="csv")
