"""In-memory ports for dialog tests: the same Protocols storage/ implements, held to the same
behaviour by tests/test_ports_contract.py (where they disagree, the SQL side is what runs)."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from dialogs.notices import in_force
from dialogs.ports import (
    CODE_INTERVAL,
    CODE_TRIES,
    CODE_VALID,
    OPEN_STATUSES,
    Checked,
    Issued,
    KbMatch,
    NoticeView,
    OwnerMatch,
    Ports,
    SurveyView,
    TicketDraft,
    TicketEventView,
    TicketView,
    UrgeResult,
    Where,
)
from dialogs.units import UnitRef
from storage.verification_repo import e164, new_code


def _sort_key(s: str) -> tuple[int, str]:
    """3 before 10, 3A before 3B: the order storage/registry_repo.py lists designators in."""
    digits = "".join(ch for ch in s if ch.isdigit())
    return (int(digits) if digits else 10**9, s)


class MemRegistry:
    def __init__(self, rows: list[tuple[str, str, str, str, str, str, str]]):
        # (community, building, unit, room, surname, salutation, phone)
        self._units: dict[tuple[str, str, str, str], int] = {}
        # one person (phone and surname, as the importer's phone and name) owning several units
        # is one owner, as in the database
        people: dict[tuple[str, str], int] = {}
        self.owners: list[tuple[int, str, str, str, int]] = []  # id, surname, title, phone, unit
        for c, b, u, r, sn, title, phone in rows:
            uid = self._units.setdefault((c, b, u, r), len(self._units) + 1)
            oid = people.setdefault((phone, sn), len(people) + 1)
            self.owners.append((oid, sn, title, phone, uid))

    def _ref(self, uid: int) -> UnitRef:
        for (c, b, u, r), i in self._units.items():
            if i == uid:
                return UnitRef(uid, c, b, u, r)
        raise KeyError(uid)

    def units_of(self, owner_id: int) -> set[int]:
        return {uid for oid, *_, uid in self.owners if oid == owner_id}

    async def owners_by_phone(self, phone):
        found = [
            OwnerMatch(oid, sn, t, self._ref(uid))
            for oid, sn, t, p, uid in self.owners
            if p == phone
        ]
        return sorted(
            found, key=lambda m: (m.unit.community, m.unit.building, m.unit.unit, m.unit.room)
        )

    async def communities(self):
        return sorted({k[0] for k in self._units})

    async def buildings(self, community):
        return sorted({k[1] for k in self._units if k[0] == community}, key=_sort_key)

    async def units(self, community, building):
        return sorted({k[2] for k in self._units if k[:2] == (community, building)}, key=_sort_key)

    async def rooms(self, community, building, unit):
        return sorted(
            (k[3] for k in self._units if k[:3] == (community, building, unit)), key=_sort_key
        )

    async def find_unit(self, community, building, unit, room):
        uid = self._units.get((community, building, unit, room))
        if uid is None:
            return None
        owner = min((o[0] for o in self.owners if o[4] == uid), default=None)
        return self._ref(uid), owner

    async def is_empty(self):
        return not self._units


class MemVerification:
    """SMS codes as storage/verification_repo.py keeps them; `sent` stands for the outbox's SMS
    rows (phone in E.164, code), which a test reads the code back from."""

    def __init__(self):
        self.sms = True  # an SMS provider is configured
        self.codes: list[dict] = []
        self.sent: list[tuple[str, str]] = []
        self.proven: dict[int, str] = {}  # account -> the phone it proved

    def last_code(self, phone: str) -> str:
        return [c for p, c in self.sent if p == e164(phone)][-1]

    async def available(self):
        return self.sms

    async def issue_code(self, account_id, phone, now):
        last = max((c["created_at"] for c in self.codes if c["phone"] == phone), default=None)
        if last is not None and now < last + CODE_INTERVAL:
            return Issued(False, next_at=last + CODE_INTERVAL)
        code = new_code()
        self.codes.append(
            {
                "account_id": account_id,
                "phone": phone,
                "code": code,
                "created_at": now,
                "expires_at": now + CODE_VALID,
                "tries": 0,
                "verified_at": None,
            }
        )
        self.sent.append((e164(phone), code))
        return Issued(True, expires_at=now + CODE_VALID)

    async def check_code(self, account_id, phone, code, now):
        mine = [c for c in self.codes if (c["account_id"], c["phone"]) == (account_id, phone)]
        row = mine[-1] if mine else None
        if row is None or row["verified_at"] is not None:
            return Checked("expired")
        if row["tries"] >= CODE_TRIES:
            return Checked("exhausted")
        if now >= row["expires_at"]:
            return Checked("expired")
        if code == row["code"]:
            row["verified_at"] = now
            return Checked("ok")
        row["tries"] += 1
        left = CODE_TRIES - row["tries"]
        return Checked("wrong", left) if left > 0 else Checked("exhausted")

    async def mark_verified(self, account_id, phone, now):
        self.proven[account_id] = phone


class MemTickets:
    def __init__(
        self, registry: MemRegistry | None = None, verification: MemVerification | None = None
    ):
        self.registry = registry
        self.verification = verification
        self.rows: list[tuple[TicketDraft, TicketView]] = []
        self.counters: dict[str, int] = {}
        self.urged: dict[int, datetime] = {}
        self.urge_counts: dict[int, int] = {}
        # one fault, one ticket: ticket → account → [owner_id, active]
        self.subscribers: dict[int, dict[int, list]] = {}

    def _row(self, ticket_id: int) -> tuple[TicketDraft, TicketView] | None:
        return self.rows[ticket_id - 1] if 0 < ticket_id <= len(self.rows) else None

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
            reporter_verified=draft.reporter_verified,
        )
        self.rows.append((replace(draft), view))
        return replace(view, events=[])

    async def complete_emergency(self, ticket_id, draft, now):
        row = self._row(ticket_id)
        if row is None:
            return None
        stored, view = row
        view.description = stored.description = draft.description
        view.location = stored.location = draft.location
        view.category = stored.category = draft.category
        stored.details = {**stored.details, **draft.details}
        stored.attachments = stored.attachments + draft.attachments
        view.attachments += len(draft.attachments)
        view.events.append(TicketEventView(now, "emergency_completed", ""))
        return replace(view, events=[])

    async def attach_identity(self, ticket_id, draft, now):
        row = self._row(ticket_id)
        if row is None:
            return None
        stored, view = row
        if stored.unit_id is None and not view.unit_label:
            view.unit_label = stored.unit_label = draft.unit_label
            stored.unit_id, stored.unit_verified = draft.unit_id, draft.unit_verified
        stored.owner_id = stored.owner_id or draft.owner_id
        stored.contact_phone = stored.contact_phone or draft.contact_phone
        stored.reporter_verified = stored.reporter_verified or draft.reporter_verified
        view.reporter_verified = stored.reporter_verified
        stored.details = {
            **stored.details,
            "salutation": draft.details.get("salutation", ""),
            "reporter_role": draft.details.get("reporter_role", "owner"),
            "identity_verified": draft.details.get("identity_verified", False),
        }
        view.events.append(TicketEventView(now, "identity_added", ""))
        return replace(view, events=[])

    def _follows(self, ticket_id: int, account_id: int) -> bool:
        return self.subscribers.get(ticket_id, {}).get(account_id, [None, False])[1]

    def _private(self, d: TicketDraft, v: TicketView, account_id, owner_id) -> TicketView:
        """A subscriber sees the shared fault, never the reporter's home unit."""
        own = d.reporter_account_id == account_id or (owner_id and d.owner_id == owner_id)
        return replace(v, unit_label="") if self._follows(v.id, account_id) and not own else v

    def _sees(self, d: TicketDraft, account_id, owner_id, phone=None, ticket_id=0) -> bool:
        """The reporter, a subscriber of the shared fault, the same person on another channel
        (a phone both accounts proved), the owner it was filed for, and the owner of its
        verified unit."""
        if d.reporter_account_id == account_id or self._follows(ticket_id, account_id):
            return True
        proven = self.verification.proven if self.verification else {}
        if phone and proven.get(account_id) == phone == proven.get(d.reporter_account_id):
            return True
        if not owner_id:
            return False
        mine = self.registry.units_of(owner_id) if self.registry else set()
        return d.owner_id == owner_id or (d.unit_verified and d.unit_id in mine)

    async def visible(self, account_id, owner_id, offset, limit, verified_phone=None):
        items = sorted(
            (
                self._private(d, v, account_id, owner_id)
                for d, v in self.rows
                if self._sees(d, account_id, owner_id, verified_phone, v.id)
            ),
            key=lambda v: -v.id,
        )
        # a list shows no history: only get_visible reads it (as storage/ticket_repo.py)
        return [replace(v, events=[]) for v in items[offset : offset + limit]], len(items)

    async def get_visible(self, ticket_id, account_id, owner_id, verified_phone=None):
        row = self._row(ticket_id)
        if row is None or not self._sees(row[0], account_id, owner_id, verified_phone, ticket_id):
            return None
        return replace(self._private(*row, account_id, owner_id), events=list(row[1].events))

    async def add_details(self, ticket_id, note, attachments, now):
        row = self._row(ticket_id)
        if row is None:
            return
        row[1].attachments += len(attachments)
        row[1].events.append(TicketEventView(now, "details_added", note))

    async def urge(self, ticket_id, now, interval_minutes):
        row = self._row(ticket_id)
        if row is None or row[1].status not in OPEN_STATUSES:
            return UrgeResult("closed", row[1].number if row else "", "", False)
        view = row[1]
        last = self.urged.get(ticket_id)
        promised = view.promised_arrive_by or view.promised_contact_by
        overdue = promised is not None and now > promised
        if last is not None:
            waited = (now - last).total_seconds() / 60
            if waited < interval_minutes:
                wait = int(interval_minutes - waited) + 1
                return UrgeResult("too_soon", view.number, view.handler, overdue, wait)
        self.urged[ticket_id] = now
        self.urge_counts[ticket_id] = self.urge_counts.get(ticket_id, 0) + 1
        esc = self.urge_counts[ticket_id] >= 2 and overdue
        view.events.append(TicketEventView(now, "urge_escalated" if esc else "urge", ""))
        return UrgeResult("escalated" if esc else "sent", view.number, view.handler, overdue)

    async def withdraw(self, ticket_id, now):
        row = self._row(ticket_id)
        shared = any(active for _, active in self.subscribers.get(ticket_id, {}).values())
        if row is None or row[1].status not in OPEN_STATUSES or shared:
            return False
        row[1].status = "withdrawn"
        row[1].events.append(TicketEventView(now, "withdrawn", ""))
        return True

    # --- one fault, one ticket (as storage/ticket_subscribers.py) ---------------------------
    async def open_public_match(self, building, spot, category, since, community=""):
        for d, v in self.rows:  # oldest first
            place = d.details
            if (
                category
                and d.kind == "repair"
                and d.category == category
                and v.status in OPEN_STATUSES
                and v.created_at >= since
                and place.get("place") == "public"
                and place.get("pub_building") == building
                and place.get("pub_spot") == spot
                and place.get("community", "") == community
            ):
                return replace(v, unit_label="", events=[])
        return None

    async def subscribe(self, ticket_id, account_id, owner_id, now):
        row = self._row(ticket_id)
        if row is None or row[1].status not in OPEN_STATUSES:
            return False
        d, view = row
        subs = self.subscribers.setdefault(ticket_id, {})
        if d.reporter_account_id == account_id or self._follows(ticket_id, account_id):
            return False
        if owner_id is not None:
            reporter_is = (
                d.owner_id == owner_id and d.details.get("reporter_role", "owner") == "owner"
            )
            if reporter_is or any(o == owner_id and a for o, a in subs.values()):
                return False
        subs[account_id] = [owner_id, True]
        view.events.append(TicketEventView(now, "subscribed", ""))
        return True

    async def unsubscribe(self, ticket_id, account_id, now):
        if not self._follows(ticket_id, account_id):
            return False
        self.subscribers[ticket_id][account_id][1] = False
        self.row_view(ticket_id).events.append(TicketEventView(now, "unsubscribed", ""))
        return True

    def row_view(self, ticket_id: int) -> TicketView:
        return self.rows[ticket_id - 1][1]

    def reporters(self, ticket_id: int) -> int:
        """The card's count: the reporter and the active subscribers."""
        return 1 + sum(1 for _, a in self.subscribers.get(ticket_id, {}).values() if a)


class MemHandoffs:
    def __init__(self):
        self.requests: list[tuple[int, int | None]] = []
        self.closed: list[int] = []
        # the roster's on-duty agents as (name, role); a test may instead just set `on_duty`
        self.roster: list[tuple[str, str]] = []
        self.on_duty = ""

    async def request(self, account_id, ticket_id, now):
        """An owner has at most one open request: asking again returns it."""
        for hid, (acc, _) in enumerate(self.requests, 1):
            if acc == account_id and hid not in self.closed:
                return hid
        self.requests.append((account_id, ticket_id))
        return len(self.requests)

    async def close(self, handoff_id, now):
        if handoff_id not in self.closed:
            self.closed.append(handoff_id)

    async def duty_agent(self):
        # agents before supervisors, as storage/staff_repo.py picks
        ranked = sorted(self.roster, key=lambda a: a[1] == "supervisor")
        return ranked[0][0] if ranked else self.on_duty


class MemSurveys:
    """Surveys a test has put in (`add`), answered through the survey flow."""

    def __init__(self):
        self.rows: dict[int, SurveyView] = {}

    def add(self, survey: SurveyView) -> SurveyView:
        self.rows[survey.id] = survey
        return survey

    async def get(self, survey_id):
        found = self.rows.get(survey_id)
        return replace(found) if found is not None else None

    async def save(self, survey):
        self.rows[survey.id] = replace(survey)


class MemKnowledge:
    """常见问题 for dialog tests, ranked by a rule the test sets: each entry names the words that
    pick it and how sure each makes the match (storage/kb_repo.py does the real matching, and
    these tests do not depend on how well it does)."""

    def __init__(self):
        self.entries: dict[int, KbMatch] = {}
        self.cues: dict[int, dict[str, float]] = {}
        self.asked: list[tuple[str, Where]] = []
        self.misses: list[tuple[str, int | None, str]] = []
        # id → [account_id, entry_id, source, outcome], as kb_answers keeps them
        self.answers: dict[int, list] = {}

    def add(self, question: str, answer: str, cues: dict[str, float], category: str = "") -> int:
        entry_id = len(self.entries) + 1
        self.entries[entry_id] = KbMatch(entry_id, question, answer, category, 1.0)
        self.cues[entry_id] = dict(cues)
        return entry_id

    async def ask(self, question, where, now, limit=3):
        self.asked.append((question, where))
        scored = []
        for entry_id, cues in self.cues.items():
            score = max((v for word, v in cues.items() if word in question), default=0.0)
            if score > 0:
                scored.append(replace(self.entries[entry_id], score=score))
        return sorted(scored, key=lambda m: (-m.score, m.entry_id))[:limit]

    async def entry(self, entry_id):
        return self.entries.get(entry_id)

    async def log_miss(self, question, account_id, reason, now):
        self.misses.append((question, account_id, reason))

    async def log_answer(self, account_id, entry_id, source, now):
        answer_id = len(self.answers) + 1
        self.answers[answer_id] = [account_id, entry_id, source, "shown"]
        return answer_id

    async def answer_outcome(self, answer_id, outcome):
        row = self.answers.get(answer_id)
        if row is not None and row[3] == "shown":
            row[3] = outcome


class MemNotices:
    """Notices (公告) a test puts in (`add`); `active` keeps the rule storage/notice_repo.py
    keeps (dialogs/notices.py `in_force`)."""

    def __init__(self):
        self.rows: list[NoticeView] = []

    def add(self, kind, community, buildings, starts_at, ends_at, text="", urgent=False) -> int:
        view = NoticeView(
            len(self.rows) + 1, kind, community, tuple(buildings), starts_at, ends_at, text, urgent
        )
        self.rows.append(view)
        return view.id

    async def active(self, where, now):
        return [n for n in self.rows if in_force(n, where.community, where.building, now)]


SAMPLE = [
    ("", "3", "1", "3A", "王", "女士", "13800000301"),
    ("", "3", "1", "3B", "陈", "女士", "13800000302"),
    ("", "3", "1", "3E", "赵", "先生", "13800000303"),
    ("", "5", "1", "1201", "周", "女士", "13800000501"),
    ("", "5", "1", "1202", "周", "女士", "13800000501"),
    ("", "1", "2", "201", "欧阳", "女士", "13800000201"),
]


def memory_ports(rows=None) -> Ports:
    registry = MemRegistry(SAMPLE if rows is None else rows)
    verification = MemVerification()
    return Ports(
        registry=registry,
        tickets=MemTickets(registry, verification),
        handoffs=MemHandoffs(),
        surveys=MemSurveys(),
        verification=verification,
        notices=MemNotices(),
    )
