"""The ticket figures of a period, fed one ticket at a time (pure: no database, no clock):
volume, backlog by age, timeliness against each promise, quality, hot spots, complaints."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, tzinfo
from typing import NamedTuple

from .queries import TicketRow
from .stages import Stages
from .stamps import fixed_offset
from .tally import Durations, Lists, Share, percentile

# backlog ages at the period's end, in hours: <4 h, 4-24 h, 1-3 d, >3 d (the buckets)
AGE_BUCKETS = (("lt4h", 4), ("4to24h", 24), ("1to3d", 72), ("gt3d", None))
# the promises timeliness is measured against: each stage against the promise recorded when it
# was reached (storage/stage_book.py); a stage not reached yet against the ticket's promise now
PROMISES = ("contact", "arrive", "complete")
# broken promises kept in memory for the page; overdue.csv has every one
OVERDUE_KEPT = 500


class Complaint(NamedTuple):
    id: int
    number: str
    kind: str
    category: str | None
    status: str


def day_format(tz: tzinfo, year: int) -> Callable[[datetime], date]:
    """The local day of an instant (the zone's offset added where it has one all year)."""
    offset = fixed_offset(tz, year)
    if offset is None:
        return lambda at: at.astimezone(tz).date()
    return lambda at: (at + offset).date()


def urgency(t: TicketRow) -> str:
    return "urgent" if t.urgent else "normal"


def building_of(t: TicketRow) -> str:
    return t.building or t.public_building or ""


@dataclass(slots=True)
class Timeliness:
    met: int = 0
    late: int = 0
    durations: Durations = field(default_factory=Durations)

    def share(self, key: str) -> Share:
        return Share(self.met, self.met + self.late, f"{key}-met", f"{key}-all")

    @property
    def p50(self) -> float | None:
        return percentile(self.durations, 50)

    @property
    def p90(self) -> float | None:
        return percentile(self.durations, 90)


@dataclass(slots=True)
class TicketFigures:
    start: datetime
    end: datetime
    as_of: datetime
    tz: tzinfo
    lists: Lists = field(default_factory=Lists)
    new_per_day: Counter[date] = field(default_factory=Counter)
    closed_per_day: Counter[date] = field(default_factory=Counter)
    by_category: Counter[tuple[str, str]] = field(default_factory=Counter)
    by_channel: Counter[str] = field(default_factory=Counter)
    backlog: Counter[str] = field(default_factory=Counter)
    timeliness: dict[tuple[str, str], Timeliness] = field(
        default_factory=lambda: defaultdict(Timeliness)
    )
    # the broken promises: the first OVERDUE_KEPT for the page, every one to `on_overdue`
    # (overdue.csv, written as they come)
    overdue: list[tuple[str, str, datetime]] = field(default_factory=list)
    overdue_total: int = 0
    on_overdue: Callable[[str, str, datetime], None] | None = None
    local_day: Callable[[datetime], date] = field(init=False)
    _keys: dict = field(init=False)
    created: int = 0
    closed: int = 0
    completed: int = 0
    first_fix: int = 0
    reopened_7d: int = 0
    urges: int = 0
    escalations: int = 0
    hot: Counter[tuple[str, str, str]] = field(default_factory=Counter)
    complaints: list[Complaint] = field(default_factory=list)
    consults: int = 0

    def __post_init__(self) -> None:
        self.local_day = day_format(self.tz, self.start.year)
        # the keys of the timeliness lists, made once instead of per ticket and promise
        self._keys = {
            (stage, urgent): (
                (stage, "urgent" if urgent else "normal"),
                f"{stage}-{'urgent' if urgent else 'normal'}-met",
                f"{stage}-{'urgent' if urgent else 'normal'}-all",
            )
            for stage in PROMISES
            for urgent in (True, False)
        }

    def add(self, t: TicketRow, s: Stages) -> bool:
        """Counts one ticket; True when it was filed within the period."""
        lists, ats = self.lists, s.ats
        closed = ats.get("closed")
        if closed is not None and self.start <= closed < self.end:
            self.closed += 1
            self.closed_per_day[self.local_day(closed)] += 1
            lists.add("closed", t.number)
        created = t.created_at
        if created < self.as_of:
            self._backlog(t, s, closed)
        if not self.start <= created < self.end:
            return False
        self.created += 1
        lists.add("created", t.number)
        self.new_per_day[self.local_day(created)] += 1
        kind = t.kind
        # a consultation has no category of its own a manager would read: one line for all
        self.by_category[(kind, "" if kind == "consult" else t.category or "")] += 1
        self.by_channel[t.channel] += 1
        if kind == "consult":
            self.consults += 1
            lists.add("consults", t.number)
        else:
            self.hot[(t.community, t.building or t.public_building or "", t.category or "")] += 1
            if kind == "complaint":
                # kept to the period's end for the typical cases: the few fields they show
                self.complaints.append(Complaint(t.id, t.number, kind, t.category, t.status))
        if t.status != "withdrawn":  # called off by the owner: no promise left to keep
            self._timeliness(t, s)
        self._quality(t, s)
        return True

    def _backlog(self, t: TicketRow, s: Stages, closed: datetime | None) -> None:
        finished = closed or (s.last_completed if t.status in ("done", "closed") else None)
        if finished is not None and finished < self.as_of:
            return
        hours = (self.as_of - t.created_at).total_seconds() / 3600
        bucket = next(k for k, top in AGE_BUCKETS if top is None or hours < top)
        self.backlog[bucket] += 1
        self.lists.add(f"backlog-{bucket}", t.number)

    def _timeliness(self, t: TicketRow, s: Stages) -> None:
        ats = s.ats
        contact, done = ats.get("first_contact"), ats.get("completed")
        arrived = ats.get("on_site") or done
        held = (
            ("contact", t.contact_promise, contact),
            ("arrive", t.arrive_promise, arrived),
            ("complete", t.complete_promise, done),
        )
        late_any = False
        lists, number = self.lists, t.number
        for stage, promise, reached in held:
            if promise is None:
                continue
            where, met_key, all_key = self._keys[(stage, t.urgent)]
            if reached is not None:
                tally = self.timeliness[where]
                tally.durations.append((reached - t.created_at).total_seconds() / 60)
                if reached <= promise:
                    tally.met += 1
                    lists.add(met_key, number)
                    lists.add(all_key, number)
                    continue
            elif promise >= self.as_of:
                continue  # not yet due: neither kept nor broken
            else:
                tally = self.timeliness[where]
            tally.late += 1
            self.overdue_total += 1
            if len(self.overdue) < OVERDUE_KEPT:
                self.overdue.append((number, stage, promise))
            if self.on_overdue is not None:
                self.on_overdue(number, stage, promise)
            if not late_any:
                lists.add("overdue", number)
                late_any = True
            lists.add(all_key, number)

    def _quality(self, t: TicketRow, s: Stages) -> None:
        lists, ats = self.lists, s.ats
        if t.urge_count:
            self.urges += t.urge_count
            lists.add("urged", t.number)
        if t.escalated or "escalated" in ats:
            self.escalations += 1
            lists.add("escalated", t.number)
        if "completed" not in ats:
            return
        self.completed += 1
        lists.add("completed", t.number)
        if s.reopen_count == 0:
            self.first_fix += 1
            lists.add("first-fix", t.number)
        elif s.reopened_within_7d:
            self.reopened_7d += 1
            lists.add("reopened-7d", t.number)

    # --- the figures as the page and the CSV show them ---------------------------------------
    def first_fix_rate(self) -> Share:
        return Share(self.first_fix, self.completed, "first-fix", "completed")

    def reopen_rate(self) -> Share:
        return Share(self.reopened_7d, self.completed, "reopened-7d", "completed")

    def urges_per_ticket(self) -> float | None:
        return self.urges / self.created if self.created else None

    def days(self) -> list[date]:
        first = self.start.astimezone(self.tz).date()
        last = (self.end - timedelta(microseconds=1)).astimezone(self.tz).date()
        return [first + timedelta(days=i) for i in range((last - first).days + 1)]
