"""Follow-ups, surveys and tasks. Claims take a lease: a restart neither drops nor repeats a row,
and on PostgreSQL two schedulers never take the same row (FOR UPDATE SKIP LOCKED)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from .models import FollowUp, Survey, Task

LEASE = timedelta(minutes=2)
SLA_KINDS = ("sla_warn", "sla_overdue")


class FollowUpRepo:
    def __init__(self, session: AsyncSession):
        self.s = session

    async def add(
        self,
        kind: str,
        due_at: datetime,
        now: datetime,
        *,
        ticket_id: int | None = None,
        account_id: int | None = None,
        urgent: bool = False,
        data: dict[str, Any] | None = None,
    ) -> FollowUp:
        f = FollowUp(
            kind=kind,
            ticket_id=ticket_id,
            account_id=account_id,
            due_at=due_at,
            urgent=urgent,
            state="pending",
            attempts=0,
            data=data or {},
            created_at=now,
        )
        self.s.add(f)
        await self.s.flush()
        return f

    async def claim(self, now: datetime, limit: int = 20) -> list[FollowUp]:
        t = FollowUp.__table__
        cond = sa.and_(
            t.c.due_at <= now,
            sa.or_(
                t.c.state == "pending", sa.and_(t.c.state == "claimed", t.c.claimed_until < now)
            ),
        )
        pick = sa.select(t.c.id).where(cond).order_by(t.c.due_at, t.c.id).limit(limit)
        conn = await self.s.connection()
        if conn.dialect.name == "postgresql":
            ids = list(await conn.scalars(pick.with_for_update(skip_locked=True)))
            if not ids:
                return []
            where = sa.and_(t.c.id.in_(ids), cond)
        else:
            where = sa.and_(t.c.id.in_(pick.scalar_subquery()), cond)
        claimed = list(
            await conn.scalars(
                sa.update(t)
                .where(where)
                .values(state="claimed", claimed_until=now + LEASE, attempts=t.c.attempts + 1)
                .returning(t.c.id)
            )
        )
        if not claimed:
            return []
        rows = await self.s.scalars(
            sa.select(FollowUp)
            .where(FollowUp.id.in_(claimed))
            .order_by(FollowUp.due_at, FollowUp.id)
            .execution_options(populate_existing=True)
        )
        return list(rows)

    async def get(self, fid: int) -> FollowUp | None:
        return await self.s.get(FollowUp, fid)

    def done(self, f: FollowUp, now: datetime) -> None:
        f.state, f.done_at, f.claimed_until = "done", now, None

    def reschedule(self, f: FollowUp, when: datetime) -> None:
        f.state, f.due_at, f.claimed_until = "pending", when, None

    async def cancel(self, ticket_id: int, kinds: tuple[str, ...]) -> None:
        await self.s.execute(
            sa.update(FollowUp)
            .where(
                FollowUp.ticket_id == ticket_id,
                FollowUp.kind.in_(kinds),
                FollowUp.state.in_(("pending", "claimed")),
            )
            .values(state="cancelled")
        )

    async def shift(self, ticket_id: int, kinds: tuple[str, ...], by: timedelta) -> None:
        """The SLA clock paused (等待配件, waiting on the owner): its deadlines move on."""
        rows = await self.s.scalars(
            sa.select(FollowUp).where(
                FollowUp.ticket_id == ticket_id,
                FollowUp.kind.in_(kinds),
                FollowUp.state == "pending",
            )
        )
        for f in rows:
            f.due_at = f.due_at + by
            if (f.data or {}).get("deadline"):
                moved = datetime.fromisoformat(f.data["deadline"]) + by
                f.data = {**f.data, "deadline": moved.isoformat()}

    async def pending(self, ticket_id: int | None = None) -> list[FollowUp]:
        q = sa.select(FollowUp).where(FollowUp.state.in_(("pending", "claimed")))
        if ticket_id is not None:
            q = q.where(FollowUp.ticket_id == ticket_id)
        return list(await self.s.scalars(q.order_by(FollowUp.due_at)))

    # --- surveys --------------------------------------------------------------------------------
    async def new_survey(self, **kw: Any) -> Survey:
        sv = Survey(**kw)
        self.s.add(sv)
        await self.s.flush()
        return sv

    async def survey(self, sid: int) -> Survey | None:
        return await self.s.get(Survey, sid)

    async def last_routine_survey(self, account_id: int) -> datetime | None:
        return await self.s.scalar(
            sa.select(sa.func.max(Survey.sent_at)).where(
                Survey.account_id == account_id, Survey.kind == "routine"
            )
        )

    async def open_survey_for(self, account_id: int) -> Survey | None:
        return await self.s.scalar(
            sa.select(Survey)
            .where(Survey.account_id == account_id, Survey.state == "open")
            .order_by(Survey.id.desc())
        )

    # --- tasks ----------------------------------------------------------------------------------
    async def new_task(
        self, kind: str, ticket_id: int, agent_id: int | None, due_at: datetime, now: datetime
    ) -> Task:
        t = Task(
            kind=kind,
            ticket_id=ticket_id,
            agent_id=agent_id,
            due_at=due_at,
            state="open",
            created_at=now,
        )
        self.s.add(t)
        await self.s.flush()
        return t

    async def task(self, task_id: int) -> Task | None:
        return await self.s.get(Task, task_id)
