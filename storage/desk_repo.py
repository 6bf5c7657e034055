"""The agent desk's data: roster, workers, work orders, ticket transitions, handoffs.
Never commits; the caller's unit of work does."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import flag_modified

from .models import (
    Account,
    Agent,
    Attachment,
    Conversation,
    Handoff,
    OutboxMessage,
    Ticket,
    TicketEvent,
    Worker,
    WorkOrder,
)


class DeskRepo:
    def __init__(self, session: AsyncSession):
        self.s = session

    # --- roster ---------------------------------------------------------------------------------
    async def agent_by_telegram(self, telegram_user_id: int | str) -> Agent | None:
        return await self.s.scalar(
            sa.select(Agent).where(Agent.telegram_user_id == str(telegram_user_id), Agent.active)
        )

    async def agent(self, agent_id: int | None) -> Agent | None:
        return None if agent_id is None else await self.s.get(Agent, agent_id)

    async def add_agent(self, telegram_user_id: str, name: str, role: str, now: datetime) -> Agent:
        a = await self.s.scalar(sa.select(Agent).where(Agent.telegram_user_id == telegram_user_id))
        if a is None:
            a = Agent(
                telegram_user_id=telegram_user_id, name=name, role=role, active=True, created_at=now
            )
            self.s.add(a)
        else:
            a.name, a.role, a.active = name, role, True
        await self.s.flush()
        return a

    async def remove_agent(self, telegram_user_id: str) -> bool:
        a = await self.s.scalar(
            sa.select(Agent).where(Agent.telegram_user_id == telegram_user_id, Agent.active)
        )
        if a is None:
            return False
        a.active = False  # kept, not deleted: their history stays readable
        return True

    async def set_on_duty(self, telegram_user_id: str, on: bool) -> bool:
        a = await self.s.scalar(
            sa.select(Agent).where(Agent.telegram_user_id == telegram_user_id, Agent.active)
        )
        if a is None:
            return False
        a.on_duty = on
        return True

    async def agents(self) -> list[Agent]:
        return list(await self.s.scalars(sa.select(Agent).where(Agent.active).order_by(Agent.id)))

    async def supervisors(self) -> list[Agent]:
        return [a for a in await self.agents() if a.role == "supervisor"]

    async def add_worker(
        self, department: str, name: str, phone: str, telegram_user_id: str | None
    ) -> Worker:
        w = Worker(
            department=department,
            name=name,
            phone=phone,
            telegram_user_id=telegram_user_id,
            active=True,
        )
        self.s.add(w)
        await self.s.flush()
        return w

    async def remove_worker(self, worker_id: int) -> bool:
        w = await self.s.get(Worker, worker_id)
        if w is None or not w.active:
            return False
        w.active = False
        return True

    async def workers(self, department: str | None = None) -> list[Worker]:
        q = sa.select(Worker).where(Worker.active)
        if department:
            q = q.where(Worker.department == department)
        return list(await self.s.scalars(q.order_by(Worker.department, Worker.id)))

    async def worker(self, worker_id: int) -> Worker | None:
        w = await self.s.get(Worker, worker_id)
        return w if w is not None and w.active else None

    async def worker_by_telegram(self, telegram_user_id: int | str) -> Worker | None:
        return await self.s.scalar(
            sa.select(Worker).where(Worker.telegram_user_id == str(telegram_user_id), Worker.active)
        )

    # --- tickets --------------------------------------------------------------------------------
    async def ticket(self, ticket_id: int, *, lock: bool = True) -> Ticket | None:
        q = sa.select(Ticket).where(Ticket.id == ticket_id)
        if lock and self.s.bind.dialect.name == "postgresql":
            q = q.with_for_update()
        return await self.s.scalar(q)

    def event(
        self,
        ticket: Ticket,
        now: datetime,
        actor_kind: str,
        actor_id: int | None,
        action: str,
        from_status: str | None,
        to_status: str | None,
        note: str = "",
    ) -> None:
        self.s.add(
            TicketEvent(
                ticket_id=ticket.id,
                at=now,
                actor_kind=actor_kind,
                actor_id=actor_id,
                action=action,
                from_status=from_status,
                to_status=to_status,
                note=note,
            )
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
    ) -> None:
        """Every transition is a history event: who, when, what, note."""
        before = ticket.status
        ticket.status = to_status
        ticket.updated_at = now
        if to_status in ("closed", "withdrawn"):
            ticket.closed_at = now
        self.event(ticket, now, actor_kind, actor_id, action, before, to_status, note)

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
        return list(
            await self.s.scalars(
                sa.select(TicketEvent)
                .where(TicketEvent.ticket_id == ticket_id)
                .order_by(TicketEvent.at, TicketEvent.id)
            )
        )

    async def photo_count(self, ticket_id: int) -> int:
        return int(
            await self.s.scalar(
                sa.select(sa.func.count())
                .select_from(Attachment)
                .where(Attachment.ticket_id == ticket_id, Attachment.kind == "photo")
            )
            or 0
        )

    # --- owners' chats and conversations ------------------------------------------------------
    async def account(self, account_id: int) -> Account | None:
        return await self.s.get(Account, account_id)

    async def account_by_external(self, channel: str, external_id: str) -> Account | None:
        return await self.s.scalar(
            sa.select(Account).where(Account.channel == channel, Account.external_id == external_id)
        )

    async def conversation(self, account_id: int) -> Conversation | None:
        return await self.s.get(Conversation, account_id)

    def save_state(self, conv: Conversation, state: dict[str, Any], now: datetime) -> None:
        conv.state = state
        flag_modified(conv, "state")
        conv.updated_at = now

    # --- handoffs -------------------------------------------------------------------------------
    async def handoff(self, handoff_id: int) -> Handoff | None:
        return await self.s.get(Handoff, handoff_id)

    async def open_handoff(self, account_id: int) -> Handoff | None:
        return await self.s.scalar(
            sa.select(Handoff)
            .where(Handoff.account_id == account_id, Handoff.state.in_(("waiting", "active")))
            .order_by(Handoff.id.desc())
        )

    async def waiting_handoffs_due(self, before: datetime) -> list[Handoff]:
        return list(
            await self.s.scalars(
                sa.select(Handoff).where(
                    Handoff.state == "waiting",
                    Handoff.created_at <= before,
                    Handoff.nudged_at.is_(None),
                )
            )
        )

    # --- messages already sent into the group -------------------------------------------------
    async def sent_in_chat(self, chat_id: str, message_id: int) -> OutboxMessage | None:
        return await self.s.scalar(
            sa.select(OutboxMessage).where(
                OutboxMessage.chat_id == str(chat_id), OutboxMessage.sent_message_id == message_id
            )
        )

    async def supersede_card_edits(self, ticket_id: int) -> None:
        """Several edits of one card waiting to be sent merge into the latest (the group is a
        scarce channel)."""
        await self.s.execute(
            sa.update(OutboxMessage)
            .where(
                OutboxMessage.ticket_id == ticket_id,
                OutboxMessage.purpose == "card_edit",
                OutboxMessage.state == "pending",
            )
            .values(state="superseded")
        )

    async def set_card_message(self, ticket_id: int, message_id: int) -> None:
        await self.s.execute(
            sa.update(Ticket).where(Ticket.id == ticket_id).values(card_message_id=message_id)
        )
