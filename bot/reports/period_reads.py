"""The report's reads besides the tickets' stream (queries.py): surveys, call-backs, public
spots, the agents' held replies, the bot's answers, dialogs left mid-way. Each streamed or
counted by the database, a batch at a time."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from storage.models import (
    Agent,
    Conversation,
    KbAnswer,
    KbMiss,
    ReplyHold,
    Survey,
    Task,
    Ticket,
    TicketSubscriber,
    Unit,
)

from .queries import BATCH, Scope, narrow, rows
from .stamps import utc


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
    async for row in rows(result):
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
    async for row in rows(result):
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
    async for number, category, building, spot, others in rows(result):
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
    async for state, at in rows(result):
        yield state or {}, at


async def agent_names(conn: AsyncConnection) -> dict[int, str]:
    rows = await conn.execute(sa.select(Agent.id, Agent.name))
    return {i: n for i, n in rows}
