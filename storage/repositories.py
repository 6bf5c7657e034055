"""Repositories over one AsyncSession. They never commit: the unit of work does."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from dialogs.ports import OwnerMatch, TicketDraft, TicketEventView, TicketView
from dialogs.units import UnitRef

from .models import (
    Account,
    Attachment,
    FollowUp,
    Handoff,
    JSONType,
    Owner,
    ProcessedUpdate,
    Ticket,
    TicketCounter,
    TicketEvent,
    Unit,
    UnitOwner,
    UTCDateTime,
)

OPEN_STATES = ("new", "accepted", "dispatched", "in_progress")

# The three statements every dialog step runs, prepared once: building and caching a statement
# per call cost more CPU than running it (bench/dialogs.py).
_OPEN_SQL = (
    "SELECT a.id, a.owner_id, a.phone, c.account_id AS has_conv, c.state FROM accounts a "
    "LEFT JOIN conversations c ON c.account_id = a.id WHERE a.channel = :ch AND a.external_id = :ext"
)
_SAVE_SQL = "UPDATE conversations SET state = ?, updated_at = ? WHERE account_id = ?"
_FIRST_TIME_SQL = (
    "INSERT INTO processed_updates (update_id, at) VALUES (?, ?) "
    "ON CONFLICT DO NOTHING RETURNING update_id"
)


def _sqlite_time(when: datetime) -> str:
    """The text SQLAlchemy's SQLite DateTime stores (naive UTC), so both paths read alike."""
    return when.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


_OPEN = sa.text(
    "SELECT a.id, a.owner_id, a.phone, c.account_id AS has_conv, c.state FROM accounts a "
    "LEFT JOIN conversations c ON c.account_id = a.id WHERE a.channel = :ch AND a.external_id = :ext"
).columns(sa.column("id", sa.Integer), sa.column("owner_id", sa.Integer),
          sa.column("phone", sa.String), sa.column("has_conv", sa.Integer),
          sa.column("state", JSONType))
_SAVE = sa.text(
    "UPDATE conversations SET state = :state, updated_at = :at WHERE account_id = :aid"
).bindparams(sa.bindparam("state", type_=JSONType), sa.bindparam("at", type_=UTCDateTime()))
_NEW_CONV = sa.text(
    "INSERT INTO conversations (account_id, state, mode, updated_at) "
    "VALUES (:aid, :state, 'bot', :at)"
).bindparams(sa.bindparam("state", type_=JSONType), sa.bindparam("at", type_=UTCDateTime()))
_FIRST_TIME = sa.text(
    "INSERT INTO processed_updates (update_id, at) VALUES (:uid, :at) "
    "ON CONFLICT DO NOTHING RETURNING update_id"
).bindparams(sa.bindparam("at", type_=UTCDateTime()))


def _upsert(session: AsyncSession):
    return postgresql.insert if session.bind.dialect.name == "postgresql" else sqlite.insert


def _sort_key(s: str) -> tuple[int, str]:
    """3 before 10, 3A before 3B: registry designators sorted the way people count."""
    digits = "".join(ch for ch in s if ch.isdigit())
    return (int(digits) if digits else 10**9, s)


@dataclass(slots=True)
class ConversationRow:
    account_id: int
    owner_id: int | None
    phone: str
    state: dict[str, Any]
    is_new: bool = False


class RegistryRepo:
    def __init__(self, session: AsyncSession):
        self.s = session

    async def owners_by_phone(self, phone: str) -> list[OwnerMatch]:
        rows = await self.s.execute(
            sa.select(Owner, Unit)
            .join(UnitOwner, UnitOwner.owner_id == Owner.id)
            .join(Unit, Unit.id == UnitOwner.unit_id)
            .where(Owner.phone == phone, Owner.active, UnitOwner.active)
            .order_by(Unit.community, Unit.building, Unit.unit, Unit.room)
        )
        return [
            OwnerMatch(o.id, o.surname, o.salutation,
                       UnitRef(u.id, u.community, u.building, u.unit, u.room))
            for o, u in rows
        ]

    async def communities(self) -> list[str]:
        rows = await self.s.scalars(sa.select(Unit.community).distinct())
        return sorted(rows)

    async def buildings(self, community: str) -> list[str]:
        rows = await self.s.scalars(
            sa.select(Unit.building).where(Unit.community == community).distinct()
        )
        return sorted(rows, key=_sort_key)

    async def units(self, community: str, building: str) -> list[str]:
        rows = await self.s.scalars(
            sa.select(Unit.unit)
            .where(Unit.community == community, Unit.building == building)
            .distinct()
        )
        return sorted(rows, key=_sort_key)

    async def rooms(self, community: str, building: str, unit: str) -> list[str]:
        rows = await self.s.scalars(
            sa.select(Unit.room).where(
                Unit.community == community, Unit.building == building, Unit.unit == unit
            )
        )
        return sorted(rows, key=_sort_key)

    async def find_unit(self, community: str, building: str, unit: str, room: str):
        u = await self.s.scalar(
            sa.select(Unit).where(
                Unit.community == community, Unit.building == building,
                Unit.unit == unit, Unit.room == room,
            )
        )
        if u is None:
            return None
        owner_id = await self.s.scalar(
            sa.select(UnitOwner.owner_id)
            .join(Owner, Owner.id == UnitOwner.owner_id)
            .where(UnitOwner.unit_id == u.id, UnitOwner.active, Owner.active)
            .order_by(UnitOwner.owner_id)
            .limit(1)
        )
        return UnitRef(u.id, u.community, u.building, u.unit, u.room), owner_id

    async def is_empty(self) -> bool:
        return (await self.s.scalar(sa.select(sa.func.count()).select_from(Unit))) == 0


class TicketRepo:
    def __init__(self, session: AsyncSession):
        self.s = session

    async def next_number(self, prefix: str) -> str:
        """BX-20261123-0007: one upsert, so two instances never hand out the same number."""
        ins = _upsert(self.s)(TicketCounter).values(prefix=prefix, last=1)
        stmt = ins.on_conflict_do_update(
            index_elements=[TicketCounter.prefix], set_={"last": TicketCounter.last + 1}
        ).returning(TicketCounter.last)
        n = (await self.s.execute(stmt)).scalar_one()
        return f"{prefix}-{n:04d}"

    async def create(self, draft: TicketDraft, now: datetime, prefix: str) -> TicketView:
        t = Ticket(
            number=await self.next_number(prefix),
            kind=draft.kind,
            category=draft.category,
            department=draft.department,
            urgent=draft.urgent,
            emergency=draft.emergency,
            status="new",
            description=draft.description,
            location=draft.location,
            time_slot=draft.time_slot,
            reporter_account_id=draft.reporter_account_id,
            owner_id=draft.owner_id,
            contact_phone=draft.contact_phone,
            unit_id=draft.unit_id,
            unit_label=draft.unit_label,
            unit_verified=draft.unit_verified,
            promised_contact_by=draft.promised_contact_by,
            promised_arrive_by=draft.promised_arrive_by,
            details=draft.details,
            created_at=now,
            updated_at=now,
        )
        self.s.add(t)
        await self.s.flush()
        self._event(t.id, now, "owner", draft.reporter_account_id, "created", None, "new", "")
        for a in draft.attachments:
            self.s.add(Attachment(ticket_id=t.id, kind=a["kind"], file_id=a["file_id"],
                                  created_at=now))
        for kind, due, urgent in draft.followups:
            self.s.add(FollowUp(kind=kind, ticket_id=t.id, account_id=draft.reporter_account_id,
                                due_at=due, urgent=urgent, state="pending", attempts=0, data={},
                                created_at=now))
        await self.s.flush()
        return await self._view(t, with_events=False, attachments=len(draft.attachments))

    async def complete_emergency(self, ticket_id: int, draft: TicketDraft, now: datetime):
        t = await self.s.get(Ticket, ticket_id)
        if t is None:
            return None
        t.description = draft.description
        t.location = draft.location
        t.category = draft.category
        t.details = {**(t.details or {}), **draft.details}
        t.updated_at = now
        for a in draft.attachments:
            self.s.add(Attachment(ticket_id=t.id, kind=a["kind"], file_id=a["file_id"],
                                  created_at=now))
        self._event(t.id, now, "owner", draft.reporter_account_id, "emergency_completed",
                    None, None, "")
        await self.s.flush()
        return await self._view(t, with_events=False)

    def _visible_clause(self, account_id: int, owner_id: int | None):
        conds = [Ticket.reporter_account_id == account_id]
        if owner_id:
            conds.append(Ticket.owner_id == owner_id)
            my_units = sa.select(UnitOwner.unit_id).where(
                UnitOwner.owner_id == owner_id, UnitOwner.active
            )
            conds.append(sa.and_(Ticket.unit_id.in_(my_units), Ticket.unit_verified))
        return sa.or_(*conds)

    async def visible(self, account_id: int, owner_id: int | None, offset: int, limit: int):
        where = self._visible_clause(account_id, owner_id)
        total = await self.s.scalar(sa.select(sa.func.count()).select_from(Ticket).where(where))
        rows = await self.s.scalars(
            sa.select(Ticket).where(where).order_by(Ticket.created_at.desc(), Ticket.id.desc())
            .offset(offset).limit(limit)
        )
        return [await self._view(t, with_events=False) for t in rows], int(total or 0)

    async def get_visible(self, ticket_id: int, account_id: int, owner_id: int | None):
        t = await self.s.scalar(
            sa.select(Ticket).where(Ticket.id == ticket_id,
                                    self._visible_clause(account_id, owner_id))
        )
        return None if t is None else await self._view(t, with_events=True)

    async def add_details(self, ticket_id: int, note: str, attachments: list[dict[str, str]],
                          now: datetime) -> None:
        t = await self.s.get(Ticket, ticket_id)
        if t is None:
            return
        for a in attachments:
            self.s.add(Attachment(ticket_id=ticket_id, kind=a["kind"], file_id=a["file_id"],
                                  created_at=now))
        t.updated_at = now
        self._event(ticket_id, now, "owner", t.reporter_account_id, "details_added", None, None,
                    note)

    async def withdraw(self, ticket_id: int, now: datetime) -> bool:
        """Only an open ticket can be withdrawn: a conditional update, safe against a race."""
        res = await self.s.execute(
            sa.update(Ticket)
            .where(Ticket.id == ticket_id, Ticket.status.in_(OPEN_STATES))
            .values(status="withdrawn", updated_at=now, closed_at=now)
            .returning(Ticket.reporter_account_id)
        )
        row = res.first()
        if row is None:
            return False
        self._event(ticket_id, now, "owner", row[0], "withdrawn", "open", "withdrawn", "")
        return True

    async def urge(self, ticket_id: int, now: datetime, interval_minutes: int):
        from dialogs.ports import UrgeResult

        t = await self.s.get(Ticket, ticket_id)
        if t is None or t.status not in OPEN_STATES:
            return UrgeResult("closed", t.number if t else "", "", False)
        promised = t.promised_arrive_by or t.promised_contact_by
        overdue = promised is not None and now > promised
        if t.last_urged_at is not None:
            waited = (now - t.last_urged_at).total_seconds() / 60
            if waited < interval_minutes:
                return UrgeResult("too_soon", t.number, t.handler_name, overdue,
                                  int(interval_minutes - waited) + 1)
        t.urge_count += 1
        t.last_urged_at = now
        outcome = "escalated" if (t.urge_count >= 2 and overdue) else "sent"
        if outcome == "escalated":
            t.escalated = True
        self._event(t.id, now, "owner", t.reporter_account_id,
                    "urge_escalated" if outcome == "escalated" else "urge", None, None, "")
        return UrgeResult(outcome, t.number, t.handler_name, overdue)

    def _event(self, ticket_id, at, actor_kind, actor_id, action, from_s, to_s, note) -> None:
        self.s.add(TicketEvent(ticket_id=ticket_id, at=at, actor_kind=actor_kind,
                               actor_id=actor_id, action=action, from_status=from_s,
                               to_status=to_s, note=note))

    async def _view(self, t: Ticket, with_events: bool,
                    attachments: int | None = None) -> TicketView:
        n_att = attachments if attachments is not None else await self.s.scalar(
            sa.select(sa.func.count()).select_from(Attachment).where(Attachment.ticket_id == t.id)
        )
        events: list[TicketEventView] = []
        if with_events:
            rows = await self.s.scalars(
                sa.select(TicketEvent).where(TicketEvent.ticket_id == t.id)
                .order_by(TicketEvent.at, TicketEvent.id)
            )
            events = [TicketEventView(e.at, e.action, e.note) for e in rows]
        return TicketView(
            id=t.id, number=t.number, kind=t.kind, category=t.category, department=t.department,
            status=t.status, urgent=t.urgent, description=t.description, location=t.location,
            unit_label=t.unit_label, created_at=t.created_at,
            promised_contact_by=t.promised_contact_by, promised_arrive_by=t.promised_arrive_by,
            handler=t.handler_name, attachments=int(n_att or 0), events=events,
            work=await self._work(t.id) if with_events else [],
        )

    async def _work(self, ticket_id: int) -> list[str]:
        from .models import Worker, WorkOrder

        rows = await self.s.execute(
            sa.select(WorkOrder.department, Worker.name, WorkOrder.due_at)
            .outerjoin(Worker, Worker.id == WorkOrder.worker_id)
            .where(WorkOrder.ticket_id == ticket_id).order_by(WorkOrder.id))
        return [f"{d}{n or ''}" for d, n, _ in rows]


class HandoffRepo:
    def __init__(self, session: AsyncSession):
        self.s = session

    async def request(self, account_id: int, ticket_id: int | None, now: datetime) -> int:
        open_one = await self.s.scalar(
            sa.select(Handoff).where(Handoff.account_id == account_id,
                                     Handoff.state.in_(("waiting", "active")))
        )
        if open_one is not None:
            return open_one.id
        h = Handoff(account_id=account_id, ticket_id=ticket_id, state="waiting", created_at=now)
        self.s.add(h)
        await self.s.flush()
        return h.id

    async def close(self, handoff_id: int, now: datetime) -> None:
        await self.s.execute(sa.update(Handoff).where(
            Handoff.id == handoff_id, Handoff.state.in_(("waiting", "active")))
            .values(state="closed", closed_at=now))


class AccountRepo:
    def __init__(self, session: AsyncSession):
        self.s = session
        self._raw: Any = None

    async def get_or_create(self, channel: str, external_id: str, chat_id: str,
                            display_name: str, now: datetime) -> Account:
        acc = await self.s.scalar(
            sa.select(Account).where(Account.channel == channel, Account.external_id == external_id)
        )
        if acc is None:
            acc = Account(channel=channel, external_id=external_id, chat_id=chat_id,
                          display_name=display_name[:128], created_at=now)
            self.s.add(acc)
            await self.s.flush()
        return acc

    async def _sqlite(self):
        """The plain sqlite3 connection under this transaction, when we run on the inline
        embedded default: the three hot statements then skip SQLAlchemy's per-call machinery
        (most of a step's CPU, bench/dialogs.py) while staying inside the same transaction."""
        if self._raw is False:
            return None
        if self._raw is None:
            conn = await self.s.connection()
            self._raw = False
            if conn.dialect.name == "sqlite":
                from .sqlite_inline import InlineConnection

                raw = await conn.get_raw_connection()
                drv = raw.driver_connection
                if isinstance(drv, InlineConnection):
                    self._raw = drv._conn
        return self._raw or None

    async def open_conversation(self, channel: str, external_id: str, chat_id: str,
                                display_name: str, now: datetime) -> ConversationRow:
        """The account and its conversation state in one query (the hot path of every step)."""
        raw = await self._sqlite()
        if raw is not None:
            found = raw.execute(_OPEN_SQL, {"ch": channel, "ext": external_id}).fetchone()
            if found is not None and found[3] is not None:
                return ConversationRow(found[0], found[1], found[2] or "",
                                       json.loads(found[4]) if found[4] else {})
        conn = await self.s.connection()
        row = (await conn.execute(_OPEN, {"ch": channel, "ext": external_id})).first()
        if row is None:
            acc = await self.get_or_create(channel, external_id, chat_id, display_name, now)
            await conn.execute(_NEW_CONV, {"aid": acc.id, "state": {}, "at": now})
            return ConversationRow(acc.id, None, "", {})
        if row.has_conv is None:
            await conn.execute(_NEW_CONV, {"aid": row.id, "state": {}, "at": now})
        return ConversationRow(row.id, row.owner_id, row.phone or "", dict(row.state or {}))

    async def save_conversation(self, conv: ConversationRow, state: dict[str, Any],
                                now: datetime) -> None:
        raw = await self._sqlite()
        if raw is not None:
            raw.execute(_SAVE_SQL, (json.dumps(state), _sqlite_time(now), conv.account_id))
        else:
            conn = await self.s.connection()
            await conn.execute(_SAVE, {"aid": conv.account_id, "state": state, "at": now})
        profile = state.get("profile") or {}
        owner_id, phone = profile.get("owner_id"), profile.get("phone", conv.phone)
        if (owner_id, phone) != (conv.owner_id, conv.phone):
            # the account maps to the person once identified, for this and any later channel
            await self.s.execute(sa.update(Account).where(Account.id == conv.account_id)
                                 .values(owner_id=owner_id, phone=phone))

    async def prune_updates(self, before: datetime) -> int:
        """Telegram redelivers an update for a day at most: older ids need not be kept."""
        res = await self.s.execute(sa.delete(ProcessedUpdate).where(ProcessedUpdate.at < before))
        return res.rowcount or 0

    async def first_time(self, update_id: int, now: datetime) -> bool:
        """Record an update id; False when it was handled already (a duplicate delivery)."""
        raw = await self._sqlite()
        if raw is not None:
            cur = raw.execute(_FIRST_TIME_SQL, (update_id, _sqlite_time(now)))
            return cur.fetchone() is not None
        conn = await self.s.connection()
        return (await conn.execute(_FIRST_TIME, {"uid": update_id, "at": now})).first() is not None
