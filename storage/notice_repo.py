"""Notices (公告) and who was told of them; the verified owners of the units a notice affects.
Never commits; the unit of work does. The same statements on SQLite and PostgreSQL: buildings
are a JSON list, filtered in Python over the few notices of one community."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from dialogs.notices import in_force
from dialogs.ports import NoticeView, Where

from .models import Account, Notice, NoticeRecipient, Owner, Unit, UnitOwner

log = logging.getLogger(__name__)

ACTIVE, ENDED = "active", "ended"


@dataclass(frozen=True, slots=True)
class NoticeRecord:
    """A notice with its bookkeeping, for the agents' list and the CLI."""

    view: NoticeView
    state: str
    created_by: str
    created_at: datetime
    ended_at: datetime | None
    told: int  # owners' accounts it was pushed to


@dataclass(frozen=True, slots=True)
class Listener:
    """An account to tell: where it is reached, and how the owner is addressed (王女士)."""

    account_id: int
    channel: str
    chat_id: str
    salutation: str
    last_inbound_at: datetime | None = None
    sent_since_inbound: int = 0


def _view(n: Notice) -> NoticeView:
    return NoticeView(
        id=n.id,
        kind=n.kind,
        community=n.community,
        buildings=tuple(n.buildings or ()),
        starts_at=n.starts_at,
        ends_at=n.ends_at,
        text=n.text,
        urgent=n.urgent,
    )


class NoticesRepo:
    """Implements dialogs.ports.Notices (`active`), and what the agents and the CLI do."""

    def __init__(self, session: AsyncSession):
        self.s = session

    async def active(self, where: Where, now: datetime) -> list[NoticeView]:
        rows = await self.s.scalars(
            sa.select(Notice)
            .where(
                Notice.state == ACTIVE,
                Notice.community == where.community,
                Notice.starts_at <= now,
                Notice.ends_at > now,
            )
            .order_by(Notice.starts_at, Notice.id)
        )
        views = [_view(n) for n in rows]
        return [v for v in views if in_force(v, where.community, where.building, now)]

    async def create(
        self,
        kind: str,
        community: str,
        buildings: list[str] | tuple[str, ...],
        starts_at: datetime,
        ends_at: datetime,
        text: str,
        urgent: bool,
        created_by: str,
        now: datetime,
    ) -> int:
        n = Notice(
            kind=kind,
            community=community,
            buildings=list(dict.fromkeys(buildings)),
            starts_at=starts_at,
            ends_at=ends_at,
            text=text,
            urgent=urgent,
            state=ACTIVE,
            created_by=created_by[:64],
            created_at=now,
            updated_at=now,
        )
        self.s.add(n)
        await self.s.flush()
        return n.id

    async def get(self, notice_id: int) -> NoticeRecord | None:
        n = await self.s.get(Notice, notice_id)
        if n is None:
            return None
        return (await self._records([n]))[0]

    async def list(
        self, active_only: bool = True, now: datetime | None = None
    ) -> list[NoticeRecord]:
        """Newest first. `active_only`: not ended by hand, and (given `now`) not yet over."""
        q = sa.select(Notice).order_by(Notice.id.desc())
        if active_only:
            q = q.where(Notice.state == ACTIVE)
            if now is not None:
                q = q.where(Notice.ends_at > now)
        return await self._records(list(await self.s.scalars(q)))

    async def _records(self, rows: list[Notice]) -> list[NoticeRecord]:
        counts: dict[int, int] = {}
        if rows:
            res = await self.s.execute(
                sa.select(NoticeRecipient.notice_id, sa.func.count())
                .where(NoticeRecipient.notice_id.in_([n.id for n in rows]))
                .group_by(NoticeRecipient.notice_id)
            )
            counts = {nid: int(c) for nid, c in res}
        return [
            NoticeRecord(
                _view(n), n.state, n.created_by, n.created_at, n.ended_at, counts.get(n.id, 0)
            )
            for n in rows
        ]

    async def end(self, notice_id: int, now: datetime, actor: str) -> bool:
        """Ended early (or by hand after its time): False when there is no such active notice."""
        res = await self.s.execute(
            sa.update(Notice)
            .where(Notice.id == notice_id, Notice.state == ACTIVE)
            .values(state=ENDED, ended_at=now, updated_at=now)
        )
        done = bool(res.rowcount)
        if done:
            log.info("notice %s ended by %s", notice_id, actor)
        return done

    async def extend(self, notice_id: int, new_end: datetime, now: datetime, actor: str) -> bool:
        """A new end, later than now and than the start: False when not possible."""
        if new_end <= now:
            return False
        res = await self.s.execute(
            sa.update(Notice)
            .where(Notice.id == notice_id, Notice.state == ACTIVE, Notice.starts_at < new_end)
            .values(ends_at=new_end, updated_at=now)
        )
        done = bool(res.rowcount)
        if done:
            log.info("notice %s extended by %s", notice_id, actor)
        return done

    # --- who was told ---------------------------------------------------------------------------
    async def add_recipients(self, notice_id: int, account_ids: list[int], now: datetime) -> None:
        known = set(await self.recipients(notice_id))
        for aid in dict.fromkeys(account_ids):
            if aid not in known:
                self.s.add(NoticeRecipient(notice_id=notice_id, account_id=aid, at=now))
        await self.s.flush()

    async def recipients(self, notice_id: int) -> list[int]:
        rows = await self.s.scalars(
            sa.select(NoticeRecipient.account_id)
            .where(NoticeRecipient.notice_id == notice_id)
            .order_by(NoticeRecipient.account_id)
        )
        return list(rows)

    async def listeners(self, account_ids: list[int]) -> list[Listener]:
        """The recorded recipients again, as accounts to write to (the same owners are told of
        an early end or an extension, and nobody else)."""
        if not account_ids:
            return []
        rows = await self.s.execute(
            sa.select(Account, Owner)
            .outerjoin(Owner, sa.and_(Owner.phone == Account.phone, Owner.active))
            .where(Account.id.in_(account_ids))
            .order_by(Account.id, Owner.id)
        )
        return _one_per_account(rows)

    async def audience(
        self, community: str, buildings: list[str] | tuple[str, ...]
    ) -> list[Listener]:
        """The verified owners of the affected units: accounts whose phone was proven (a contact
        of their own, an SMS code) and is the registry phone of an active owner of a unit there.
        An account that only typed a number, a family member or a tenant is not one."""
        q = (
            sa.select(Account, Owner)
            .join(Owner, sa.and_(Owner.phone == Account.phone, Owner.active))
            .join(UnitOwner, sa.and_(UnitOwner.owner_id == Owner.id, UnitOwner.active))
            .join(Unit, Unit.id == UnitOwner.unit_id)
            .where(Account.phone_verified, Account.phone != "", Unit.community == community)
            .order_by(Account.id, Owner.id)
        )
        if buildings:
            q = q.where(Unit.building.in_(list(buildings)))
        return _one_per_account(await self.s.execute(q))


def _one_per_account(rows) -> list[Listener]:
    out: dict[int, Listener] = {}
    for acc, owner in rows:
        if acc.id in out:
            continue
        out[acc.id] = Listener(
            acc.id,
            acc.channel,
            acc.chat_id,
            f"{owner.surname}{owner.salutation}" if owner is not None else "",
            acc.last_inbound_at,
            acc.sent_since_inbound or 0,
        )
    return list(out.values())
