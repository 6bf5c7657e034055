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
