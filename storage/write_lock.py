"""Taking a unit of work's write lock without freezing the bot (issue 10, finding 8).

SQLite: every transaction starts with BEGIN IMMEDIATE at its first statement, so the file's one
write lock is taken before a step reads anything, never half-way through it. The inline connection runs on the event loop's thread
(storage/sqlite_inline.py), so SQLite's busy timeout is kept tiny and the waiting is done here,
with asyncio.sleep between tries: another process holding the lock for seconds delays our steps
but never the loop, and no step is lost to "database is locked".

PostgreSQL: many writers; an owner's steps are kept one at a time across processes by an
advisory lock on the account (storage/account_repo.py)."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import time

from sqlalchemy import event, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.util import await_only

log = logging.getLogger(__name__)

# how long one try may block the loop inside SQLite, and how long we keep trying in all
SQLITE_BUSY_MS = 20
LOCK_WAIT_SECONDS = 30.0


def use_immediate_transactions(engine: AsyncEngine) -> None:
    """pysqlite's own BEGIN is deferred (the lock is taken at the first write, when a step has
    already done its work); take it at BEGIN instead."""

    @event.listens_for(engine.sync_engine, "connect")
    def _no_driver_begin(dbapi_conn, _record):
        from .sqlite_inline import InlineConnection

        inner = getattr(dbapi_conn, "_connection", None)
        if isinstance(inner, InlineConnection):
            # SQLAlchemy's adapter would queue this for aiosqlite's thread, which the inline
            # connection does not have: set it on the sqlite3 connection directly
            inner._conn.isolation_level = None
        else:
            dbapi_conn.isolation_level = None

    @event.listens_for(engine.sync_engine, "begin")
    def _begin_immediate(conn):
        # runs inside SQLAlchemy's greenlet: await_only lets the loop serve other owners while
        # another process (or another of our transactions) holds the write lock
        deadline = time.monotonic() + LOCK_WAIT_SECONDS
        wait = 0.002
        while True:
            try:
                conn.exec_driver_sql("BEGIN IMMEDIATE")
                return
            except OperationalError as exc:
                if not is_locked(exc) or time.monotonic() >= deadline:
                    raise
            await_only(asyncio.sleep(wait))
            wait = min(wait * 2, 0.1)


def is_locked(exc: BaseException) -> bool:
    orig = getattr(exc, "orig", exc)
    return isinstance(orig, sqlite3.OperationalError) and "locked" in str(orig).lower()


async def job_turn(session, name: str) -> bool:
    """A background job that must run once across instances (handoff nudges, pruning) takes its
    turn under this lock for the length of its transaction; another instance finding it taken
    skips this turn (its next turn sees the work done). SQLite: BEGIN IMMEDIATE already lets one
    transaction at a time write, so the job's own bookkeeping (nudged_at) keeps it once."""
    if session.bind.dialect.name != "postgresql":
        return True
    got = await session.scalar(
        text("SELECT pg_try_advisory_xact_lock(hashtext(:k))"), {"k": f"job:{name}"}
    )
    return bool(got)
