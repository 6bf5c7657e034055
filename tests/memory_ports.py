"""In-memory ports for dialog tests: the same Protocols storage/ implements."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from dialogs.ports import OwnerMatch, Ports, TicketDraft, TicketEventView, TicketView
from dialogs.units import UnitRef


class MemRegistry:
    def __init__(self, rows: list[tuple[str, str, str, str, str, str, str]]):
        # (community, building, unit, room, surname, salutation, phone)
        self._units: dict[tuple[str, str, str, str], int] = {}
        self.owners: list[tuple[int, str, str, str, int]] = []  # id, surname, title, phone, unit
        for i, (c, b, u, r, sn, title, phone) in enumerate(rows, 1):
            uid = self._units.setdefault((c, b, u, r), len(self._units) + 1)
            self.owners.append((i, sn, title, phone, uid))

    def _ref(self, uid: int) -> UnitRef:
        for (c, b, u, r), i in self._units.items():
            if i == uid:
                return UnitRef(uid, c, b, u, r)
        raise KeyError(uid)

    async def owners_by_phone(self, phone):
        return [
            OwnerMatch(oid, sn, t, self._ref(uid))
            for oid, sn, t, p, uid in self.owners
            if p == phone
        ]

    async def communities(self):
        return sorted({k[0] for k in self._units})

    async def buildings(self, community):
        return sorted({k[1] for k in self._units if k[0] == community})

    async def units(self, community, building):
        return sorted({k[2] for k in self._units if k[:2] == (community, building)})

    async def rooms(self, community, building, unit):
        return sorted(k[3] for k in self._units if k[:3] == (community, building, unit))

    async def find_unit(self, community, building, unit, room):
        uid = self._units.get((community, building, unit, room))
        if uid is None:
            return None
        owner = next((o[0] for o in self.owners if o[4] == uid), None)
        return self._ref(uid), owner

    async def is_empty(self):
        return not self._units


class MemTickets:
    def __init__(self):
        self.rows: list[tuple[TicketDraft, TicketView]] = []
        self.counters: dict[str, int] = {}
        self.urged: dict[int, datetime] = {}
        self.urge_counts: dict[int, int] = {}

    async def create(self, draft: TicketDraft, now: datetime, prefix: str) -> TicketView:
        n = self.counters[prefix] = self.counters.get(prefix, 0) + 1
        view = TicketView(
            id=len(self.rows) + 1,
            number=f"{prefix}-{n:04d}",
            kind=draft.kind,
            category=draft.category,
            department=draft.department,
            status="new",
            urgent=draft.urgent,
            description=draft.description,
            location=draft.location,
            unit_label=draft.unit_label,
            created_at=now,
            promised_contact_by=draft.promised_contact_by,
            promised_arrive_by=draft.promised_arrive_by,
            attachments=len(draft.attachments),
            events=[TicketEventView(now, "created", "")],
        )
        self.rows.append((draft, view))
        return view

    async def complete_emergency(self, ticket_id, draft, now):
        old_draft, view = self.rows[ticket_id - 1]
        view.description = draft.description
        view.location = draft.location
        view.events.append(TicketEventView(now, "emergency_completed", ""))
        self.rows[ticket_id - 1] = (draft, view)
        return view

    async def attach_identity(self, ticket_id, draft, now):
        old_draft, view = self.rows[ticket_id - 1]
        if not view.unit_label:
            view.unit_label = draft.unit_label
            old_draft.unit_label, old_draft.unit_id = draft.unit_label, draft.unit_id
        old_draft.owner_id = old_draft.owner_id or draft.owner_id
        old_draft.contact_phone = old_draft.contact_phone or draft.contact_phone
        view.events.append(TicketEventView(now, "identity_added", ""))
        return view

    def _visible(self, account_id, owner_id):
        return [
            v
            for d, v in self.rows
            if d.reporter_account_id == account_id or (owner_id and d.owner_id == owner_id)
        ]

    async def visible(self, account_id, owner_id, offset, limit):
        items = sorted(self._visible(account_id, owner_id), key=lambda v: -v.id)
        return [replace(v) for v in items[offset : offset + limit]], len(items)

    async def get_visible(self, ticket_id, account_id, owner_id):
        return next((v for v in self._visible(account_id, owner_id) if v.id == ticket_id), None)

    async def add_details(self, ticket_id, note, attachments, now):
        view = self.rows[ticket_id - 1][1]
        view.attachments += len(attachments)
        view.events.append(TicketEventView(now, "details_added", note))

    async def urge(self, ticket_id, now, interval_minutes):
        from dialogs.ports import UrgeResult

        view = self.rows[ticket_id - 1][1]
        last = self.urged.get(ticket_id)
        promised = view.promised_arrive_by or view.promised_contact_by
        overdue = promised is not None and now > promised
        if last is not None and (now - last).total_seconds() < interval_minutes * 60:
            return UrgeResult("too_soon", view.number, view.handler, overdue, 1)
        self.urged[ticket_id] = now
        self.urge_counts[ticket_id] = self.urge_counts.get(ticket_id, 0) + 1
        esc = self.urge_counts[ticket_id] >= 2 and overdue
        return UrgeResult("escalated" if esc else "sent", view.number, view.handler, overdue)

    async def withdraw(self, ticket_id, now):
        view = self.rows[ticket_id - 1][1]
        if view.status not in ("new", "accepted", "dispatched", "in_progress"):
            return False
        view.status = "withdrawn"
        view.events.append(TicketEventView(now, "withdrawn", ""))
        return True


class MemHandoffs:
    def __init__(self):
        self.requests: list[tuple[int, int | None]] = []
        self.closed: list[int] = []
        self.on_duty = ""

    async def request(self, account_id, ticket_id, now):
        self.requests.append((account_id, ticket_id))
        return len(self.requests)

    async def close(self, handoff_id, now):
        self.closed.append(handoff_id)

    async def duty_agent(self):
        return self.on_duty


SAMPLE = [
    ("", "3", "1", "3A", "王", "女士", "13800000301"),
    ("", "3", "1", "3B", "陈", "女士", "13800000302"),
    ("", "3", "1", "3E", "赵", "先生", "13800000303"),
    ("", "5", "1", "1201", "周", "女士", "13800000501"),
    ("", "5", "1", "1202", "周", "女士", "13800000501"),
    ("", "1", "2", "201", "欧阳", "女士", "13800000201"),
]


def memory_ports(rows=None) -> Ports:
    return Ports(registry=MemRegistry(rows or SAMPLE), tickets=MemTickets(), handoffs=MemHandoffs())
