"""Labels the core leaves to the renderer (fx.Label), worded from the button labels. Buttons
themselves stay typed down to the channel's renderer, which carries a tap its own way (Telegram:
the command packed as its CallbackData, bot/rendering.py)."""

from __future__ import annotations

from typing import Any

from desk import effects as fx

from .context import Desk


def worded(desk: Desk, ctx: dict[str, Any]) -> dict[str, Any]:
    """Labels the core left to the renderer, worded from the button labels."""
    return {k: desk.texts.button(v.key) if isinstance(v, fx.Label) else v for k, v in ctx.items()}
