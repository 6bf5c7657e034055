"""One commit rule for the desk's handlers: a unit of work per update, committed when the
handler returns, rolled back when it raises; then the outbox sender is woken (commit, then
send: DESIGN.md). Handlers receive it as `uow` and never commit themselves."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware
from aiogram.types import TelegramObject

from storage.uow import UnitOfWork


class UnitOfWorkMiddleware(BaseMiddleware):
    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        async with UnitOfWork(data["sessionmaker"]) as uow:
            data["uow"] = uow
            result = await handler(event, data)
            await uow.commit()
        sender = data.get("sender")
        if sender is not None:
            await sender.deliver()
        return result
