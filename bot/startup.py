"""Before the bot serves anyone: a token of the right shape, and one the Bot API server accepts.

A malformed token stops at once; a refused one (401) too. An unreachable server is asked again
with growing pauses, each retry said in one line, for about a minute (RETRY_DELAYS), then the
process gives up with exit code 3 so a supervisor (systemd, Docker) can restart it later."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence

from aiogram import Bot
from aiogram.exceptions import (
    TelegramAPIError,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
    TelegramUnauthorizedError,
)
from aiogram.types import User
from aiogram.utils.token import TokenValidationError

from dialogs.texts import Texts

from .cli import StartupError, first_line, say
from .factory import build_bot
from .log_redaction import redact
from .settings import Settings

# seconds between getMe attempts: 60 in all, then give up
RETRY_DELAYS: tuple[float, ...] = (1, 2, 4, 8, 15, 15, 15)
# one attempt's limit: a server that swallows packets is not waited on for the usual 60 s
ATTEMPT_TIMEOUT = 10.0
DEFAULT_SERVER = "https://api.telegram.org"


def make_bot(settings: Settings) -> Bot:
    try:
        return build_bot(settings)
    except TokenValidationError as e:
        raise StartupError("cli_token_malformed", code=2) from e


async def wait_for_telegram(
    bot: Bot,
    settings: Settings,
    *,
    delays: Sequence[float] = RETRY_DELAYS,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
) -> User:
    """getMe until it answers; the bot's own account on success (cached by the Bot, so polling
    does not ask again)."""
    session_timeout = bot.session.timeout
    bot.session.timeout = min(session_timeout, ATTEMPT_TIMEOUT)
    try:
        return await _ask(bot, settings, delays, sleep)
    finally:
        bot.session.timeout = session_timeout


async def _ask(bot: Bot, settings: Settings, delays, sleep) -> User:
    texts = Texts(settings.service_tz)
    server = settings.telegram_api_url or DEFAULT_SERVER
    for attempt, delay in enumerate([*delays, None], start=1):
        try:
            return await bot.me()
        except TelegramUnauthorizedError as e:
            raise StartupError("cli_token_refused", code=2, server=server) from e
        except TelegramRetryAfter as e:
            reason, pause = "429", max(float(e.retry_after), delay or 0)
        except (TelegramNetworkError, TelegramServerError) as e:
            reason, pause = redact(first_line(e), settings.bot_token.get_secret_value()), delay or 0
        except TelegramAPIError as e:  # 404 and the like: the server is not a Bot API server
            raise StartupError(
                "cli_telegram_refused",
                code=2,
                server=server,
                error=redact(e.message, settings.bot_token.get_secret_value()),
            ) from e
        if delay is None:
            raise StartupError(
                "cli_telegram_unreachable", code=3, server=server, seconds=round(sum(delays))
            )
        say(
            texts,
            "cli_telegram_retrying",
            {"server": server, "attempt": attempt, "seconds": round(pause), "error": reason},
            err=True,
        )
        await sleep(pause)
    raise AssertionError("unreachable")  # the loop returns or raises
