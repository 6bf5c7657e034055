"""The ticket figures of a period, fed one ticket at a time (pure: no database, no clock):
volume, backlog by age, timeliness against each promise, quality, hot spots, complaints."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta, tzinfo

from .queries import TicketRow
from .stages import Stages, minutes
from .tally import Lists, Share, percentile

# backlog ages at the period's end, in hours: <4 h, 4-24 h, 1-3 d, >3 d (the buckets)
AGE_BUCKETS = (("lt4h", 4), ("4to24h", 24), ("1to3d", 72), ("gt3d", None))
# the promises timeliness is measured against; completion has none on the ticket, so the
# report holds it to a target by urgency (hours)
PROMISES = ("contact", "arrive", "complete")
COMPLETE_TARGET_HOURS = {"urgent": 24, "normal": 72}


def urgency(t: TicketRow) -> str:
    return "urgent" if t.urgent else "normal"


def building_of(t: TicketRow) -> str:
    return t.building or str(t.details.get("pub_building", "")) or ""


@dataclass(slots=True)
class Timeliness:
    met: int = 0
    late: int = 0
    durations: list[float] = field(default_factory=list)

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
    overdue: list[tuple[str, str, datetime]] = field(default_factory=list)
    created: int = 0
    closed: int = 0
    completed: int = 0
    first_fix: int = 0
    reopened_7d: int = 0
    urges: int = 0
    escalations: int = 0
    hot: Counter[tuple[str, str, str]] = field(default_factory=Counter)
    complaints: list[TicketRow] = field(default_factory=list)
    consults: int = 0

    def in_period(self, at: datetime | None) -> bool:
        return at is not None and self.start <= at < self.end

    def add(self, t: TicketRow, s: Stages) -> None:
        closed = s.at("closed")
        if self.in_period(closed):
            self.closed += 1
            self.closed_per_day[closed.astimezone(self.tz).date()] += 1
            self.lists.add("closed", t.number)
        self._backlog(t, s)
        if not self.in_period(t.created_at):
            return
        self.created += 1
        self.lists.add("created", t.number)
        self.new_per_day[t.created_at.astimezone(self.tz).date()] += 1
        self.by_category[(t.kind, t.category or "")] += 1
        self.by_channel[t.channel] += 1
        if t.kind == "consult":
            self.consults += 1
            self.lists.add("consults", t.number)
        if t.kind == "complaint":
            # kept to the period's end for the typical cases: without its history, which
            # would otherwise be most of the memory a month of complaints holds
            self.complaints.append(replace(t, events=[]))
        if t.kind != "consult":
            self.hot[(t.community, building_of(t), t.category or "")] += 1
        self._timeliness(t, s)
        self._quality(t, s)

    def _backlog(self, t: TicketRow, s: Stages) -> None:
        if t.created_at >= self.as_of:
            return
        finished = s.at("closed") or (s.last_completed if t.status in ("done", "closed") else None)
        if finished is not None and finished < self.as_of:
            return
        hours = (self.as_of - t.created_at).total_seconds() / 3600
        bucket = next(k for k, top in AGE_BUCKETS if top is None or hours < top)
        self.backlog[bucket] += 1
        self.lists.add(f"backlog-{bucket}", t.number)

    def _timeliness(self, t: TicketRow, s: Stages) -> None:
        if t.status == "withdrawn":  # the owner called it off: no promise left to keep
            return
        target = t.created_at + timedelta(hours=COMPLETE_TARGET_HOURS[urgency(t)])
        held = {
            "contact": (t.promised_contact_by, s.at("first_contact")),
            "arrive": (t.promised_arrive_by, s.at("on_site") or s.at("completed")),
            "complete": (target if t.kind != "consult" else None, s.at("completed")),
        }
        late_any = False
        for stage, (promise, done) in held.items():
            if promise is None:
                continue
            tally = self.timeliness[(stage, urgency(t))]
            key = f"{stage}-{urgency(t)}"
            if done is not None:
                tally.durations.append(minutes(t.created_at, done))
            if done is not None and done <= promise:
                tally.met += 1
                self.lists.add(f"{key}-met", t.number)
            elif done is not None or promise < self.as_of:
                tally.late += 1
                self.overdue.append((t.number, stage, promise))
                if not late_any:
                    self.lists.add("overdue", t.number)
                late_any = True
            else:
                continue  # not yet due: neither kept nor broken
            self.lists.add(f"{key}-all", t.number)

    def _quality(self, t: TicketRow, s: Stages) -> None:
        self.urges += t.urge_count
        if t.urge_count:
            self.lists.add("urged", t.number)
        if t.escalated or s.at("escalated") is not None:
            self.escalations += 1
            self.lists.add("escalated", t.number)
        if s.at("completed") is None:
            return
        self.completed += 1
        self.lists.add("completed", t.number)
        if s.reopen_count == 0:
            self.first_fix += 1
            self.lists.add("first-fix", t.number)
        if s.reopened_within_7d:
            self.reopened_7d += 1
            self.lists.add("reopened-7d", t.number)

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
