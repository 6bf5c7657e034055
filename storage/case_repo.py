"""The agents' casework on a ticket: read it under a lock, move it through its states, record
what was done, and the work orders sent out for it. The owner-facing side of the same aggregate
is TicketRepo; both write history through storage/ticket_history.py. Never commits."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from . import ticket_subscribers as subs
from .models import Attachment, Ticket, TicketEvent, TicketSubscriber, Worker, WorkOrder
from .stage_book import StepRules
from .ticket_history import NO_STEPS, record_event, ticket_events

# states that end a ticket's life: closing time is stamped on entering them
ENDED = ("closed", "withdrawn")


def promises_of(t: Ticket):
    """The ticket's promises as they stand: contact, arrival, completion."""
    return (t.promised_contact_by, t.promised_arrive_by, t.promised_complete_by)


class CaseRepo:
    def __init__(self, session: AsyncSession):
        self.s = session

    async def ticket(self, ticket_id: int, *, lock: bool = True) -> Ticket | None:
        """Re-read inside the step's transaction; on PostgreSQL, locked so two agents pressing
        at once are judged one after the other (SQLite has one writer anyway)."""
        q = sa.select(Ticket).where(Ticket.id == ticket_id)
        if lock and self.s.bind.dialect.name == "postgresql":
            q = q.with_for_update()
        return await self.s.scalar(q)

    async def id_of(self, number: str) -> int | None:
        """The ticket an agent names (/merge, /split); then read it by id, under its lock."""
        return await self.s.scalar(sa.select(Ticket.id).where(Ticket.number == number.upper()))

    async def event(
        self,
        ticket: Ticket,
        now: datetime,
        actor_kind: str,
        actor_id: int | None,
        action: str,
        from_status: str | None,
        to_status: str | None,
        note: str = "",
        steps: StepRules = NO_STEPS,
    ) -> None:
        await record_event(
            self.s,
            ticket.id,
            now,
            actor_kind,
            actor_id,
            action,
            from_status,
            to_status,
            note,
            steps=steps,
            promises=promises_of(ticket),
        )

    async def move(
        self,
        ticket: Ticket,
        to_status: str,
        now: datetime,
        actor_kind: str,
        actor_id: int | None,
        action: str,
        note: str = "",
        steps: StepRules = NO_STEPS,
    ) -> None:
        """Every transition is a history event: who, when, what, note."""
        before = ticket.status
        ticket.status = to_status
        ticket.updated_at = now
        if to_status in ENDED:
            ticket.closed_at = now
        await self.event(ticket, now, actor_kind, actor_id, action, before, to_status, note, steps)

    async def set_card_message(self, ticket_id: int, message_id: int) -> None:
        """The group message that shows this ticket's card, once the sender has posted it."""
        await self.s.execute(
            sa.update(Ticket).where(Ticket.id == ticket_id).values(card_message_id=message_id)
        )

    async def add_work_order(
        self,
        ticket: Ticket,
        department: str,
        worker_id: int | None,
        due_at: datetime | None,
        now: datetime,
        by: int | None,
    ) -> WorkOrder:
        wo = WorkOrder(
            ticket_id=ticket.id,
            department=department,
            worker_id=worker_id,
            due_at=due_at,
            state="open",
            created_at=now,
            created_by=by,
        )
        self.s.add(wo)
        await self.s.flush()
        return wo

    async def work_orders(self, ticket_id: int) -> list[tuple[WorkOrder, Worker | None]]:
        rows = await self.s.execute(
            sa.select(WorkOrder, Worker)
            .outerjoin(Worker, Worker.id == WorkOrder.worker_id)
            .where(WorkOrder.ticket_id == ticket_id)
            .order_by(WorkOrder.id)
        )
        return [(wo, w) for wo, w in rows]

    async def events(self, ticket_id: int) -> list[TicketEvent]:
        return await ticket_events(self.s, ticket_id)

    async def photo_count(self, ticket_id: int) -> int:
        return int(
            await self.s.scalar(
                sa.select(sa.func.count())
                .select_from(Attachment)
                .where(Attachment.ticket_id == ticket_id, Attachment.kind == "photo")
            )
            or 0
        )

    # --- one fault, one ticket: the other owners who reported it --------------------------------
    async def subscribers(self, ticket_id: int) -> list[TicketSubscriber]:
        return await subs.active(self.s, ticket_id)

    async def reporters(self, ticket_id: int) -> int:
        """Its reporter and the owners who reported the same fault since (the card's count)."""
        return 1 + await subs.count(self.s, ticket_id)

    async def is_subscriber(self, ticket_id: int, account_id: int) -> bool:
        return await subs.is_active(self.s, ticket_id, account_id)

    async def add_subscriber(
        self, ticket: Ticket, account_id: int, owner_id: int | None, now: datetime
    ) -> bool:
        """Moved here by a merge: every account that was told of the other ticket keeps being
        told, whoever it belongs to."""
        return await subs.join(self.s, ticket, account_id, owner_id, now, same_owner_counts=False)

    async def drop_subscriber(self, ticket_id: int, account_id: int) -> bool:
        return await subs.leave(self.s, ticket_id, account_id)
