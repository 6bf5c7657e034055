"""Typed buttons and labels from the core, made into Telegram's: the label worded from the
button labels (or shown as it is), the command packed as its CallbackData."""

from __future__ import annotations

from typing import Any

from desk import effects as fx

from .callbacks import pack
from .context import Desk


def keyboard_rows(desk: Desk, buttons) -> list[list[tuple[str, str]]]:
    """Typed buttons → (label, callback data) rows for the agents' or the owner's chat."""
    return [
        [
            (
                b.label if b.literal else desk.texts.button(b.label, **dict(b.params)),
                pack(b.command),
            )
            for b in row
        ]
        for row in buttons
    ]


def worded(desk: Desk, ctx: dict[str, Any]) -> dict[str, Any]:
    """Labels the core left to the renderer, worded from the button labels."""
    return {k: desk.texts.button(v.key) if isinstance(v, fx.Label) else v for k, v in ctx.items()}
