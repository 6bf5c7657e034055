"""Buttons posted before the desk's CallbackData classes (cards live in the group for days): their
old data, `d:<code>:<ints>`, still means the same command, so an upgrade does not leave the
second row of every open card dead. Checked like any tap: the data only points."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aiogram.filters import Filter
from aiogram.types import CallbackQuery

from desk import commands as c

from .callbacks import MAX_ID

# old code → (how many numbers follow, the command they stand for)
OLD_CODES: dict[str, tuple[int, Callable[..., Any]]] = {
    "rsn": (2, lambda t, a: c.Reassign(t, a)),
    "dept": (2, lambda t, d: c.Dispatch(t, d)),
    "wkr": (3, lambda t, d, w: c.Dispatch(t, d, w)),
    "eta": (4, lambda t, d, w, m: c.Dispatch(t, d, w, m)),
    "pstep": (2, lambda t, i: c.Progress(t, i)),
    "donenow": (1, lambda t: c.Complete(t, "")),
    "esc": (1, lambda t: c.Escalate(t)),
    "escr": (2, lambda t, i: c.EscalateReason(t, i)),
    "tkov": (1, lambda t: c.Takeover(t)),
    "claim": (1, lambda h: c.ClaimHandoff(h)),
    "rel": (1, lambda h: c.ReleaseHandoff(h)),
    "delay": (2, lambda t, m: c.Delay(t, m)),
    "task": (1, lambda k: c.OpenCallback(k)),
}


def old_command(data: str) -> Any | None:
    parts = data.split(":")
    if len(parts) < 3 or parts[0] != "d" or parts[1] not in OLD_CODES:
        return None
    arity, build = OLD_CODES[parts[1]]
    # digits only, and what an INTEGER column holds: anything else is answered as stale
    if not all(p.isascii() and p.isdigit() and len(p) <= 10 for p in parts[2:]):
        return None
    numbers = [int(p) for p in parts[2:]]
    if any(n > MAX_ID for n in numbers):
        return None
    if parts[1] == "rsn" and len(numbers) == 1:
        return c.Reassign(numbers[0])  # the roster was not chosen yet
    return build(*numbers) if len(numbers) == arity else None


class OldDeskTap(Filter):
    async def __call__(self, query: CallbackQuery) -> bool | dict[str, Any]:
        command = old_command(query.data or "")
        return {"command": command} if command is not None else False
