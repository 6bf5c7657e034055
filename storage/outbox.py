"""The outbox table: rows written in the step's transaction, claimed with a lease to send."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from .models import OutboxMessage

LEASE = timedelta(seconds=60)


class OutboxRepo:
    def __init__(self, session: AsyncSession):
        self.s = session

    async def add(self, chat_id: str, payload: dict[str, Any], now: datetime, *,
                  method: str = "sendMessage", priority: int = 5,
                  ticket_id: int | None = None) -> int:
        row = OutboxMessage(chat_id=str(chat_id), method=method, payload=payload,
                            priority=priority, state="pending", not_before=now, created_at=now,
                            ticket_id=ticket_id)
        self.s.add(row)
        await self.s.flush()
        return row.id

    async def claim(self, now: datetime, limit: int = 20,
                    ids: list[int] | None = None) -> list[OutboxMessage]:
        """Take due rows under a lease: a row whose sender died is taken again after the lease."""
        cond = sa.and_(
            OutboxMessage.not_before <= now,
            sa.or_(
                OutboxMessage.state == "pending",
                sa.and_(OutboxMessage.state == "sending", OutboxMessage.claimed_until < now),
            ),
        )
        if ids is not None:
            cond = sa.and_(cond, OutboxMessage.id.in_(ids))
        q = sa.select(OutboxMessage.id).where(cond).order_by(
            OutboxMessage.priority, OutboxMessage.id).limit(limit)
        if self.s.bind.dialect.name == "postgresql":
            q = q.with_for_update(skip_locked=True)
        picked = list(await self.s.scalars(q))
        if not picked:
            return []
        await self.s.execute(
            sa.update(OutboxMessage).where(OutboxMessage.id.in_(picked), cond)
            .values(state="sending", claimed_until=now + LEASE,
                    attempts=OutboxMessage.attempts + 1)
        )
        rows = await self.s.scalars(
            sa.select(OutboxMessage).where(OutboxMessage.id.in_(picked),
                                           OutboxMessage.state == "sending")
            .order_by(OutboxMessage.priority, OutboxMessage.id)
        )
        return list(rows)

    async def mark_sent(self, row_id: int, now: datetime) -> None:
        await self.s.execute(sa.update(OutboxMessage).where(OutboxMessage.id == row_id)
                             .values(state="sent", sent_at=now, claimed_until=None))

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
