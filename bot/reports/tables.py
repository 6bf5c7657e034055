"""The report as tables (header + rows), one per figure: the CSV files and the HTML page show the
same numbers. Each table also names, per row, the ticket list behind it (for the page's links)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, tzinfo

from .build import Report
from .figures import AGE_BUCKETS, PROMISES, urgency
from .queries import TicketRow
from .satisfaction import DIMENSIONS
from .stages import STAGES, Stages
from .stamps import fixed_offset
from .tally import Share
from .words import Words


@dataclass(slots=True)
class Table:
    name: str
    header: list[str]
    rows: list[list[object]] = field(default_factory=list)
    # per row: the list key each cell links to (None: no link), same width as the row
    links: list[list[str | None]] = field(default_factory=list)

    def add(self, row: list[object], links: list[str | None] | None = None) -> None:
        self.rows.append(row)
        self.links.append(links or [None] * len(row))


def pct(share: Share) -> str:
    return "" if share.ratio is None else f"{share.ratio * 100:.1f}%"


def num(value: float | None, digits: int = 1) -> str:
    return "" if value is None else f"{value:.{digits}f}"


def local(when: datetime | None, tz: tzinfo) -> str:
    # str() is datetime's C isoformat ("2026-11-02 10:05:00+08:00"): strftime costs 3x more,
    # and tickets.csv formats some two million of these
    return "" if when is None else str(when.astimezone(tz))[:16]


def local_format(tz: tzinfo, year: int) -> Callable[[datetime | None], str]:
    """`local` for many instants: the zone's offset added where it has one all year, the zone
    looked up each time otherwise (stamps.fixed_offset)."""
    offset = fixed_offset(tz, year)
    if offset is None:
        return lambda when: local(when, tz)

    def fixed(when: datetime | None) -> str:
        return "" if when is None else str(when + offset)[:16]

    return fixed


def ticket_header(w: Words) -> list[str]:
    c = lambda k: w("csv", k)
    head = [c(k) for k in ("number", "kind", "category", "department", "urgency", "status")]
    head += [c(k) for k in ("channel", "community", "building", "unit", "handler")]
    head += [c("promised_contact_by"), c("promised_arrive_by"), c("promised_complete_by")]
    for stage in STAGES:
        head += [w("stage", stage), w("stage", stage) + c("by")]
    head += [c("last_completed"), c("reopen_count"), c("reopened_7d"), c("urges"), c("replans")]
    return head


def _names(w: Words, t: TicketRow) -> tuple[str, ...]:
    """The row's labels, looked up once per combination: tickets.csv has 100,000 rows and a
    few dozen combinations."""
    key = (t.kind, t.category, t.urgent, t.status, t.channel)
    cache = w.__dict__.setdefault("_csv_names", {})
    names = cache.get(key)
    if names is None:
        names = cache[key] = (
            w.kind(t.kind),
            w.category(t.kind, t.category),
            w("urgency", urgency(t)),
            w.status(t.status),
            w("channel", t.channel),
        )
    return names


def actor(w: Words, names: dict[int, str], kind: str, actor_id: int | None) -> str:
    """Who reached a stage, as a manager reads it: an agent by name, else the kind of actor."""
    if kind == "agent" and actor_id in names:
        return names[actor_id]
    return w("actor", kind) if kind else ""


def ticket_row(
    t: TicketRow,
    s: Stages,
    w: Words,
    local: Callable[[datetime | None], str],
    names: dict[int, str],
) -> list[object]:
    """One row of tickets.csv: every stage time, who reached it, and the promises it was held
    to (as recorded when the stage was reached; the ticket's own where not reached yet)."""
    kind, category, urgent, status, channel = _names(w, t)
    row: list[object] = [
        t.number,
        kind,
        category,
        t.department,
        urgent,
        status,
        channel,
        t.community,
        t.building,
        t.unit_label,
        t.handler_name,
        local(t.contact_promise),
        local(t.arrive_promise),
        local(t.complete_promise),
    ]
    marks = s.marks
    for stage in STAGES:
        mark = marks.get(stage)
        if mark is None:
            row += ["", ""]
        else:
            row += [local(mark.at), actor(w, names, mark.actor_kind, mark.actor_id)]
    yes, no = w("csv", "yes"), w("csv", "no")
    row += [local(s.last_completed), s.reopen_count, yes if s.reopened_within_7d else no]
    row += [t.urge_count, s.replans]
    return row


def overdue_header(w: Words) -> list[str]:
    return [w("csv", "number"), w("csv", "stage"), w("csv", "deadline")]


def overdue_row(
    number: str, stage: str, deadline: datetime, w: Words, local: Callable[[datetime | None], str]
) -> list[object]:
    return [number, w("promise", stage), local(deadline)]


def tables(r: Report, w: Words) -> list[Table]:
    f, sat, c = r.tickets, r.satisfaction, lambda k: w("csv", k)
    tz = f.tz
    out: list[Table] = []
    vol = Table("volume", [c("day"), c("new"), c("closed")])
    for day in f.days():
        vol.add([day.isoformat(), f.new_per_day[day], f.closed_per_day[day]])
    out.append(vol)
    cat = Table("categories", [c("kind"), c("category"), c("count")])
    for (kind, category), n in sorted(f.by_category.items(), key=lambda kv: -kv[1]):
        cat.add([w.kind(kind), w.category(kind, category), n])
    out.append(cat)
    chan = Table("channels", [c("channel"), c("count")])
    for channel, n in f.by_channel.most_common():
        chan.add([w("channel", channel), n])
    out.append(chan)
    age = Table("backlog", [c("age"), c("count")])
    for key, _ in AGE_BUCKETS:
        age.add([w("age", key), f.backlog[key]], [None, f"backlog-{key}"])
    out.append(age)
    tl = Table(
        "timeliness",
        [c("promise"), c("urgency"), c("met"), c("total"), c("share")]
        + [c("p50_minutes"), c("p90_minutes")],
    )
    for stage in PROMISES:
        for u in ("urgent", "normal"):
            tally = f.timeliness.get((stage, u))
            if tally is None:
                continue
            key = f"{stage}-{u}"
            share = tally.share(key)
            row = [w("promise", stage), w("urgency", u), share.hit, share.n, pct(share)]
            tl.add(
                row + [num(tally.p50, 0), num(tally.p90, 0)],
                [None, None, f"{key}-met", f"{key}-all", None, None, None],
            )
    out.append(tl)
    # the page's first rows; overdue.csv has every one (output.py, as the tickets stream)
    late = Table("overdue", overdue_header(w))
    stamp = local_format(tz, r.scope.start.year)
    for number, stage, deadline in f.overdue:
        late.add(overdue_row(number, stage, deadline, w, stamp))
    out.append(late)
    dims = Table("satisfaction", [c("dimension"), c("n"), c("mean"), c("low")])
    for d in DIMENSIONS:
        dim = sat.dims[d]
        dims.add(
            [w("dimension", d), dim.n, num(dim.mean, 2), dim.low], [None, None, None, f"low-{d}"]
        )
    out.append(dims)
    out.append(_agents(r, w))
    hot = Table("hotspots", [c("community"), c("building"), c("category"), c("count")])
    for (community, building, category), n in f.hot.most_common():
        hot.add([community, building, w.category("repair", category), n])
    out.append(hot)
    spots = Table("public_spots", [c("building"), c("spot"), c("category"), c("reports")])
    for building, spot, category, n, numbers in r.public_spots:
        spots.add([building, spot, w.category("repair", category), n])
    out.append(spots)
    bot = Table("bot", [c("item"), c("count")])
    for key, value in (
        ("bot_answered", r.bot.by_bot),
        ("bot_solved", r.bot.outcomes.get("solved", 0)),
        ("bot_human", r.bot.outcomes.get("human", 0)),
        ("bot_declined", r.bot.outcomes.get("declined", 0)),
        ("consult_tickets", r.bot.consult_tickets),
        ("consultations", r.bot.consultations),
        ("bot_share", pct(r.bot.share())),
        ("kb_misses", r.kb_misses),
    ):
        bot.add([c(key), value])
    out.append(bot)
    flows = Table("abandoned", [c("flow"), c("step"), c("count")])
    for (flow, step), n in r.abandoned.most_common():
        flows.add([w("flow", flow), step, n])
    out.append(flows)
    cases = Table("cases", [c("category"), c("number"), c("why"), c("outcome"), c("callback")])
    for group in r.cases.values():
        for case in group:
            cases.add(
                [
                    w.category(case.kind, case.category),
                    case.number,
                    w("why", case.why),
                    w.status(case.status),
                    case.callback,
                ]
            )
    out.append(cases)
    return out


def _agents(r: Report, w: Words) -> Table:
    c = lambda k: w("csv", k)
    keys = ["agent", "tickets", "accept_p50", "contact_p50", "contact_n", "completed", "first_fix"]
    keys += ["reopen", "complaint_sat", "complaint_n", "held", "closed_n", "rated", "callbacks"]
    keys += ["callbacks_in_time", "ranked"]
    table = Table("agents", [c(k) for k in keys])
    for a in r.agents:
        table.add(
            [
                a.name,
                a.tickets,
                num(a.accept_p50, 0),
                num(a.contact_p50, 0),
                len(a.to_contact),
                a.completed,
                pct(a.first_fix_rate()),
                pct(a.reopen_rate()),
                num(a.complaint_satisfaction, 2),
                len(a.complaint_scores),
                a.held_replies,
                a.closed,
                pct(a.rated_share()),
                a.callbacks,
                pct(a.callback_share()),
                c("yes") if a.ranked else c("no"),
            ],
            [None, f"agent-{a.agent_id}"] + [None] * (len(keys) - 2),
        )
    return table
