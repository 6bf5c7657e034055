"""The report's reads: SQLAlchemy core selects streamed in batches (server-side cursors on
PostgreSQL), so a month of 100,000 tickets never sits in Python as ORM objects. Each reader
yields plain rows; the figures are computed elsewhere, one row at a time."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from storage.models import (
    Account,
    Ticket,
    TicketStage,
    Unit,
)

from .stages import STAGE_AT_COLUMNS, STAGE_COLUMNS, Stages
from .stamps import utc

BATCH = 2000


@dataclass(frozen=True, slots=True)
class Scope:
    """A period [start, end) and the optional narrowing to a community, department, person."""

    start: datetime
    end: datetime
    community: str = ""
    department: str = ""
    agent_id: int | None = None


@dataclass(slots=True)
class TicketRow:
    id: int
    number: str
    kind: str
    category: str | None
    department: str
    urgent: bool
    status: str
    channel: str
    community: str
    building: str
    unit_label: str
    public_building: str  # a public-area fault's building (details.pub_building)
    handler_agent_id: int | None
    handler_name: str
    # the promise each stage is held to: the one recorded when it was reached, the ticket's
    # own while it is not (stage_book.py records them; the database picks, held_promises)
    contact_promise: datetime | None
    arrive_promise: datetime | None
    complete_promise: datetime | None
    urge_count: int
    escalated: bool
    created_at: datetime
    stages: Stages


async def rows(result) -> AsyncIterator[sa.Row]:
    """A streamed result row by row, fetched a batch at a time: iterating the async result
    itself switches greenlets once per row, which costs more than the row."""
    async for part in result.partitions():
        for row in part:
            yield row


# PostgreSQL's memory for sorting the period's tickets by id: at the default (4 MB) a month of
# 100,000 sorts on disk before the first row comes back
REPORT_WORK_MEM = "64MB"


async def sort_in_memory(conn: AsyncConnection) -> None:
    """For this transaction only (the report's read): the setting ends with it."""
    if conn.dialect.name == "postgresql":
        await conn.execute(sa.text(f"SET LOCAL work_mem = '{REPORT_WORK_MEM}'"))


def narrow(q: sa.Select, scope: Scope) -> sa.Select:
    if scope.community:
        q = q.where(Unit.community == scope.community)
    if scope.department:
        q = q.where(Ticket.department == scope.department)
    if scope.agent_id is not None:
        q = q.where(Ticket.handler_agent_id == scope.agent_id)
    return q


def touches(scope: Scope) -> sa.ColumnElement[bool]:
    """Filed before the period ended and not ended before it began; a ticket merged into
    another counts once, as the one it joined."""
    return sa.and_(
        Ticket.created_at < scope.end,
        sa.or_(Ticket.closed_at.is_(None), Ticket.closed_at >= scope.start),
        Ticket.merged_into.is_(None),
    )


def held_promises() -> tuple:
    """(contact, arrival, completion): the promise recorded when the stage was reached, else
    the ticket's as it stands (tickets.csv's columns, and what timeliness is measured by)."""
    S = TicketStage
    arrived = sa.or_(S.on_site_at.is_not(None), S.completed_at.is_not(None))
    return tuple(
        utc(sa.case((reached, recorded), else_=current).label(name))
        for name, reached, recorded, current in (
            (
                "contact_promise",
                S.first_contact_at.is_not(None),
                S.contact_promise,
                Ticket.promised_contact_by,
            ),
            ("arrive_promise", arrived, S.arrive_promise, Ticket.promised_arrive_by),
            (
                "complete_promise",
                S.completed_at.is_not(None),
                S.complete_promise,
                Ticket.promised_complete_by,
            ),
        )
    )


TICKET_COLUMNS = (
    Ticket.id,
    Ticket.number,
    Ticket.kind,
    Ticket.category,
    Ticket.department,
    Ticket.urgent,
    Ticket.status,
    Account.channel,
    Unit.community,
    Unit.building,
    Ticket.unit_label,
    # the one key of the details the figures need, read by the database: decoding every
    # ticket's JSON in Python costs more than the rest of its row
    Ticket.details["pub_building"].as_string().label("public_building"),
    Ticket.handler_agent_id,
    Ticket.handler_name,
    *held_promises(),
    Ticket.urge_count,
    Ticket.escalated,
    utc(Ticket.created_at),
)
_HEAD = len(TICKET_COLUMNS)
_CREATED = _HEAD - 1


def _stage_row(names: tuple[str, ...]) -> tuple:
    return tuple(
        utc(getattr(TicketStage, n)) if n.endswith(("_at", "_promise")) else getattr(TicketStage, n)
        for n in names
    )


STAGE_ROW, STAGE_AT_ROW = _stage_row(STAGE_COLUMNS), _stage_row(STAGE_AT_COLUMNS)


async def tickets(
    conn: AsyncConnection, scope: Scope, who: bool = True
) -> AsyncIterator[TicketRow]:
    """The tickets the period touches, each with its stage row: one stream, a row per ticket
    (the stages were folded from the history as it was written, storage/stage_book.py).
    `who`: with who reached each stage (tickets.csv written from this stream)."""
    q = (
        sa.select(*TICKET_COLUMNS, *(STAGE_ROW if who else STAGE_AT_ROW))
        .select_from(Ticket)
        .join(Account, Account.id == Ticket.reporter_account_id)
        .outerjoin(Unit, Unit.id == Ticket.unit_id)
        .outerjoin(TicketStage, TicketStage.ticket_id == Ticket.id)
        .where(touches(scope))
        .order_by(Ticket.id)
    )
    await sort_in_memory(conn)
    result = await conn.stream(narrow(q, scope).execution_options(yield_per=BATCH))
    async for row in rows(result):
        head = list(row[:_HEAD])
        head[8] = head[8] or ""  # community: a ticket without a unit (public, unknown)
        head[9] = head[9] or ""
        head[11] = head[11] or ""
        yield TicketRow(*head, stages=Stages(row[_HEAD:], head[_CREATED], who))
