"""A ticket's stages as the report reads them: the ticket's row of ticket_stages (kept by
storage/stage_book.py as each event is written, backfilled for older tickets), so every figure
is a query over what was recorded, never a replay or a guess. Which action marks which stage is
written down in storage/stage_book.py."""

from __future__ import annotations

from datetime import datetime
from typing import NamedTuple

from storage.stage_book import STAGES

__all__ = ["STAGES", "STAGE_AT_COLUMNS", "STAGE_COLUMNS", "Mark", "Stages"]

REOPEN_WINDOW_S = 7 * 86400  # 返修率: reopened within 7 days of completion


class Mark(NamedTuple):
    at: datetime
    actor_kind: str
    actor_id: int | None


# the stage row's columns the report reads, in this order (queries.py selects them); the
# promises come with the ticket (queries.held_promises)
STAGE_COLUMNS = (
    *(f"{s}_{part}" for s in STAGES for part in ("at", "kind", "by")),
    "last_completed_at",
    "reopen_count",
    "replans",
)
_N = len(STAGES) * 3
_AT_INDEX = tuple((3 * i, stage) for i, stage in enumerate(STAGES))
# the figures alone need no one's name and fewer stages: where tickets.csv is made by the
# database, the stream carries only these instants (decoding instants is most of its cost)
FIGURE_STAGES = (
    "accepted",
    "first_contact",
    "on_site",
    "completed",
    "closed",
    "reopened",
    "rated",
    "escalated",
)
STAGE_AT_COLUMNS = (*(f"{s}_at" for s in FIGURE_STAGES), *STAGE_COLUMNS[_N:])
_AT_ONLY = tuple(enumerate(FIGURE_STAGES))


class Stages:
    """One ticket's stages: when each was reached and by whom.
    `ats` maps a reached stage to its instant (what the figures read, a hundred thousand times
    over); `marks` adds who reached it, built only when asked (tickets.csv)."""

    __slots__ = ("_values", "ats", "last_completed", "reopen_count", "replans")

    def __init__(self, values, created_at: datetime, who: bool = True):
        """`values`: the stage row's columns in STAGE_COLUMNS order, or STAGE_AT_COLUMNS when
        not `who` (all None: no row)."""
        self._values = values if who else None
        index = _AT_INDEX if who else _AT_ONLY
        ats = {stage: values[i] for i, stage in index if values[i] is not None}
        if "created" not in ats:
            ats["created"] = created_at
        self.ats = ats
        self.last_completed, reopens, replans = values[_N if who else len(FIGURE_STAGES) :]
        self.reopen_count = reopens or 0
        self.replans = replans or 0

    @property
    def marks(self) -> dict[str, Mark]:
        v, ats = self._values, self.ats
        if v is None:
            raise ValueError("read without who reached each stage (queries.tickets who=False)")
        out = {}
        for i, stage in _AT_INDEX:
            if stage in ats:
                if v[i] is None:  # the created stage of a ticket older than its history
                    out[stage] = Mark(ats[stage], "owner", None)
                else:
                    out[stage] = Mark(v[i], v[i + 1] or "", v[i + 2])
        return out

    @property
    def reopened_within_7d(self) -> bool:
        """The first reopening came within 7 days of the first completion (a ticket only
        reopens after it was completed, so the first reopening is the earliest one)."""
        done, again = self.ats.get("completed"), self.ats.get("reopened")
        return (
            done is not None
            and again is not None
            and (again - done).total_seconds() <= REOPEN_WINDOW_S
        )
