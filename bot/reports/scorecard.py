"""The per-agent scorecard on the four dimensions of the source documents (响应速度, 专业度,
情绪管理, 问题闭环), each figure with the count it rests on, by the ticket's 首问 handler. Pure."""

from __future__ import annotations

from dataclasses import dataclass, field

from .period_reads import SurveyRow, TaskRow
from .queries import TicketRow
from .stages import Stages
from .tally import Durations, Share, mean, percentile

# fewer tickets than this and a person is shown but not ranked against the others
RANK_MIN = 10


@dataclass(slots=True)
class AgentCard:
    agent_id: int
    name: str = ""
    tickets: int = 0
    to_accept: Durations = field(default_factory=Durations)
    to_contact: Durations = field(default_factory=Durations)
    completed: int = 0
    first_fix: int = 0
    reopened_7d: int = 0
    complaint_scores: list[int] = field(default_factory=list)
    closed: int = 0
    closed_rated: int = 0
    callbacks: int = 0
    callbacks_in_time: int = 0
    # words for owners held by the polite-language checker (服务禁言)
    held_replies: int = 0

    @property
    def ranked(self) -> bool:
        return self.tickets >= RANK_MIN

    @property
    def accept_p50(self) -> float | None:
        return percentile(self.to_accept, 50)

    @property
    def contact_p50(self) -> float | None:
        return percentile(self.to_contact, 50)

    def first_fix_rate(self) -> Share:
        return Share(self.first_fix, self.completed)

    def reopen_rate(self) -> Share:
        return Share(self.reopened_7d, self.completed)

    @property
    def complaint_satisfaction(self) -> float | None:
        return mean(self.complaint_scores)

    def rated_share(self) -> Share:
        return Share(self.closed_rated, self.closed)

    def callback_share(self) -> Share:
        return Share(self.callbacks_in_time, self.callbacks)


@dataclass(slots=True)
class Scorecards:
    cards: dict[int, AgentCard] = field(default_factory=dict)

    def _card(self, agent_id: int) -> AgentCard:
        return self.cards.setdefault(agent_id, AgentCard(agent_id))

    def add_ticket(self, t: TicketRow, s: Stages) -> None:
        """A ticket filed within the period, counted for its handler."""
        if t.handler_agent_id is None:
            return
        c = self.cards.get(t.handler_agent_id) or self._card(t.handler_agent_id)
        if not c.name:
            c.name = t.handler_name
        c.tickets += 1
        ats, created = s.ats, t.created_at
        if (at := ats.get("accepted")) is not None:
            c.to_accept.append((at - created).total_seconds() / 60)
        if (at := ats.get("first_contact")) is not None:
            c.to_contact.append((at - created).total_seconds() / 60)
        if "completed" in ats:
            c.completed += 1
            if s.reopen_count == 0:
                c.first_fix += 1
            elif s.reopened_within_7d:
                c.reopened_7d += 1
        if "closed" in ats and t.status == "closed":
            c.closed += 1
            c.closed_rated += "rated" in ats

    def add_survey(self, s: SurveyRow) -> None:
        if s.handler_agent_id is None or s.state != "answered" or s.overall is None:
            return
        if s.ticket_kind == "complaint":
            self._card(s.handler_agent_id).complaint_scores.append(s.overall)

    def add_holds(self, agent_id: int, n: int) -> None:
        self._card(agent_id).held_replies += n

    def add_callback(self, t: TaskRow, judged: bool, in_time: bool) -> None:
        if t.agent_id is None or not judged:
            return
        c = self._card(t.agent_id)
        c.callbacks += 1
        c.callbacks_in_time += in_time

    def ordered(self, names: dict[int, str]) -> list[AgentCard]:
        """Ranked people first (by tickets handled), then those with too few to rank."""
        for c in self.cards.values():
            c.name = names.get(c.agent_id, c.name) or str(c.agent_id)
        return sorted(self.cards.values(), key=lambda c: (not c.ranked, -c.tickets, c.name))
