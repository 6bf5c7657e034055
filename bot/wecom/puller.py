"""Pulling WeChat's messages (kf/sync_msg) after the callback rang, page by page.

The cursor is saved after every page, and every message is applied in its own transaction with
its msgid recorded (channel_messages): a crash in the middle of a page pulls that page again and
applies only what was not applied yet; a restart neither doubles nor misses a message. A page may
be empty and still say has_more: only has_more=0 ends the pull. Runs as a background job
(bot/jobs.py), woken by the callback, and every few minutes without one (WeCom allows a pull
without the callback's token, less often), so a callback lost in transit costs a delay, not a
message. A message that fails by itself is tried again at the next pull, POISON_ATTEMPTS times,
then logged and passed over, so one bad message cannot hold back every owner behind it."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from typing import Any

from storage.channel_repo import ChannelRepo
from storage.uow import UnitOfWork

from ..ingress import is_transient
from .api import WeComApi, WeComError
from .inbound import WECOM, WeComInbound

log = logging.getLogger(__name__)

PAGE = 1000
POISON_ATTEMPTS = 3


class WeComPuller:
    def __init__(
        self,
        sessionmaker,
        api: WeComApi,
        inbound: WeComInbound,
        open_kfid: str,
        senders: Mapping[str, Any] | None = None,
    ):
        self.sessionmaker = sessionmaker
        self.api = api
        self.inbound = inbound
        self.open_kfid = open_kfid
        self.senders = senders or {}
        self.clock = inbound.clock
        self._token = ""  # the last callback's token (WeCom accepts it for 10 minutes)
        self._lock = asyncio.Lock()
        self._failures: dict[str, int] = {}
        self.job = None  # set when registered with the runner: ring() wakes it

    def ring(self, open_kfid: str, token: str) -> None:
        """The callback said there is something to pull (answered before the pull runs)."""
        if open_kfid and open_kfid != self.open_kfid:
            return
        if token:
            self._token = token
        if self.job is not None:
            self.job.wake()

    async def pull(self) -> int:
        """Pull until WeChat has nothing more; the number of messages applied."""
        async with self._lock:  # one pull at a time in this process: the cursor moves forward
            applied = 0
            cursor = await self._load_cursor()
            while True:
                try:
                    page = await self.api.sync_msg(cursor, self._token, self.open_kfid, PAGE)
                except WeComError as e:
                    if e.msg_token_invalid:
                        self._token = ""  # expired: pull without it
                        continue
                    raise
                for msg in page.msgs:
                    if await self._apply(msg):
                        applied += 1
                if page.next_cursor and page.next_cursor != cursor:
                    cursor = page.next_cursor
                    await self._save_cursor(cursor)
                if not page.has_more:
                    return applied

    async def _apply(self, msg: Mapping[str, Any]) -> bool:
        msgid = str(msg.get("msgid") or "")
        try:
            done = await self.inbound.apply(msg)
        except Exception as e:
            if is_transient(e):
                raise  # the database is away: the pull stops here and the cursor waits
            tries = self._failures.get(msgid, 0) + 1
            if tries < POISON_ATTEMPTS:
                self._failures[msgid] = tries
                raise
            self._failures.pop(msgid, None)
            log.exception("wecom message %s failed %d times; passed over", msgid, tries)
            return False
        self._failures.pop(msgid, None)
        await self._send(done.claimed)
        return done.kind not in ("duplicate", "skipped")

    async def _send(self, claimed: list[Any]) -> None:
        """The step's rows, written already claimed, go out now: the owner's reply on WeChat,
        the agents' card on Telegram."""
        by_channel: dict[str, list[Any]] = {}
        for row in claimed:
            by_channel.setdefault(row.channel, []).append(row)
        for channel, rows in by_channel.items():
            sender = self.senders.get(channel)
            if sender is None:
                continue  # left to the lease and the channel's own job
            try:
                await sender.deliver_claimed(rows, reachable=frozenset(r.chat_id for r in rows))
            except Exception:
                log.exception("wecom: sending a step's %s rows failed; the sender retries", channel)

    async def _load_cursor(self) -> str:
        async with UnitOfWork(self.sessionmaker) as uow:
            return await ChannelRepo(uow.session).cursor(WECOM, self.open_kfid)

    async def _save_cursor(self, cursor: str) -> None:
        async with UnitOfWork(self.sessionmaker) as uow:
            await ChannelRepo(uow.session).save_cursor(
                WECOM, self.open_kfid, cursor, self.clock.now()
            )
            await uow.commit()
