"""The roster: agents (with their on-duty flag and role) and the departments' workers.
People are retired, not deleted, so their history stays readable. Never commits."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from .models import Agent, Worker


class StaffRepo:
    def __init__(self, session: AsyncSession):
        self.s = session

    # --- agents ---------------------------------------------------------------------------------
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
        a = await self.agent_by_telegram(telegram_user_id)
        if a is None:
            return False
        a.active = False  # kept, not deleted: their history stays readable
        return True

    async def set_on_duty(self, telegram_user_id: str, on: bool) -> bool:
        a = await self.agent_by_telegram(telegram_user_id)
        if a is None:
            return False
        a.on_duty = on
        return True

    async def agents(self) -> list[Agent]:
        return list(await self.s.scalars(sa.select(Agent).where(Agent.active).order_by(Agent.id)))

    async def supervisors(self) -> list[Agent]:
        return [a for a in await self.agents() if a.role == "supervisor"]

    async def on_duty_name(self) -> str:
        """The name of an agent on duty now, agents before supervisors, or "" when none is."""
        name = await self.s.scalar(
            sa.select(Agent.name)
            .where(Agent.active, Agent.on_duty)
            .order_by(Agent.role == "supervisor", Agent.id)
            .limit(1)
        )
        return name or ""

    # --- workers --------------------------------------------------------------------------------
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
        w = await self.worker(worker_id)
        if w is None:
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
