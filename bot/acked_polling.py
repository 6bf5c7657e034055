"""Long polling that confirms an update only after its step has committed.

Telegram keeps an update until a getUpdates asks for an offset above it. aiogram's polling asks
for the next offset as soon as it hands an update to a handler, so a crash before the step's
commit lost updates Telegram counted as delivered (issue 10, finding 1). Here a batch is fetched,
every update of it is handled to its commit (bot/ingress.py), and only then does the next
getUpdates carry an offset past them; after a kill, every update of the unfinished batch comes
back and the update-id dedupe applies each once.

Within a batch, chats run beside each other (at most `concurrency` at once) and each chat's
updates in Telegram's order. A batch waits for its slowest update; that is the price of never
confirming an update before the ones before it are done, and Telegram answers a getUpdates at
once while unconfirmed updates wait, so fetching ahead would only spin."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from contextlib import suppress

from aiogram import Bot, Dispatcher
from aiogram.exceptions import TelegramAPIError
from aiogram.methods import GetUpdates
from aiogram.types import Update

from .ingress import POISON_ATTEMPTS, describe, feed, is_transient, ordering_key

log = logging.getLogger(__name__)

# seconds before asking again after a failed getUpdates, the last repeated
FETCH_DELAYS: tuple[float, ...] = (1, 2, 3, 5)
# seconds before handling an update again: the database away (no end), the update itself failing
TRANSIENT_DELAYS: tuple[float, ...] = (1, 2, 4, 8, 15, 30)
POISON_DELAYS: tuple[float, ...] = (0.5, 2)


class AckedPolling:
    def __init__(
        self,
        dp: Dispatcher,
        bot: Bot,
        *,
        polling_timeout: int = 10,
        limit: int = 100,
        concurrency: int = 32,
        fetch_delays: Sequence[float] = FETCH_DELAYS,
        transient_delays: Sequence[float] = TRANSIENT_DELAYS,
        poison_delays: Sequence[float] = POISON_DELAYS,
    ):
        self.dp, self.bot = dp, bot
        self.polling_timeout, self.limit, self.concurrency = polling_timeout, limit, concurrency
        self.fetch_delays, self.transient_delays = fetch_delays, transient_delays
        self.poison_delays = poison_delays
        self.offset: int | None = None  # the next getUpdates confirms every update below it
        self.passed_over: list[int] = []  # poison updates given up on (logged as errors)
        self._stop = asyncio.Event()
        self._stopped = asyncio.Event()

    async def prepare(self) -> None:
        # getUpdates is refused while a webhook is set: coming back from webhook mode
        try:
            await self.bot.delete_webhook(drop_pending_updates=False)
        except TelegramAPIError as e:  # getMe has just answered: polling will say what is wrong
            log.warning("deleteWebhook failed (%s: %s)", type(e).__name__, e)

    def request_stop(self) -> None:
        """Stop after the current batch (a signal handler calls this)."""
        self._stop.set()

    async def stop(self) -> None:
        self._stop.set()
        await self._stopped.wait()

    async def run(self) -> None:
        self._stopped.clear()
        allowed = self.dp.resolve_used_update_types()
        data = {"dispatcher": self.dp, "bots": (self.bot,), **self.dp.workflow_data}
        await self.dp.emit_startup(bot=self.bot, **data)
        log.info("long polling; an update is confirmed after its commit")
        try:
            while not self._stop.is_set():
                updates = await self._fetch(allowed)
                if updates:
                    self.offset = await self._handle_batch(updates)
            await self._confirm()
        finally:
            try:
                await self.dp.emit_shutdown(bot=self.bot, **data)
            finally:
                self._stopped.set()

    async def _fetch(self, allowed: list[str]) -> list[Update]:
        """The next batch; empty when stopped, or after a failure and its pause."""
        method = GetUpdates(
            offset=self.offset,
            limit=self.limit,
            timeout=self.polling_timeout,
            allowed_updates=allowed,
        )
        # the request may take the whole long-poll time on top of the session's own limit
        request_timeout = int((self.bot.session.timeout or 60) + self.polling_timeout)
        poll = asyncio.ensure_future(self.bot(method, request_timeout=request_timeout))
        stop = asyncio.ensure_future(self._stop.wait())
        failures = 0
        try:
            while True:
                await asyncio.wait({poll, stop}, return_when=asyncio.FIRST_COMPLETED)
                if not poll.done():  # stopped: updates of a dropped answer stay unconfirmed
                    return []
                try:
                    return poll.result()
                except Exception as e:  # noqa: BLE001 - Telegram away: ask again, as aiogram does
                    delay = self.fetch_delays[min(failures, len(self.fetch_delays) - 1)]
                    failures += 1
                    log.warning(
                        "getUpdates failed (%s: %s); again in %ss", type(e).__name__, e, delay
                    )
                    if not await self._pause(delay):
                        return []
                    poll = asyncio.ensure_future(self.bot(method, request_timeout=request_timeout))
        finally:
            for task in (poll, stop):
                task.cancel()
            with suppress(asyncio.CancelledError, Exception):
                await poll

    async def _handle_batch(self, updates: list[Update]) -> int:
        """Handle the batch; the offset to confirm: past every update when all are done, else
        (stopped in the middle) the first one not done, so it and those after come back."""
        chains: dict[str, list[Update]] = {}
        for update in updates:
            chains.setdefault(ordering_key(update), []).append(update)
        done: set[int] = set()
        slots = asyncio.Semaphore(self.concurrency)

        async def run_chain(chain: list[Update]) -> None:
            async with slots:
                for update in chain:
                    if not await self._handle(update):
                        return  # stopped: the rest of this chat waits for the next start
                    done.add(update.update_id)

        async with asyncio.TaskGroup() as group:
            for chain in chains.values():
                group.create_task(run_chain(chain))
        for update in updates:
            if update.update_id not in done:
                return update.update_id
        return updates[-1].update_id + 1

    async def _handle(self, update: Update) -> bool:
        """True once the update is committed (or passed over as poison); False if stopped while
        waiting to try it again."""
        transient = poison = 0
        while True:
            try:
                await feed(self.dp, self.bot, update)
                return True
            except Exception as e:
                if is_transient(e):
                    delay = self.transient_delays[min(transient, len(self.transient_delays) - 1)]
                    transient += 1
                else:
                    poison += 1
                    if poison >= POISON_ATTEMPTS:
                        log.error(
                            "%s failed %d times; passed over", describe(update), poison, exc_info=e
                        )
                        self.passed_over.append(update.update_id)
                        return True
                    delay = self.poison_delays[min(poison - 1, len(self.poison_delays) - 1)]
                log.warning(
                    "%s failed (%s); tried again in %ss", describe(update), type(e).__name__, delay
                )
            if not await self._pause(delay):
                return False

    async def _pause(self, seconds: float) -> bool:
        """Wait; False when a stop came meanwhile."""
        if self._stop.is_set():
            return False
        try:
            await asyncio.wait_for(self._stop.wait(), seconds)
        except TimeoutError:
            return True
        return False

    async def _confirm(self) -> None:
        """On a clean stop, tell Telegram what was done, so a restart does not fetch it again
        (it would be dropped as a duplicate anyway: this only saves the round)."""
        if self.offset is None:
            return
        try:
            await self.bot(GetUpdates(offset=self.offset, limit=1, timeout=0))
        except Exception as e:  # noqa: BLE001 - best effort; dedupe covers a redelivery
            log.info("could not confirm updates on stop (%s)", type(e).__name__)
