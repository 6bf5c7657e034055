"""Handoffs: an owner's request for a person, from waiting through active to closed.
Never commits; the unit of work does."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from .models import Handoff
from .staff_repo import StaffRepo

# an owner has at most one of these at a time
HANDOFF_OPEN = ("waiting", "active")


class HandoffRepo:
    def __init__(self, session: AsyncSession):
        self.s = session

    async def request(self, account_id: int, ticket_id: int | None, now: datetime) -> int:
        open_one = await self.open_handoff(account_id)
        if open_one is not None:
            return open_one.id
        h = Handoff(account_id=account_id, ticket_id=ticket_id, state="waiting", created_at=now)
        self.s.add(h)
        await self.s.flush()
        return h.id

    async def duty_agent(self) -> str:
        """The name of an agent on duty now (the roster's on-duty flag), or "" when none is:
        an owner is never told a name that is not a real person's."""
        return await StaffRepo(self.s).on_duty_name()

    async def close(self, handoff_id: int, now: datetime) -> None:
        await self.s.execute(
            sa.update(Handoff)
            .where(Handoff.id == handoff_id, Handoff.state.in_(HANDOFF_OPEN))
            .values(state="closed", closed_at=now)
        )

    async def handoff(self, handoff_id: int) -> Handoff | None:
        return await self.s.get(Handoff, handoff_id)

    async def keep_long_text(
        self, handoff_id: int, at: datetime, message_id: int | None, text: str
    ) -> None:
        """The full words of a message the group saw clipped."""
        h = await self.handoff(handoff_id)
        if h is not None:
            entry = {"at": at.isoformat(), "message_id": message_id, "text": text}
            h.long_texts = [*(h.long_texts or []), entry]  # a new list: the change is seen

    async def open_handoff(self, account_id: int) -> Handoff | None:
        return await self.s.scalar(
            sa.select(Handoff)
            .where(Handoff.account_id == account_id, Handoff.state.in_(HANDOFF_OPEN))
            .order_by(Handoff.id.desc())
        )

    async def waiting_handoffs_due(self, before: datetime) -> list[Handoff]:
        """Requests nobody has answered since `before`, not yet nudged."""
        return list(
            await self.s.scalars(
                sa.select(Handoff).where(
                    Handoff.state == "waiting",
                    Handoff.created_at <= before,
                    Handoff.nudged_at.is_(None),
                )
            )
        )
