"""tickets.csv on PostgreSQL: the same rows tables.ticket_row writes, made by the database and
sent with COPY while Python computes the figures from its own stream. Formatting a hundred
thousand rows of fifteen instants is most of the report's Python time; the server does it on a
core of its own, so the report finishes in about the time of the figures alone.
tests/test_reports.py checks that both writers give the same file for the hand-counted month.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import tzinfo
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.ext.asyncio import AsyncConnection

from storage.models import Account, Ticket, TicketStage, Unit

from .queries import Scope, narrow, touches
from .stages import STAGES
from .words import Words

S = TicketStage


def _text(value: Any) -> sa.ColumnElement[str]:
    return sa.cast(value, sa.Text)


def _label(column: Any, labels: dict[str, str]) -> sa.ColumnElement[str]:
    """`column`'s label where one is known, the value itself otherwise (as Words does)."""
    if not labels:
        return sa.func.coalesce(_text(column), "")
    return sa.case(labels, value=column, else_=sa.func.coalesce(_text(column), ""))


def _local(column: Any, zone: str) -> sa.ColumnElement[str]:
    """The stored naive UTC instant as local "YYYY-MM-DD HH:MM" (tables.local), "" for none."""
    at = sa.func.timezone(zone, sa.func.timezone("UTC", column))
    return sa.func.coalesce(sa.func.to_char(at, "YYYY-MM-DD HH24:MI"), "")


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


def export_query(scope: Scope, w: Words, names: dict[int, str], zone: str) -> sa.Select:
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
        _local(
            sa.case((reached_contact, S.contact_promise), else_=Ticket.promised_contact_by), zone
        ),
        _local(sa.case((arrived, S.arrive_promise), else_=Ticket.promised_arrive_by), zone),
        _local(sa.case((done, S.complete_promise), else_=Ticket.promised_complete_by), zone),
    ]
    for stage in STAGES:
        if stage == "created":  # a ticket older than its history: its own row says when
            columns += [
                _local(sa.func.coalesce(S.created_at, Ticket.created_at), zone),
                sa.case((S.created_at.is_(None), w("actor", "owner")), else_=_who(stage, w, names)),
            ]
            continue
        columns += [_local(getattr(S, f"{stage}_at"), zone), _who(stage, w, names)]
    within_7d = sa.and_(
        S.completed_at.is_not(None),
        S.reopened_at.is_not(None),
        S.reopened_at - S.completed_at <= sa.text("interval '7 days'"),
    )
    columns += [
        _local(S.last_completed_at, zone),
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


async def copy_tickets(
    conn: AsyncConnection,
    path: Path,
    header: Iterable[str],
    scope: Scope,
    w: Words,
    names: dict[int, str],
    tz: tzinfo,
) -> None:
    """tickets.csv through COPY: the header (and the BOM Excel needs) written here, the rows as
    the server sends them."""
    import csv

    sql = str(
        export_query(scope, w, names, zone_name(tz)).compile(
            dialect=postgresql.dialect(), compile_kwargs={"literal_binds": True}
        )
    )
    raw = await conn.get_raw_connection()
    with open(path, "w", encoding="utf-8-sig", newline="") as fh:  # noqa: ASYNC230
        csv.writer(fh).writerow(header)
    with open(path, "ab") as out:  # noqa: ASYNC230

        async def sink(chunk: bytes) -> None:
            out.write(chunk)

        await raw.driver_connection.copy_from_query(sql, output=sink, format="csv")
