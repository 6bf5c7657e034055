"""The outbox table: rows written in the step's transaction, claimed with a lease to send."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from .models import OutboxMessage, UTCDateTime

LEASE = timedelta(seconds=60)

_MARK_SENT = sa.text(
    "UPDATE outbox SET state = 'sent', sent_at = :at, claimed_until = NULL, "
    "sent_message_id = :mid WHERE id = :id"
).bindparams(sa.bindparam("at", type_=UTCDateTime()))


class OutboxRepo:
    def __init__(self, session: AsyncSession):
        self.s = session

    async def add(self, chat_id: str, payload: dict[str, Any], now: datetime, *,
                  method: str = "sendMessage", priority: int = 5,
                  ticket_id: int | None = None, purpose: str = "owner",
                  ref: dict[str, Any] | None = None) -> int:
        row = OutboxMessage(chat_id=str(chat_id), method=method, payload=payload,
                            priority=priority, state="pending", not_before=now, created_at=now,
                            ticket_id=ticket_id, purpose=purpose, ref=ref or {})
        self.s.add(row)
        await self.s.flush()
        return row.id

    async def claim(self, now: datetime, limit: int = 20, ids: list[int] | None = None,
                    min_age: timedelta | None = None) -> list[OutboxMessage]:
        """Take due rows under a lease: a row whose sender died is taken again after the lease.
        On PostgreSQL, SKIP LOCKED keeps two senders off the same rows; SQLite has one writer."""
        t = OutboxMessage.__table__
        cond = sa.and_(
            t.c.not_before <= now,
            sa.or_(t.c.state == "pending",
                   sa.and_(t.c.state == "sending", t.c.claimed_until < now)),
        )
        if ids is not None:
            cond = sa.and_(cond, t.c.id.in_(ids))
        if min_age is not None:
            cond = sa.and_(cond, t.c.created_at <= now - min_age)
        pick = sa.select(t.c.id).where(cond).order_by(t.c.priority, t.c.id).limit(limit)
        conn = await self.s.connection()
        if conn.dialect.name == "postgresql":
            pick = pick.with_for_update(skip_locked=True)
        else:
            pick = pick.scalar_subquery()
        stmt = (
            sa.update(t).where(t.c.id.in_(pick) if conn.dialect.name != "postgresql"
                               else t.c.id.in_(list(await conn.scalars(pick))))
            .values(state="sending", claimed_until=now + LEASE, attempts=t.c.attempts + 1)
            .returning(t.c.id, t.c.chat_id, t.c.method, t.c.payload, t.c.attempts,
                       t.c.priority, t.c.purpose, t.c.ticket_id, t.c.ref)
        )
        rows = (await conn.execute(stmt)).all()
        return sorted(rows, key=lambda r: (r.priority, r.id))

    async def mark_sent(self, row_id: int, now: datetime, message_id: int | None = None) -> None:
        conn = await self.s.connection()
        await conn.execute(_MARK_SENT, {"id": row_id, "at": now, "mid": message_id})

    async def retry_later(self, row_id: int, when: datetime, error: str) -> None:
        await self.s.execute(sa.update(OutboxMessage).where(OutboxMessage.id == row_id)
                             .values(state="pending", not_before=when, claimed_until=None,
                                     error=error[:500]))

    async def fail(self, row_id: int, error: str) -> None:
        await self.s.execute(sa.update(OutboxMessage).where(OutboxMessage.id == row_id)
                             .values(state="failed", claimed_until=None, error=error[:500]))

    async def pending_count(self) -> int:
        return int(await self.s.scalar(
            sa.select(sa.func.count()).select_from(OutboxMessage)
            .where(OutboxMessage.state.in_(("pending", "sending")))) or 0)

    async def pending_for_chat(self, chat_id: str, purpose: str) -> list[OutboxMessage]:
        return list(await self.s.scalars(
            sa.select(OutboxMessage).where(OutboxMessage.chat_id == str(chat_id),
                                           OutboxMessage.purpose == purpose,
                                           OutboxMessage.state == "pending")
            .order_by(OutboxMessage.id)))

    async def set_state(self, ids: list[int], state: str) -> None:
        await self.s.execute(sa.update(OutboxMessage).where(OutboxMessage.id.in_(ids))
                             .values(state=state, claimed_until=None))
