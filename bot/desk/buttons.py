"""Labels the core leaves to the renderer (fx.Label), worded from the button labels. Buttons
themselves stay typed down to the channel's renderer, which carries a tap its own way (Telegram:
the command packed as its CallbackData, bot/rendering.py)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from desk import effects as fx

from .context import Desk


def worded(desk: Desk, ctx: dict[str, Any]) -> dict[str, Any]:
    """Labels the core left to the renderer, worded from the button labels."""
    return {k: desk.texts.button(v.key) if isinstance(v, fx.Label) else v for k, v in ctx.items()}


def stamped(buttons, t) -> tuple[tuple[fx.Button, ...], ...]:
    """Buttons for ticket `t` carry the card's version now (idempotent taps: a double tap, or a
    tap redelivered as a new update, finds the version moved on and changes nothing)."""
    if t is None or not buttons:
        return buttons
    return tuple(
        tuple(
            replace(b, command=replace(b.command, version=t.version))
            if getattr(b.command, "ticket_id", None) == t.id
            and "version" in getattr(b.command, "__dataclass_fields__", {})
            else b
            for b in row
        )
        for row in buttons
    )
