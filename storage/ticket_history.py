"""A ticket's history: the one place TicketEvent rows are written and read back, for the owner's
dialogs (TicketRepo) and the agents' casework (CaseRepo) alike, so every path records the same
who, when, what and note. Never commits; the unit of work does."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from . import stage_book
from .models import TicketEvent
from .stage_book import NO_PROMISES, Promises, StepRules

NO_STEPS = StepRules()


async def record_event(
    session: AsyncSession,
    ticket_id: int,
    at: datetime,
    actor_kind: str,
    actor_id: int | None,
    action: str,
    from_status: str | None = None,
    to_status: str | None = None,
    note: str = "",
    *,
    steps: StepRules = NO_STEPS,
    promises: Promises = NO_PROMISES,
) -> None:
    """One line of history, folded into the ticket's stage row in the same transaction
    (storage/stage_book.py): `steps` say which progress steps are a contact or an arrival,
    `promises` are the ticket's (contact, arrive, complete) as they stand now."""
    held = await stage_book.mark(
        session, ticket_id, at, actor_kind, actor_id, action, to_status, note, steps, promises
    )
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
            promise_at=held,
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
