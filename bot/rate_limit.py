"""Telegram's limits on sending belong to the bot, not to a process: about 30 messages a second
overall, about one a second into one chat, 20 a minute into one group, and a 429's retry_after,
before which no request may go out at all.

Two keepers of them, one interface (`Limits`):
- `LocalLimits`, one process: token buckets in memory, the group's minute read back from the
  outbox's own sent times (a restart does not forget it), the 429 pause in memory.
- `SharedLimits`, every process of the bot on one Redis (REDIS_URL): moving windows of the
  `limits` library, and the 429 pause as a key that expires with retry_after."""

from __future__ import annotations

import logging
import math
import time
from collections import deque
from datetime import datetime, timedelta
from typing import Protocol

log = logging.getLogger(__name__)

GROUP_PER_MINUTE = 20
# Telegram counts a minute of arrivals; we count when a send was taken (Redis) or recorded as
# sent (the outbox), which is up to a request's time away from its arrival: a window two seconds
# longer keeps any 60 s of arrivals at 20 (two instances once put 21 into one minute, chaos B)
GROUP_WINDOW = timedelta(seconds=62)


class Limits(Protocol):
    async def paused(self, now: datetime) -> datetime | None:
        """Until when Telegram asked every request to wait (None: no pause)."""

    async def pause(self, now: datetime, seconds: float) -> None: ...

    async def chat(self, chat_id: str) -> float:
        """Take a send into one private chat: 0 when taken, else the seconds to wait."""

    async def overall(self) -> float:
        """Take a send from the bot's overall rate: 0 when taken, else the seconds to wait."""

    async def group(self, chat_id: str, row_id: int, now: datetime) -> datetime | None:
        """Take a send into a group's minute: None when taken, else when a send frees up."""


class WindowLimiter:
    """Sends in a sliding window, on the injectable clock; `row` names the outbox row sent, so
    the same send read back from the outbox is not counted twice."""

    def __init__(self, limit: int, window: timedelta):
        self.limit = limit
        self.window = window
        self._sent: dict[str, deque[tuple[datetime, int | None]]] = {}

    def _trim(self, key: str, now: datetime) -> deque[tuple[datetime, int | None]]:
        q = self._sent.setdefault(key, deque())
        while q and now - q[0][0] >= self.window:
            q.popleft()
        return q

    def recent(self, key: str, now: datetime) -> list[tuple[datetime, int | None]]:
        return list(self._trim(key, now))

    def available(self, key: str, now: datetime) -> int:
        return self.limit - len(self._trim(key, now))

    def next_free(self, key: str, now: datetime) -> datetime:
        q = self._trim(key, now)
        return now if len(q) < self.limit else q[0][0] + self.window

    def record(self, key: str, now: datetime, row: int | None = None) -> None:
        self._trim(key, now).append((now, row))


class TokenBucket:
    """`rate` tokens a second, up to `burst`, per key; time from a monotonic clock (Telegram
    counts real seconds), injectable for tests."""

    def __init__(self, rate: float, burst: float, now=None):
        self.rate = rate
        self.burst = burst
        self.now = now or time.monotonic
        self._state: dict[str, tuple[float, float]] = {}

    def _level(self, key: str) -> float:
        t = self.now()
        level, at = self._state.get(key, (self.burst, t))
        return min(self.burst, level + (t - at) * self.rate)

    def wait(self, key: str = "") -> float:
        """Seconds until a token is there (0: now)."""
        level = self._level(key)
        return 0.0 if level >= 1 else (1 - level) / self.rate

    def take(self, key: str = "") -> None:
        self._state[key] = (self._level(key) - 1, self.now())
        if len(self._state) > 50_000:  # forget chats that have long refilled
            t = self.now()
            self._state = {
                k: v for k, v in self._state.items() if t - v[1] < self.burst / self.rate
            }


class MovingWindow:
    """At most `limit` takes in any `seconds`, on a monotonic clock: a burst goes out at once
    (ten owners answered together wait for nobody) and no second ever holds more than `limit`."""

    def __init__(self, limit: int, seconds: float, now=None):
        self.limit = limit
        self.seconds = seconds
        self.now = now or time.monotonic
        self._taken: deque[float] = deque()

    def take(self) -> float:
        """0 when taken, else the seconds until a take is possible."""
        t = self.now()
        q = self._taken
        while q and t - q[0] >= self.seconds:
            q.popleft()
        if len(q) >= self.limit:
            return q[0] + self.seconds - t
        q.append(t)
        return 0.0


class LocalLimits:
    """One process's view. The group's window counts what this process sent (in memory) and
    every row the outbox holds as sent into the group in the last minute, by any process
    before or since a restart (`sent_times`: storage/outbox.py)."""

    def __init__(
        self,
        sent_times,
        *,
        rate: float = 28.0,
        chat_rate: float = 1.0,
        chat_burst: float = 3.0,
        rate_clock=None,
    ):
        # a window, not a bucket: a bucket's burst on top of its steady rate would break the
        # one-second window Telegram counts in
        self.overall_window = MovingWindow(max(1, int(rate)), 1.0, rate_clock)
        self.per_chat = TokenBucket(chat_rate, chat_burst, rate_clock)
        self.group_window = WindowLimiter(GROUP_PER_MINUTE, GROUP_WINDOW)
        self.sent_times = sent_times  # async (chat_id, since) -> [(row id, sent_at)]
        self._resume_at: datetime | None = None

    async def paused(self, now: datetime) -> datetime | None:
        return self._resume_at if self._resume_at is not None and now < self._resume_at else None

    async def pause(self, now: datetime, seconds: float) -> None:
        until = now + timedelta(seconds=seconds)
        if self._resume_at is None or until > self._resume_at:
            self._resume_at = until

    async def chat(self, chat_id: str) -> float:
        wait = self.per_chat.wait(chat_id)
        if wait <= 0:
            self.per_chat.take(chat_id)
        return wait

    async def overall(self) -> float:
        return self.overall_window.take()

    async def group(self, chat_id: str, row_id: int, now: datetime) -> datetime | None:
        window = self.group_window
        mine = window.recent(chat_id, now)
        stored = await self.sent_times(chat_id, now - window.window)
        stored_ids = {row for row, _ in stored}
        times = sorted(
            [at for _, at in stored]
            + [at for at, row in mine if row is None or row not in stored_ids]
        )
        if len(times) >= window.limit:
            return times[-window.limit] + window.window
        window.record(chat_id, now, row_id)
        return None


class SharedLimits:
    """The same limits kept in Redis for every process of the bot (keys under `prefix`, which
    names the bot: two bots on one Redis do not share their limits).

    Redis down does not stop the sending: each call falls back to this process's own limits
    (`fallback`, a LocalLimits; the group's minute still read back from the outbox), logged once
    per outage, and Redis is asked again after a few seconds."""

    OPTIONS = ("rate", "chat_rate", "chat_burst")
    RETRY_REDIS = 5.0  # seconds on our own limits before Redis is tried again

    def __init__(
        self,
        redis_url: str,
        prefix: str,
        *,
        rate: float = 28.0,
        chat_rate: float = 1.0,
        chat_burst: float = 3.0,
        fallback: Limits | None = None,
    ):
        self.fallback = fallback
        self._down_since: float | None = None
        import redis.asyncio as aioredis
        from limits import RateLimitItemPerSecond
        from limits.aio.storage import RedisStorage
        from limits.aio.strategies import MovingWindowRateLimiter

        self.redis = aioredis.Redis.from_url(redis_url)
        storage = RedisStorage(
            "async+" + redis_url.replace("unix://", "redis+unix://", 1),
            implementation="redispy",
            key_prefix=f"{prefix}:limits",
            connection_pool=self.redis.connection_pool,
        )
        self.limiter = MovingWindowRateLimiter(storage)
        self.overall_item = RateLimitItemPerSecond(max(1, int(rate)), 1)
        # a burst of `chat_burst`, about `chat_rate` a second over the window
        self.chat_item = RateLimitItemPerSecond(
            max(1, int(chat_burst)), max(1, math.ceil(chat_burst / chat_rate))
        )
        self.group_item = RateLimitItemPerSecond(
            GROUP_PER_MINUTE, int(GROUP_WINDOW.total_seconds())
        )
        self.pause_key = f"{prefix}:paused"

    async def _either(self, shared, local):
        """Redis's answer, or this process's own while Redis cannot be reached."""
        if (
            self._down_since is not None
            and self.fallback is not None
            and time.monotonic() - self._down_since < self.RETRY_REDIS
        ):
            return await local()
        try:
            result = await shared()
        except Exception as exc:  # redis-py's and limits' errors alike
            if self.fallback is None:
                raise
            if self._down_since is None:
                log.warning(
                    "limits: Redis unreachable (%s); each process keeps its own until it is back",
                    type(exc).__name__,
                )
            self._down_since = time.monotonic()
            return await local()
        if self._down_since is not None:
            log.warning("limits: Redis reachable again; the limits are shared again")
            self._down_since = None
        return result

    async def paused(self, now: datetime) -> datetime | None:
        async def shared():
            left_ms = await self.redis.pttl(self.pause_key)
            return now + timedelta(milliseconds=left_ms) if left_ms > 0 else None

        return await self._either(shared, lambda: self.fallback.paused(now))

    async def pause(self, now: datetime, seconds: float) -> None:
        ms = max(1, math.ceil(seconds * 1000))
        if self.fallback is not None:
            # kept here too: a Redis that fails now still leaves this process paused
            await self.fallback.pause(now, seconds)

        async def shared():
            # never shortens a longer pause another process was given
            if await self.redis.pttl(self.pause_key) < ms:
                await self.redis.set(self.pause_key, "429", px=ms)

        async def nothing():
            return None

        await self._either(shared, nothing)

    async def _take(self, item, *key: str) -> float:
        if await self.limiter.hit(item, *key):
            return 0.0
        stats = await self.limiter.get_window_stats(item, *key)
        return max(0.001, stats.reset_time - time.time())

    async def chat(self, chat_id: str) -> float:
        return await self._either(
            lambda: self._take(self.chat_item, "chat", chat_id),
            lambda: self.fallback.chat(chat_id),
        )

    async def overall(self) -> float:
        return await self._either(
            lambda: self._take(self.overall_item, "overall"), lambda: self.fallback.overall()
        )

    async def group(self, chat_id: str, row_id: int, now: datetime) -> datetime | None:
        async def shared():
            wait = await self._take(self.group_item, "group", chat_id)
            return None if wait == 0 else now + timedelta(seconds=wait)

        return await self._either(shared, lambda: self.fallback.group(chat_id, row_id, now))

    async def close(self) -> None:
        await self.redis.aclose()
