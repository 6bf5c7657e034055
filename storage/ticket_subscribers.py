"""The other owners of a shared public fault (one fault, one ticket, issue 12): who follows a
ticket besides its reporter, joined by the repair dialog or by a supervisor's merge, dropped by
a split or by "不是同一个问题". TicketRepo (the owner's side) and CaseRepo (the desk's side) both
go through here. Never commits."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from dialogs.ports import OPEN_STATUSES as OPEN
from dialogs.ports import TicketView

from .models import Ticket, TicketSubscriber
from .ticket_history import record_event


def followed_by(account_id: int):
    """The ids of the tickets this account follows, as a subquery (我的工单 lists them)."""
    return sa.select(TicketSubscriber.ticket_id).where(
        TicketSubscriber.account_id == account_id, TicketSubscriber.active
    )


def shared():
    """A ticket other owners reported too (its active subscribers), as a correlated clause."""
    return sa.exists().where(TicketSubscriber.ticket_id == Ticket.id, TicketSubscriber.active)


def unit_hidden(t: Ticket, account_id: int, owner_id: int | None, followed: set[int]) -> bool:
    """A subscriber sees the shared fault, never the reporter's home unit."""
    own = t.reporter_account_id == account_id or (owner_id is not None and t.owner_id == owner_id)
    return t.id in followed and not own


async def active(s: AsyncSession, ticket_id: int) -> list[TicketSubscriber]:
    """Who follows the ticket now, in the order they joined."""
    rows = await s.scalars(
        sa.select(TicketSubscriber)
        .where(TicketSubscriber.ticket_id == ticket_id, TicketSubscriber.active)
        .order_by(TicketSubscriber.at, TicketSubscriber.account_id)
    )
    return list(rows)


async def count(s: AsyncSession, ticket_id: int) -> int:
    return int(
        await s.scalar(
            sa.select(sa.func.count())
            .select_from(TicketSubscriber)
            .where(TicketSubscriber.ticket_id == ticket_id, TicketSubscriber.active)
        )
        or 0
    )


async def is_active(s: AsyncSession, ticket_id: int, account_id: int) -> bool:
    row = await s.get(TicketSubscriber, (ticket_id, account_id))
    return row is not None and row.active


def _reporter_is(t: Ticket, owner_id: int | None) -> bool:
    """The ticket's reporter is this registered owner (another of their accounts): filed for
    the owner, by the owner in person (a family member files under the owner's id too)."""
    role = (t.details or {}).get("reporter_role", "owner")
    return owner_id is not None and t.owner_id == owner_id and role == "owner"


async def join(
    s: AsyncSession,
    t: Ticket,
    account_id: int,
    owner_id: int | None,
    now: datetime,
    *,
    same_owner_counts: bool = True,
) -> bool:
    """The account follows `t`; False when it already hears of it: its reporter, an active
    subscriber, or (`same_owner_counts`) the same registered owner on another account, so
    nobody is counted or told twice."""
    if t.reporter_account_id == account_id:
        return False
    row = await s.get(TicketSubscriber, (t.id, account_id))
    if row is not None and row.active:
        return False
    if same_owner_counts and owner_id is not None:
        if _reporter_is(t, owner_id):
            return False
        if any(sub.owner_id == owner_id for sub in await active(s, t.id)):
            return False
    if row is None:
        s.add(
            TicketSubscriber(
                ticket_id=t.id, account_id=account_id, owner_id=owner_id, active=True, at=now
            )
        )
    else:
        # split out or declined earlier, and joined again
        row.active, row.owner_id, row.at = True, owner_id, now
    await s.flush()
    return True


async def leave(s: AsyncSession, ticket_id: int, account_id: int) -> bool:
    res = await s.execute(
        sa.update(TicketSubscriber)
        .where(
            TicketSubscriber.ticket_id == ticket_id,
            TicketSubscriber.account_id == account_id,
            TicketSubscriber.active,
        )
        .values(active=False)
    )
    return bool(res.rowcount)


class SharedFaults:
    """TicketRepo's part of the Tickets port for shared faults (needs `s` and `_view`)."""

    s: AsyncSession

    async def open_public_match(
        self,
        building: str,
        spot: str,
        category: str | None,
        since: datetime,
        community: str = "",
    ) -> TicketView | None:
        if not category:
            return None
        rows = await self.s.scalars(
            sa.select(Ticket)
            .where(
                Ticket.kind == "repair",
                Ticket.category == category,
                Ticket.status.in_(OPEN),
                Ticket.merged_into.is_(None),
                Ticket.created_at >= since,
            )
            .order_by(Ticket.created_at, Ticket.id)
        )
        # the place is in the details (JSON): read in Python, the same on SQLite and PostgreSQL;
        # a category's open repairs of the last hours are few
        for t in rows:
            d = t.details or {}
            if (
                d.get("place") == "public"
                and d.get("pub_building") == building
                and d.get("pub_spot") == spot
                and d.get("community", "") == community
            ):
                return await self._view(t, with_events=False, private=True)
        return None

    async def subscribe(
        self, ticket_id: int, account_id: int, owner_id: int | None, now: datetime
    ) -> bool:
        t = await self.s.get(Ticket, ticket_id)
        if t is None or t.status not in OPEN:
            return False
        if not await join(self.s, t, account_id, owner_id, now):
            return False
        t.updated_at = now
        await record_event(self.s, t.id, now, "owner", account_id, "subscribed")
        return True

    async def unsubscribe(self, ticket_id: int, account_id: int, now: datetime) -> bool:
        if not await leave(self.s, ticket_id, account_id):
            return False
        await record_event(self.s, ticket_id, now, "owner", account_id, "unsubscribed")
        return True
