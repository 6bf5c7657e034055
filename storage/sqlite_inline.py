"""aiosqlite without its worker thread, for the embedded SQLite default.

aiosqlite sends every call to a thread and back; on this kind of machine that hop costs about
0.4 ms of CPU, while the SQLite call itself (a local file in WAL mode) takes microseconds. A dialog
step makes several calls, so the hop, not the database, would set the bot's speed. Here each call
runs in the event loop's thread instead. It is safe because no transaction of ours waits on
anything but the database between BEGIN and COMMIT (handlers commit before they send), so
transactions never interleave on the loop; other processes are still kept apart by SQLite's own
file locks, with a short busy timeout so a foreign lock cannot stall the loop for long."""

from __future__ import annotations

import sqlite3
from functools import partial
from typing import Any

import aiosqlite


class InlineConnection(aiosqlite.Connection):
    async def _execute(self, fn, *args: Any, **kwargs: Any):
        if not self._connection:
            raise ValueError("Connection closed")
        return fn(*args, **kwargs)

    async def _connect(self) -> InlineConnection:
        if self._connection is None:
            self._connection = self._connector()
        return self

    def __await__(self):
        return self._connect().__await__()

    def stop(self) -> None:
        self._running = False
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    async def close(self) -> None:
        self.stop()


def inline_creator(path: str):
    connector = partial(sqlite3.connect, path, check_same_thread=False)

    def create() -> InlineConnection:
        return InlineConnection(connector, iter_chunk_size=64)

    return create
