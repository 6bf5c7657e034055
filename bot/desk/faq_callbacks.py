"""The 📚 加入常见问题 button as aiogram CallbackData. The data only points (the handoff whose
answer it is); the offer message as stored holds the owner's question and the agent's answer,
and the server checks both again when the button is tapped (bot/desk/faq_offer.py)."""

from __future__ import annotations

from typing import Any

from aiogram.filters.callback_data import CallbackData

from dialogs.texts import Texts

from .callbacks import Id


class FaqAddCb(CallbackData, prefix="faq"):
    handoff_id: Id


def add_keyboard(texts: Texts, handoff_id: int) -> dict[str, Any]:
    """The offer's inline keyboard, as the Bot API takes it."""
    button = {
        "text": texts.button("agent_btn_faq_add"),
        "callback_data": FaqAddCb(handoff_id=handoff_id).pack(),
    }
    return {"inline_keyboard": [[button]]}
