"""Sliding-window limits per chat, on the injectable clock: Telegram allows about 20 messages a
minute into one group."""

from __future__ import annotations

from collections import deque
from datetime import datetime, timedelta


class WindowLimiter:
    def __init__(self, limit: int, window: timedelta):
        self.limit = limit
        self.window = window
        self._sent: dict[str, deque[datetime]] = {}

    def _trim(self, key: str, now: datetime) -> deque[datetime]:
        q = self._sent.setdefault(key, deque())
        while q and now - q[0] >= self.window:
            q.popleft()
        return q

    def available(self, key: str, now: datetime) -> int:
        return self.limit - len(self._trim(key, now))

    def next_free(self, key: str, now: datetime) -> datetime:
        q = self._trim(key, now)
        return now if len(q) < self.limit else q[0] + self.window

    def record(self, key: str, now: datetime) -> None:
        self._trim(key, now).append(now)


class TokenBucket:
    """`rate` tokens a second, up to `burst`, per key; time from a monotonic clock (Telegram
    counts real seconds), injectable for tests."""

    def __init__(self, rate: float, burst: float, now=None):
        import time

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
