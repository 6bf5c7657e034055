"""One pass over the database for a report: each reader streamed once, each row handed to the
figures as it arrives, and every ticket's stage times to `on_ticket` (tickets.csv) on the way,
so memory holds the counters, not the tickets."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, tzinfo

from sqlalchemy.ext.asyncio import AsyncEngine

from dialogs.state import RESUMABLE

from . import period_reads as reads
from . import queries as q
from .figures import TicketFigures
from .queries import Scope, TicketRow
from .satisfaction import Satisfaction
from .scorecard import AgentCard, Scorecards
from .stages import Stages
from .tally import Lists, Share

# public spots reported this often within 30 days are a hot spot (the rule)
PUBLIC_REPEAT = 3
# a dialog left mid-way for this long is counted abandoned at its step
ABANDONED_AFTER_HOURS = 1


@dataclass(frozen=True, slots=True)
class Case:
    """A typical case for the review meeting: a complaint or a bad review, and its outcome."""

    number: str
    kind: str
    category: str
    why: str  # complaint / bad_review
    status: str
    callback: str


@dataclass(frozen=True, slots=True)
class BotShare:
    """机器人解答: consultations the bot answered by itself (an entry or a notice, and the owner
    read it or said it solved the question) against every consultation of the period: those,
    the consultation tickets filed for a person, and answers after which the owner asked for
    a person. An answer that did not help and became a ticket is counted once, as the ticket."""

    outcomes: dict[str, int]
    consult_tickets: int

    @property
    def by_bot(self) -> int:
        return self.outcomes.get("shown", 0) + self.outcomes.get("solved", 0)

    @property
    def consultations(self) -> int:
        return self.by_bot + self.consult_tickets + self.outcomes.get("human", 0)

    def share(self) -> Share:
        return Share(self.by_bot, self.consultations)


@dataclass(slots=True)
class Report:
    scope: Scope
    as_of: datetime
    tickets: TicketFigures
    satisfaction: Satisfaction
    agents: list[AgentCard]
    public_spots: list[tuple[str, str, str, int, list[str]]]
    kb_misses: int
    abandoned: Counter[tuple[str, str]]
    bot: BotShare = field(default_factory=lambda: BotShare({}, 0))
    cases: dict[str, list[Case]] = field(default_factory=dict)

    @property
    def lists(self) -> Lists:
        return self.tickets.lists


async def build(
    engine: AsyncEngine,
    scope: Scope,
    tz: tzinfo,
    now: datetime,
    on_ticket: Callable[[TicketRow, Stages], None] | None = None,
    on_overdue: Callable[[str, str, datetime], None] | None = None,
) -> Report:
    as_of = min(scope.end, now)
    figures = TicketFigures(scope.start, scope.end, as_of, tz, on_overdue=on_overdue)
    sat = Satisfaction(as_of, figures.lists)
    cards = Scorecards()

    async def tickets() -> None:
        async with engine.connect() as conn:
            async for t in q.tickets(conn, scope, who=on_ticket is not None):
                s = t.stages
                if figures.add(t, s):  # filed within the period
                    cards.add_ticket(t, s)
                    if t.handler_agent_id is not None:
                        figures.lists.add(f"agent-{t.handler_agent_id}", t.number)
                if on_ticket is not None:
                    on_ticket(t, s)

    async def the_rest(conn) -> tuple:
        async for sv in reads.surveys(conn, scope):
            sat.add_survey(sv)
            cards.add_survey(sv)
        async for task in reads.bad_review_callbacks(conn, scope):
            judged = task.done_at is not None or task.due_at < as_of
            sat.add_callback(task)
            in_time = task.done_at is not None and task.done_at <= task.due_at
            cards.add_callback(task, judged, in_time)
        for agent_id, n in (await reads.reply_holds(conn, scope)).items():
            cards.add_holds(agent_id, n)
        return (
            await _public_spots(conn, scope),
            await reads.kb_misses(conn, scope),
            await reads.bot_answers(conn, scope),
            await _abandoned(conn, scope, as_of),
            await reads.agent_names(conn),
        )

    async with engine.connect() as conn:
        # two connections: while Python counts one stream's rows, the database is already
        # sending the other's (each reader fills its own lists and counters)
        _, rest = await asyncio.gather(tickets(), the_rest(conn))
    spots, misses, answers, abandoned, names = rest
    bot = BotShare(answers, figures.consults)
    report = Report(scope, as_of, figures, sat, cards.ordered(names), spots, misses, abandoned, bot)
    report.cases = _cases(figures, sat)
    return report


async def _public_spots(conn, scope: Scope) -> list[tuple[str, str, str, int, list[str]]]:
    """(building, spot, category, reports, ticket numbers) of public spots reported three or
    more times in the 30 days up to the period's end: a report that joined an open ticket of
    the same fault counts too."""
    spots: dict[tuple[str, str, str], list] = {}
    async for number, category, building, spot, others in reads.public_reports(conn, scope):
        key = (building, spot, category)
        row = spots.setdefault(key, [0, []])
        row[0] += 1 + others
        row[1].append(number)
    hot = [(*k, n, nums) for k, (n, nums) in spots.items() if n >= PUBLIC_REPEAT]
    return sorted(hot, key=lambda r: (-r[3], r[0], r[1]))


async def _abandoned(conn, scope: Scope, as_of: datetime) -> Counter[tuple[str, str]]:
    """Owner dialogs (报修, 投诉, 咨询) left mid-way, by flow and step: the conversation's saved
    state is the only trace, so this counts those still standing where they were left."""
    out: Counter[tuple[str, str]] = Counter()
    async for state, at in reads.conversations(conn, scope):
        flow, step = state.get("flow", ""), state.get("step", "")
        if (
            flow in RESUMABLE
            and step
            and (as_of - at).total_seconds() > ABANDONED_AFTER_HOURS * 3600
        ):
            out[(flow, step)] += 1
    return out


def _cases(figures: TicketFigures, sat: Satisfaction) -> dict:
    grouped: dict[str, list[Case]] = {}
    for t in figures.complaints:
        callback = sat.callback_results.get(t.id, "")
        grouped.setdefault(t.category or "", []).append(
            Case(t.number, t.kind, t.category or "", "complaint", t.status, callback)
        )
    for s in sat.bad_reviews:
        status = s.ticket_status
        callback = sat.callback_results.get(s.ticket_id, "")
        grouped.setdefault(s.category or "", []).append(
            Case(s.number, s.ticket_kind, s.category or "", "bad_review", status, callback)
        )
    return dict(sorted(grouped.items(), key=lambda kv: -len(kv[1])))
