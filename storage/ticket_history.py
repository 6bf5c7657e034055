"""A ticket's history: the one place TicketEvent rows are written and read back, for the owner's
dialogs (TicketRepo) and the agents' casework (CaseRepo) alike, so every path records the same
who, when, what and note. Never commits; the unit of work does."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from .models import TicketEvent


def record_event(
    session: AsyncSession,
    ticket_id: int,
    at: datetime,
    actor_kind: str,
    actor_id: int | None,
    action: str,
    from_status: str | None = None,
    to_status: str | None = None,
    note: str = "",
) -> None:
    session.add(
        TicketEvent(
            ticket_id=ticket_id,
            at=at,
            actor_kind=actor_kind,
            actor_id=actor_id,
            action=action,
            from_status=from_status,
            to_status=to_status,
            note=note,
        )
    )


async def ticket_events(session: AsyncSession, ticket_id: int) -> list[TicketEvent]:
    """Oldest first; events of one instant keep the order they were written in."""
    return list(
        await session.scalars(
            sa.select(TicketEvent)
            .where(TicketEvent.ticket_id == ticket_id)
            .order_by(TicketEvent.at, TicketEvent.id)
        )
    )
