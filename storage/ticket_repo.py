"""Tickets as the owner's dialogs see them: create, list what is visible, add, withdraw, urge,
and join a shared public fault (one fault, one ticket). Never commits; the unit of work does."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from dialogs.ports import OPEN_STATUSES as OPEN
from dialogs.ports import TicketDraft, TicketEventView, TicketView

from . import ticket_subscribers as subs
from .models import Account, Attachment, FollowUp, Ticket, TicketCounter, UnitOwner
from .sql_helpers import upsert_insert
from .stage_book import completion_deadline
from .ticket_history import record_event, ticket_events
from .ticket_subscribers import SharedFaults


class TicketRepo(SharedFaults):
    def __init__(self, session: AsyncSession):
        self.s = session

    async def next_number(self, prefix: str) -> str:
        """BX-20261123-0007: one upsert, so two instances never hand out the same number."""
        ins = upsert_insert(self.s)(TicketCounter).values(prefix=prefix, last=1)
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
            reporter_verified=draft.reporter_verified,
            promised_contact_by=draft.promised_contact_by,
            promised_arrive_by=draft.promised_arrive_by,
            promised_complete_by=next(
                (due for kind, due, _, data in draft.followups if completion_deadline(kind, data)),
                None,
            ),
            details=draft.details,
            created_at=now,
            updated_at=now,
        )
        self.s.add(t)
        await self.s.flush()
        await record_event(
            self.s, t.id, now, "owner", draft.reporter_account_id, "created", None, "new", ""
        )
        for a in draft.attachments:
            self.s.add(
                Attachment(ticket_id=t.id, kind=a["kind"], file_id=a["file_id"], created_at=now)
            )
        for kind, due, urgent, data in draft.followups:
            self.s.add(
                FollowUp(
                    kind=kind,
                    ticket_id=t.id,
                    account_id=draft.reporter_account_id,
                    due_at=due,
                    urgent=urgent,
                    state="pending",
                    attempts=0,
                    data=dict(data),
                    created_at=now,
                )
            )
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
            self.s.add(
                Attachment(ticket_id=t.id, kind=a["kind"], file_id=a["file_id"], created_at=now)
            )
        await record_event(
            self.s, t.id, now, "owner", draft.reporter_account_id, "emergency_completed"
        )
        await self.s.flush()
        return await self._view(t, with_events=False)

    async def attach_identity(self, ticket_id: int, draft: TicketDraft, now: datetime):
        """An urgent ticket made before the owner identified: who and where, once known."""
        t = await self.s.get(Ticket, ticket_id)
        if t is None:
            return None
        if t.unit_id is None and not t.unit_label:
            t.unit_id, t.unit_label = draft.unit_id, draft.unit_label
            t.unit_verified = draft.unit_verified
        t.owner_id = t.owner_id or draft.owner_id
        t.contact_phone = t.contact_phone or draft.contact_phone
        # reported before the phone was proven, proven since (an SMS code typed back)
        t.reporter_verified = t.reporter_verified or draft.reporter_verified
        t.details = {
            **(t.details or {}),
            "salutation": draft.details.get("salutation", ""),
            "reporter_role": draft.details.get("reporter_role", "owner"),
            "identity_verified": draft.details.get("identity_verified", False),
        }
        t.updated_at = now
        await record_event(self.s, t.id, now, "owner", draft.reporter_account_id, "identity_added")
        await self.s.flush()
        return await self._view(t, with_events=False)

    def _visible_clause(self, account_id: int, owner_id: int | None, verified_phone: str | None):
        # one indexed lookup per way of seeing a ticket, united: an OR of IN-subqueries makes
        # PostgreSQL filter every row of tickets (bench/report.py: 200 ms at a million tickets)
        ids = [
            sa.select(Ticket.id).where(Ticket.reporter_account_id == account_id),
            # a subscriber of a shared public fault follows it there too
            subs.followed_by(account_id),
        ]
        if verified_phone:
            # the same person on another channel: an account that proved the same phone, and
            # only when this account proved it too
            proven = sa.and_(Account.phone == verified_phone, Account.phone_verified)
            me = sa.exists().where(Account.id == account_id, proven)
            ids.append(
                sa.select(Ticket.id).where(
                    me, Ticket.reporter_account_id.in_(sa.select(Account.id).where(proven))
                )
            )
        if owner_id:
            ids.append(sa.select(Ticket.id).where(Ticket.owner_id == owner_id))
            my_units = sa.select(UnitOwner.unit_id).where(
                UnitOwner.owner_id == owner_id, UnitOwner.active
            )
            ids.append(
                sa.select(Ticket.id).where(Ticket.unit_id.in_(my_units), Ticket.unit_verified)
            )
        # correlate(None): each branch reads tickets on its own, not the outer query's row
        return Ticket.id.in_(sa.union(*(q.correlate(None) for q in ids)))

    async def visible(
        self,
        account_id: int,
        owner_id: int | None,
        offset: int,
        limit: int,
        verified_phone: str | None = None,
    ):
        where = self._visible_clause(account_id, owner_id, verified_phone)
        # the page and the total in one query (a window count), the page's attachments in one
        # more: 我的工单 is asked on every tap, three round trips instead of eight
        page = (
            await self.s.execute(
                sa.select(Ticket, sa.func.count().over())
                .where(where)
                .order_by(Ticket.created_at.desc(), Ticket.id.desc())
                .offset(offset)
                .limit(limit)
            )
        ).all()
        if page:
            total = page[0][1]
        else:  # past the last page: the window has no row to carry the total
            total = await self.s.scalar(sa.select(sa.func.count()).select_from(Ticket).where(where))
        ids = [t.id for t, _ in page]
        counts: dict[int, int] = {}
        if ids:
            counts = dict(
                (
                    await self.s.execute(
                        sa.select(Attachment.ticket_id, sa.func.count())
                        .where(Attachment.ticket_id.in_(ids))
                        .group_by(Attachment.ticket_id)
                    )
                ).all()
            )
        followed = set(await self.s.scalars(subs.followed_by(account_id)))
        views = [
            await self._view(
                t,
                with_events=False,
                attachments=counts.get(t.id, 0),
                private=subs.unit_hidden(t, account_id, owner_id, followed),
            )
            for t, _ in page
        ]
        return views, int(total or 0)

    async def get_visible(
        self,
        ticket_id: int,
        account_id: int,
        owner_id: int | None,
        verified_phone: str | None = None,
    ):
        t = await self.s.scalar(
            sa.select(Ticket).where(
                Ticket.id == ticket_id,
                self._visible_clause(account_id, owner_id, verified_phone),
            )
        )
        if t is None:
            return None
        followed = {t.id} if await subs.is_active(self.s, t.id, account_id) else set()
        private = subs.unit_hidden(t, account_id, owner_id, followed)
        return await self._view(t, with_events=True, private=private)

    async def add_details(
        self, ticket_id: int, note: str, attachments: list[dict[str, str]], now: datetime
    ) -> None:
        t = await self.s.get(Ticket, ticket_id)
        if t is None:
            return
        for a in attachments:
            self.s.add(
                Attachment(
                    ticket_id=ticket_id, kind=a["kind"], file_id=a["file_id"], created_at=now
                )
            )
        t.updated_at = now
        await record_event(
            self.s, ticket_id, now, "owner", t.reporter_account_id, "details_added", note=note
        )

    async def withdraw(self, ticket_id: int, now: datetime) -> bool:
        """Only an open ticket can be withdrawn: a conditional update, safe against a race. Not
        one that other owners reported too: the fault is still theirs."""
        res = await self.s.execute(
            sa.update(Ticket)
            .where(Ticket.id == ticket_id, Ticket.status.in_(OPEN), ~subs.shared())
            .values(status="withdrawn", updated_at=now, closed_at=now)
            .returning(Ticket.reporter_account_id)
        )
        row = res.first()
        if row is None:
            return False
        await record_event(
            self.s, ticket_id, now, "owner", row[0], "withdrawn", "open", "withdrawn", ""
        )
        return True

    async def urge(self, ticket_id: int, now: datetime, interval_minutes: int):
        from dialogs.ports import UrgeResult

        t = await self.s.get(Ticket, ticket_id)
        if t is None or t.status not in OPEN:
            return UrgeResult("closed", t.number if t else "", "", False)
        promised = t.promised_arrive_by or t.promised_contact_by
        overdue = promised is not None and now > promised
        if t.last_urged_at is not None:
            waited = (now - t.last_urged_at).total_seconds() / 60
            if waited < interval_minutes:
                return UrgeResult(
                    "too_soon",
                    t.number,
                    t.handler_name,
                    overdue,
                    int(interval_minutes - waited) + 1,
                )
        t.urge_count += 1
        t.last_urged_at = now
        outcome = "escalated" if (t.urge_count >= 2 and overdue) else "sent"
        if outcome == "escalated":
            t.escalated = True
        action = "urge_escalated" if outcome == "escalated" else "urge"
        await record_event(self.s, t.id, now, "owner", t.reporter_account_id, action)
        return UrgeResult(outcome, t.number, t.handler_name, overdue)

    async def _view(
        self, t: Ticket, with_events: bool, attachments: int | None = None, private: bool = False
    ) -> TicketView:
        n_att = (
            attachments
            if attachments is not None
            else await self.s.scalar(
                sa.select(sa.func.count())
                .select_from(Attachment)
                .where(Attachment.ticket_id == t.id)
            )
        )
        events: list[TicketEventView] = []
        if with_events:
            rows = await ticket_events(self.s, t.id)
            events = [TicketEventView(e.at, e.action, e.note) for e in rows]
        return TicketView(
            id=t.id,
            number=t.number,
            kind=t.kind,
            category=t.category,
            department=t.department,
            status=t.status,
            urgent=t.urgent,
            description=t.description,
            location=t.location,
            unit_label="" if private else t.unit_label,
            created_at=t.created_at,
            promised_contact_by=t.promised_contact_by,
            promised_arrive_by=t.promised_arrive_by,
            handler=t.handler_name,
            attachments=int(n_att or 0),
            events=events,
            work=await self._work(t.id) if with_events else [],
            reporter_verified=t.reporter_verified,
        )

    async def _work(self, ticket_id: int) -> list[str]:
        from .models import Worker, WorkOrder

        rows = await self.s.execute(
            sa.select(WorkOrder.department, Worker.name, WorkOrder.due_at)
            .outerjoin(Worker, Worker.id == WorkOrder.worker_id)
            .where(WorkOrder.ticket_id == ticket_id)
            .order_by(WorkOrder.id)
        )
        return [f"{d}{n or ''}" for d, n, _ in rows]
