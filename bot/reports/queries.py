"""The report's reads: SQLAlchemy core selects streamed in batches (server-side cursors on
PostgreSQL), so a month of 100,000 tickets never sits in Python as ORM objects. Each reader
yields plain rows; the figures are computed elsewhere, one row at a time."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from storage.models import (
    Account,
    Agent,
    Conversation,
    KbAnswer,
    KbMiss,
    ReplyHold,
    Survey,
    Task,
    Ticket,
    TicketStage,
    TicketSubscriber,
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


async def _rows(result) -> AsyncIterator[sa.Row]:
    """A streamed result row by row, fetched a batch at a time: iterating the async result
    itself switches greenlets once per row, which costs more than the row."""
    async for part in result.partitions():
        for row in part:
            yield row


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
    result = await conn.stream(narrow(q, scope).execution_options(yield_per=BATCH))
    async for row in _rows(result):
        head = list(row[:_HEAD])
        head[8] = head[8] or ""  # community: a ticket without a unit (public, unknown)
        head[9] = head[9] or ""
        head[11] = head[11] or ""
        yield TicketRow(*head, stages=Stages(row[_HEAD:], head[_CREATED], who))


@dataclass(frozen=True, slots=True)
class SurveyRow:
    ticket_id: int
    number: str
    ticket_kind: str
    category: str | None
    ticket_status: str
    handler_agent_id: int | None
    kind: str
    state: str
    overall: int | None
    speed: int | None
    attitude: int | None
    solved: bool | None
    comment: str
    sent_at: datetime
    answered_at: datetime | None


async def surveys(conn: AsyncConnection, scope: Scope) -> AsyncIterator[SurveyRow]:
    """Surveys sent within the period, with their ticket's kind and category."""
    q = (
        sa.select(
            Survey.ticket_id,
            Ticket.number,
            Ticket.kind,
            Ticket.category,
            Ticket.status,
            sa.func.coalesce(Survey.handler_agent_id, Ticket.handler_agent_id),
            Survey.kind,
            Survey.state,
            Survey.overall,
            Survey.speed,
            Survey.attitude,
            Survey.solved,
            Survey.comment,
            utc(Survey.sent_at),
            utc(Survey.answered_at),
        )
        .join(Ticket, Ticket.id == Survey.ticket_id)
        .outerjoin(Unit, Unit.id == Ticket.unit_id)
        .where(Survey.sent_at >= scope.start, Survey.sent_at < scope.end)
        .order_by(Survey.id)
    )
    result = await conn.stream(narrow(q, scope).execution_options(yield_per=BATCH))
    async for row in _rows(result):
        yield SurveyRow(*row)


@dataclass(frozen=True, slots=True)
class TaskRow:
    ticket_id: int
    number: str
    agent_id: int | None
    due_at: datetime
    done_at: datetime | None
    result: str


async def bad_review_callbacks(conn: AsyncConnection, scope: Scope) -> AsyncIterator[TaskRow]:
    """差评回访 call-backs opened within the period."""
    q = (
        sa.select(
            Task.ticket_id,
            Ticket.number,
            sa.func.coalesce(Task.agent_id, Ticket.handler_agent_id),
            utc(Task.due_at),
            utc(Task.done_at),
            Task.result,
        )
        .join(Ticket, Ticket.id == Task.ticket_id)
        .outerjoin(Unit, Unit.id == Ticket.unit_id)
        .where(
            Task.kind == "bad_review_callback",
            Task.created_at >= scope.start,
            Task.created_at < scope.end,
        )
        .order_by(Task.id)
    )
    result = await conn.stream(narrow(q, scope).execution_options(yield_per=BATCH))
    async for row in _rows(result):
        yield TaskRow(*row)


async def public_reports(
    conn: AsyncConnection, scope: Scope, days: int = 30
) -> AsyncIterator[tuple[str, str, str, str, int]]:
    """Public-area repairs of the last `days` before the period's end: (number, category,
    building, spot, how many other owners reported the same fault and joined it). The place is
    read from the details by the database, not by decoding every repair's JSON here."""
    joined = (
        sa.select(sa.func.count())
        .where(TicketSubscriber.ticket_id == Ticket.id, TicketSubscriber.active.is_(True))
        .scalar_subquery()
    )
    details = Ticket.details
    q = (
        sa.select(
            Ticket.number,
            Ticket.category,
            details["pub_building"].as_string(),
            details["pub_spot"].as_string(),
            joined,
        )
        .outerjoin(Unit, Unit.id == Ticket.unit_id)
        .where(
            Ticket.created_at >= scope.end - timedelta(days=days),
            Ticket.created_at < scope.end,
            Ticket.merged_into.is_(None),
            Ticket.kind == "repair",
            details["place"].as_string() == "public",
        )
        .order_by(Ticket.id)
    )
    result = await conn.stream(narrow(q, scope).execution_options(yield_per=BATCH))
    async for number, category, building, spot, others in _rows(result):
        yield number, category or "", building or "", spot or "", int(others or 0)


async def reply_holds(conn: AsyncConnection, scope: Scope) -> dict[int, int]:
    """Per agent, their words for owners held by the polite-language checker in the period."""
    q = (
        sa.select(ReplyHold.agent_id, sa.func.count())
        .where(ReplyHold.at >= scope.start, ReplyHold.at < scope.end)
        .where(ReplyHold.agent_id.is_not(None))
        .group_by(ReplyHold.agent_id)
    )
    if scope.agent_id is not None:
        q = q.where(ReplyHold.agent_id == scope.agent_id)
    return {agent: int(n) for agent, n in await conn.execute(q)}


async def bot_answers(conn: AsyncConnection, scope: Scope) -> dict[str, int]:
    """The consultations the bot answered by itself in the period, by what the owner made of
    the answer (shown / solved / declined / human)."""
    q = (
        sa.select(KbAnswer.outcome, sa.func.count())
        .where(KbAnswer.at >= scope.start, KbAnswer.at < scope.end)
        .group_by(KbAnswer.outcome)
    )
    return {outcome: int(n) for outcome, n in await conn.execute(q)}


async def kb_misses(conn: AsyncConnection, scope: Scope) -> int:
    q = sa.select(sa.func.count()).where(KbMiss.at >= scope.start, KbMiss.at < scope.end)
    return int(await conn.scalar(q) or 0)


async def conversations(
    conn: AsyncConnection, scope: Scope
) -> AsyncIterator[tuple[dict[str, Any], datetime]]:
    """Conversations last touched within the period: their state as stored, and when."""
    q = (
        sa.select(Conversation.state, Conversation.updated_at)
        .where(Conversation.updated_at >= scope.start, Conversation.updated_at < scope.end)
        .order_by(Conversation.account_id)
    )
    result = await conn.stream(q.execution_options(yield_per=BATCH))
    async for state, at in _rows(result):
        yield state or {}, at


async def agent_names(conn: AsyncConnection) -> dict[int, str]:
    rows = await conn.execute(sa.select(Agent.id, Agent.name))
    return {i: n for i, n in rows}
