"""Recording that an outbox row went out: the one write after every send, so the cheapest one.

On the embedded SQLite file it runs on a connection of its own, with plain SQL and no session:
a unit of work costs more than the two statements it would carry, and every owner's step pays it
once per message (bench/dialogs.py). The lock is taken as everywhere else (BEGIN IMMEDIATE, a
tiny busy timeout, the waiting done with asyncio.sleep: storage/write_lock.py). On PostgreSQL,
or an in-memory SQLite, it is an ordinary unit of work."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from datetime import datetime

from .outbox import ClaimedRow
from .sql_helpers import sqlite_time
from .uow import UnitOfWork
from .write_lock import LOCK_WAIT_SECONDS, SQLITE_BUSY_MS

_MARK = (
    "UPDATE outbox SET state = 'sent', sent_at = ?, claimed_until = NULL, sent_message_id = ? "
    "WHERE id = ?"
)
_CARD = "UPDATE tickets SET card_message_id = ? WHERE id = ?"


class SentMarks:
    def __init__(self, sessionmaker):
        self.sessionmaker = sessionmaker
        url = sessionmaker.kw["bind"].url
        path = url.database or ""
        self._path = (
            path if url.get_backend_name() == "sqlite" and path not in ("", ":memory:") else None
        )
        self._conn: sqlite3.Connection | None = None

    async def sent(self, row: ClaimedRow, now: datetime, message_id: int | None) -> None:
        # a card's group message is remembered: later versions edit it
        card = row.purpose in ("card", "card_edit") and row.ticket_id and message_id
        if self._path is None:
            async with UnitOfWork(self.sessionmaker) as uow:
                await uow.outbox.mark_sent(row.id, now, message_id)
                if card:
                    await uow.cases.set_card_message(row.ticket_id, message_id)
                await uow.commit()
            return
        conn = await self._begin()
        try:
            conn.execute(_MARK, (sqlite_time(now), message_id, row.id))
            if card:
                conn.execute(_CARD, (message_id, row.ticket_id))
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise

    async def _begin(self) -> sqlite3.Connection:
        if self._conn is None:
            self._conn = sqlite3.connect(self._path, isolation_level=None, check_same_thread=False)
            self._conn.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_MS}")
            # as the engine's connections (storage/db.py): in WAL mode a commit need not
            # wait for the disk; the connection's own setting, so it is set here too
            self._conn.execute("PRAGMA synchronous=NORMAL")
        deadline = time.monotonic() + LOCK_WAIT_SECONDS
        wait = 0.002
        while True:
            try:
                self._conn.execute("BEGIN IMMEDIATE")
                return self._conn
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc).lower() or time.monotonic() >= deadline:
                    raise
            await asyncio.sleep(wait)
            wait = min(wait * 2, 0.1)

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None
