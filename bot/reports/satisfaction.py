"""Satisfaction of a period from its surveys and 差评回访 call-backs (pure): each dimension with
its n, the response rate, the share of low scores, the call-backs closed within their time."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from .period_reads import SurveyRow, TaskRow
from .tally import Lists, Share, mean

DIMENSIONS = ("overall", "speed", "attitude")
# a score of 2 or less is a 差评 (desk/surveys.py opens a call-back for it)
LOW = 2


def is_bad(s: SurveyRow) -> bool:
    scores = [getattr(s, d) for d in DIMENSIONS]
    return any(v is not None and v <= LOW for v in scores) or s.solved is False


@dataclass(slots=True)
class Dimension:
    values: list[int] = field(default_factory=list)
    low: int = 0

    @property
    def n(self) -> int:
        return len(self.values)

    @property
    def mean(self) -> float | None:
        return mean(self.values)


@dataclass(slots=True)
class Satisfaction:
    as_of: datetime
    lists: Lists
    sent: int = 0
    answered: int = 0
    bad: int = 0
    dims: dict[str, Dimension] = field(default_factory=lambda: {d: Dimension() for d in DIMENSIONS})
    solved_yes: int = 0
    solved_n: int = 0
    bad_reviews: list[SurveyRow] = field(default_factory=list)
    callbacks: int = 0
    callbacks_in_time: int = 0
    callback_results: dict[int, str] = field(default_factory=dict)

    def add_survey(self, s: SurveyRow) -> None:
        self.sent += 1
        self.lists.add("surveys-sent", s.number)
        if s.state != "answered":
            return
        self.answered += 1
        self.lists.add("surveys-answered", s.number)
        for d in DIMENSIONS:
            v = getattr(s, d)
            if v is None:
                continue
            dim = self.dims[d]
            dim.values.append(v)
            if v <= LOW:
                dim.low += 1
                self.lists.add(f"low-{d}", s.number)
        if s.solved is not None:
            self.solved_n += 1
            self.solved_yes += bool(s.solved)
        if is_bad(s):
            self.bad += 1
            self.bad_reviews.append(s)
            self.lists.add("bad-reviews", s.number)

    def add_callback(self, t: TaskRow) -> None:
        """Kept when done by its due time; an open one still within its time is not judged."""
        if t.done_at is None and t.due_at >= self.as_of:
            return
        self.callbacks += 1
        self.lists.add("callbacks", t.number)
        if t.done_at is not None:
            self.callback_results[t.ticket_id] = t.result
        if t.done_at is not None and t.done_at <= t.due_at:
            self.callbacks_in_time += 1
            self.lists.add("callbacks-in-time", t.number)

    def response_rate(self) -> Share:
        return Share(self.answered, self.sent, "surveys-answered", "surveys-sent")

    def low_share(self) -> Share:
        return Share(self.bad, self.answered, "bad-reviews", "surveys-answered")

    def callback_share(self) -> Share:
        return Share(self.callbacks_in_time, self.callbacks, "callbacks-in-time", "callbacks")
