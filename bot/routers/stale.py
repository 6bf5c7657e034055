"""Taps nobody else took: a button in a chat that is neither an owner's private chat nor the
agents' group (another group the bot was added to, a group no longer configured), or an old
message's button. Telegram shows a spinner until a tap is answered, so every tap is: politely,
as a button that no longer works, and nothing changes."""

from __future__ import annotations

from aiogram import Router
from aiogram.types import CallbackQuery

from dialogs.texts import Texts


async def on_unclaimed_tap(query: CallbackQuery, texts: Texts) -> None:
    await query.answer(texts.render("alert_stale_button"), show_alert=True)


def make_router() -> Router:
    """Included last: it answers only what every other router let pass."""
    router = Router(name=__name__)
    router.callback_query.register(on_unclaimed_tap)
    return router
