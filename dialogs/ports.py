"""What the flows need from the outside world, as Protocols.

storage/ implements them over SQLAlchemy; tests implement them in memory.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal, Protocol

from .units import UnitRef


@dataclass(frozen=True, slots=True)
class OwnerMatch:
    owner_id: int
    surname: str
    salutation: str  # 女士 / 先生
    unit: UnitRef


@dataclass(slots=True)
class TicketDraft:
    kind: str  # repair / complaint / consult
    category: str | None
    department: str
    urgent: bool
    description: str
    location: str
    reporter_account_id: int
    owner_id: int | None
    contact_phone: str
    unit_id: int | None
    unit_label: str
    unit_verified: bool
    promised_contact_by: datetime | None
    promised_arrive_by: datetime | None
    time_slot: str = ""
    # False: a WeChat owner who had not proven the phone by an SMS code (身份未核实 on the card)
    reporter_verified: bool = True
    attachments: list[dict[str, str]] = field(default_factory=list)
    details: dict[str, Any] = field(default_factory=dict)
    emergency: bool = False
    # follow-ups created with the ticket, in its transaction: (kind, due, urgent, data)
    followups: list[tuple[str, datetime, bool, dict[str, Any]]] = field(default_factory=list)


@dataclass(slots=True)
class TicketEventView:
    at: datetime
    action: str
    note: str


# A ticket's statuses that still await work (the owner may add to, urge or withdraw it). Defined
# once, here in the lowest layer: desk/ (the state machine), storage/ and bot/ import it.
OPEN_STATUSES = ("new", "accepted", "dispatched", "in_progress")


@dataclass(slots=True)
class TicketView:
    id: int
    number: str
    kind: str
    category: str | None
    department: str
    status: str
    urgent: bool
    description: str
    location: str
    unit_label: str
    created_at: datetime
    promised_contact_by: datetime | None
    promised_arrive_by: datetime | None
    handler: str = ""
    attachments: int = 0
    work: list[str] = field(default_factory=list)
    events: list[TicketEventView] = field(default_factory=list)
    reporter_verified: bool = True


class Registry(Protocol):
    async def owners_by_phone(self, phone: str) -> list[OwnerMatch]: ...
    async def communities(self) -> list[str]: ...
    async def buildings(self, community: str) -> list[str]: ...
    async def units(self, community: str, building: str) -> list[str]: ...
    async def rooms(self, community: str, building: str, unit: str) -> list[str]: ...
    async def find_unit(
        self, community: str, building: str, unit: str, room: str
    ) -> tuple[UnitRef, int | None] | None:
        """The known unit and its registered owner (the first, when several), or None."""

    async def is_empty(self) -> bool: ...


class Tickets(Protocol):
    async def create(self, draft: TicketDraft, now: datetime, local_day: str) -> TicketView: ...
    async def complete_emergency(
        self, ticket_id: int, draft: TicketDraft, now: datetime
    ) -> TicketView | None: ...
    async def attach_identity(
        self, ticket_id: int, draft: TicketDraft, now: datetime
    ) -> TicketView | None: ...
    async def visible(
        self,
        account_id: int,
        owner_id: int | None,
        offset: int,
        limit: int,
        verified_phone: str | None = None,
    ) -> tuple[list[TicketView], int]:
        """Tickets this account reported or follows (a subscriber of a shared public fault)
        or that belong to the owner's units, newest first.
        `verified_phone`: the phone this account has proven (a contact of its own, an SMS
        code); tickets reported from any other account that proved the same phone are the same
        person's (another channel). Ignored unless this account did prove it."""

    async def get_visible(
        self,
        ticket_id: int,
        account_id: int,
        owner_id: int | None,
        verified_phone: str | None = None,
    ) -> TicketView | None: ...
    async def add_details(
        self, ticket_id: int, note: str, attachments: list[dict[str, str]], now: datetime
    ) -> None: ...
    async def withdraw(self, ticket_id: int, now: datetime) -> bool:
        """False when it is not open, or other owners reported the same fault (subscribers):
        their fault is still there."""

    async def urge(self, ticket_id: int, now: datetime, interval_minutes: int) -> UrgeResult: ...

    # one fault, one ticket (issue 12): a public-area repair joins the open ticket it matches
    async def open_public_match(
        self,
        building: str,
        spot: str,
        category: str | None,
        since: datetime,
        community: str = "",
    ) -> TicketView | None:
        """The earliest open public-area repair at this building and spot, in this category,
        filed at or after `since` and not merged into another."""

    async def subscribe(
        self, ticket_id: int, account_id: int, owner_id: int | None, now: datetime
    ) -> bool:
        """The account hears the ticket's progress, completion and survey like its reporter.
        False when it does already (its reporter, a subscriber, the same registered owner)."""

    async def unsubscribe(self, ticket_id: int, account_id: int, now: datetime) -> bool:
        """The owner said it is not the same fault after all; False when not subscribed."""


class Handoffs(Protocol):
    async def request(self, account_id: int, ticket_id: int | None, now: datetime) -> int: ...
    async def close(self, handoff_id: int, now: datetime) -> None: ...
    async def duty_agent(self) -> str:
        """The name of a roster agent on duty now, or "" (never a made-up name)."""


@dataclass(slots=True)
class UrgeResult:
    outcome: str  # sent / too_soon / escalated / closed
    number: str
    handler: str
    overdue: bool
    wait_minutes: int = 0


@dataclass(slots=True)
class SurveyView:
    """One 回访 as the survey flow works on it: its answers so far and the ticket it is about."""

    id: int
    ticket_id: int
    account_id: int
    kind: str  # survey / recheck / improvement / routine
    state: str  # open / answered / no_answer
    step: str  # overall / speed / attitude / solved / comment / done
    ticket_number: str
    handler_name: str
    # the owner already answered 已解决 on the completion message: not asked again
    owner_confirmed: bool = False
    overall: int | None = None
    speed: int | None = None
    attitude: int | None = None
    solved: bool | None = None
    comment: str = ""
    mood: str = ""
    answered_at: datetime | None = None


class Surveys(Protocol):
    async def get(self, survey_id: int) -> SurveyView | None: ...
    async def save(self, survey: SurveyView) -> None:
        """Store its step, answers, state, mood and answered time."""


# --- proving a typed phone by SMS (WeChat gives no number) ------------------------------------
# a code is valid this long and may be tried this often; one number gets at most one code per
# CODE_INTERVAL, whichever account asks
CODE_VALID = timedelta(minutes=5)
CODE_TRIES = 5
CODE_INTERVAL = timedelta(minutes=1)


@dataclass(frozen=True, slots=True)
class Issued:
    """A code asked for: sent (after commit), valid until `expires_at`; or not, because this
    number had one less than CODE_INTERVAL ago: a new one may be sent at `next_at`."""

    ok: bool
    expires_at: datetime | None = None
    next_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Checked:
    """A typed code against the account's latest code for that phone. `expired`: none is live
    (never sent, used already, or past CODE_VALID); `exhausted`: CODE_TRIES wrong tries."""

    outcome: Literal["ok", "wrong", "expired", "exhausted"]
    tries_left: int = 0


class Verification(Protocol):
    async def available(self) -> bool:
        """Whether codes can be sent at all (an SMS provider is configured)."""

    async def issue_code(self, account_id: int, phone: str, now: datetime) -> Issued:
        """A new code for `phone` (canonical, dialogs/phone.py), stored hashed; its SMS is
        queued in the same transaction, so it goes out after commit and survives a crash."""

    async def check_code(
        self, account_id: int, phone: str, code: str, now: datetime
    ) -> Checked: ...

    async def mark_verified(self, account_id: int, phone: str, now: datetime) -> None:
        """The account has proven `phone` (an SMS code typed back, a Telegram contact of its
        own): the same person as any other account that proved it."""


# --- answers from the knowledge base (常见问题) -----------------------------------------------
@dataclass(frozen=True, slots=True)
class KbMatch:
    """One entry an owner's question matched, with its score (0..1: how sure the match is)."""

    entry_id: int
    question: str
    answer: str
    category: str
    score: float


@dataclass(frozen=True, slots=True)
class Where:
    """Whose question: the owner's community and building, when known (entries may apply to
    some buildings only)."""

    community: str = ""
    building: str = ""


class Knowledge(Protocol):
    async def ask(
        self, question: str, where: Where, now: datetime, limit: int = 3
    ) -> list[KbMatch]:
        """The best entries for the question, best first, only those valid at `now` and for
        `where`."""

    async def entry(self, entry_id: int) -> KbMatch | None: ...

    async def log_miss(
        self, question: str, account_id: int | None, reason: str, now: datetime
    ) -> None:
        """No answer helped (reason: none / declined / other): for `/faq misses`."""

    async def log_answer(
        self, account_id: int | None, entry_id: int | None, source: str, now: datetime
    ) -> int:
        """The bot answered a consultation by itself (source: entry / notice; entry_id None
        for a notice), outcome "shown" until the owner says more: the new row's id."""

    async def answer_outcome(self, answer_id: int, outcome: str) -> None:
        """What the owner made of the answer (solved / declined / human). Only an answer still
        "shown" changes: the first word back is the one that counts."""


# --- notices of outages (公告) -----------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class NoticeView:
    id: int
    kind: str  # water / power / gas / lift / works / other
    community: str
    buildings: tuple[str, ...]  # empty: every building
    starts_at: datetime
    ends_at: datetime
    text: str
    urgent: bool


class Notices(Protocol):
    async def active(self, where: Where, now: datetime) -> list[NoticeView]:
        """Notices in force at `now` for this community and building."""


@dataclass(slots=True)
class Ports:
    registry: Registry
    tickets: Tickets
    handoffs: Handoffs
    surveys: Surveys
    verification: Verification
    # issue 12: set by storage/uow.py; the in-memory worlds of the tests give their own
    knowledge: Knowledge | None = None
    notices: Notices | None = None
