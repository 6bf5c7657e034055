"""One commit rule for the desk's handlers: a unit of work per update, committed when the
handler returns, rolled back when it raises; then the outbox sender is woken (commit, then
send: DESIGN.md). Handlers receive it as `uow` and never commit themselves."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from contextlib import suppress
from datetime import UTC, datetime
from typing import Any

from aiogram import BaseMiddleware
from aiogram.types import CallbackQuery, TelegramObject

from storage.uow import UnitOfWork


class UnitOfWorkMiddleware(BaseMiddleware):
    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        update = data.get("event_update")
        async with UnitOfWork(data["sessionmaker"]) as uow:
            if update is not None and not await uow.accounts.first_time(
                update.update_id, data["app"].clock.now() if "app" in data else _now()
            ):
                # Telegram delivered this update again (we crashed before it was confirmed):
                # it was applied once already; a tap still gets its answer
                if isinstance(event, CallbackQuery):
                    with suppress(Exception):
                        await event.answer()
                return None
            data["uow"] = uow
            result = await handler(event, data)
            await uow.commit()
        sender = data.get("sender")
        if sender is not None:
            await sender.deliver()
        return result


def _now() -> datetime:
    return datetime.now(UTC)
