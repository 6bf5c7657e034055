"""Small counting tools the figures share: a list of tickets behind a number (capped, so a figure
over 100,000 tickets keeps its count but not every number), shares and percentiles."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

# the ticket numbers a figure keeps to link to; the count stays exact beyond it
LIST_CAP = 500


@dataclass(slots=True)
class TicketList:
    count: int = 0
    numbers: list[str] = field(default_factory=list)

    @property
    def truncated(self) -> bool:
        return self.count > len(self.numbers)


class Lists(dict[str, TicketList]):
    """Every figure's tickets, by an anchor-safe key ("late-contact-urgent")."""

    def add(self, key: str, number: str) -> None:
        # one call, not two: this runs about ten times per ticket of the period
        lst = self.get(key)  # not setdefault: it would build a list per call, used or not
        if lst is None:
            lst = self[key] = TicketList()
        lst.count += 1
        if len(lst.numbers) < LIST_CAP:
            lst.numbers.append(number)

    def count(self, key: str) -> int:
        return self[key].count if key in self else 0


@dataclass(frozen=True, slots=True)
class Share:
    """hit of n, with the key of the tickets behind each (hit and the whole base)."""

    hit: int
    n: int
    hit_key: str = ""
    n_key: str = ""

    @property
    def ratio(self) -> float | None:
        return self.hit / self.n if self.n else None


class Durations:
    """Durations in minutes, counted to the whole minute: percentiles exact to the minute, and
    memory bounded by the longest duration rather than by how many tickets there were."""

    __slots__ = ("counts", "n")

    def __init__(self) -> None:
        self.counts: dict[int, int] = {}
        self.n = 0

    def append(self, minutes: float) -> None:
        key = round(minutes)
        self.counts[key] = self.counts.get(key, 0) + 1
        self.n += 1

    def __len__(self) -> int:
        return self.n

    def percentile(self, p: float) -> int | None:
        """Nearest rank, as `percentile` below: a real ticket's time (to the minute)."""
        if not self.n:
            return None
        rank = max(1, math.ceil(p / 100 * self.n))
        seen = 0
        for value in sorted(self.counts):
            seen += self.counts[value]
            if seen >= rank:
                return value
        return None  # pragma: no cover - rank <= n


def percentile(values: Sequence[float] | Durations, p: float) -> float | None:
    """Nearest-rank percentile (the value below which p% of them fall): a real ticket's time,
    never an interpolation between two."""
    if isinstance(values, Durations):
        return values.percentile(p)
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(p / 100 * len(ordered)))
    return ordered[rank - 1]


def mean(values: Sequence[float]) -> float | None:
    return sum(values) / len(values) if values else None
