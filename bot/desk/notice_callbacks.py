"""The buttons of the agents' guided /notice as aiogram CallbackData. The data only points: which
draft, which of its prompts, which of the choices drawn on it. The server reads the draft back and
checks that the prompt is still its current one and the choice one it offered
(bot/desk/notice_wizard.py); anything else is answered as stale and changes nothing."""

from __future__ import annotations

from typing import Any

from aiogram.filters.callback_data import CallbackData

from .callbacks import Id, Number


class NoticeCb(CallbackData, prefix="nt"):
    draft: Id  # the draft's row (a follow-up of kind notice_draft)
    n: Number  # the draft's prompt this button was drawn on
    pick: Number  # the index of the choice on that prompt


def keyboard(draft: int, n: int, rows: list[list[tuple[str, int]]]) -> dict[str, Any]:
    """An inline keyboard of (label, pick) rows for one prompt of a draft."""
    return {
        "inline_keyboard": [
            [
                {"text": label, "callback_data": NoticeCb(draft=draft, n=n, pick=pick).pack()}
                for label, pick in row
            ]
            for row in rows
            if row
        ]
    }
