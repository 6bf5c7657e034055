"""Engine and session factory; migrations applied with Alembic."""

from __future__ import annotations

import asyncio
from pathlib import Path

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine

from .write_lock import SQLITE_BUSY_MS, use_immediate_transactions

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


def ensure_sqlite_folder(url: str) -> None:
    """An embedded database's folder is created on first use (data/ on a fresh checkout)."""
    if url.startswith("sqlite"):
        path = url.split(":///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)


def make_engine(url: str, inline_sqlite: bool = True) -> AsyncEngine:
    if url.startswith("sqlite"):
        ensure_sqlite_folder(url)
        path = url.split(":///", 1)[-1]
        if inline_sqlite and path and path != ":memory:":
            from .sqlite_inline import inline_creator

            engine = create_async_engine(url, async_creator=inline_creator(path))
            # on the loop's thread: a busy wait inside SQLite would freeze the bot, so it is
            # tiny and the real waiting is asynchronous (storage/write_lock.py)
            busy_ms = SQLITE_BUSY_MS
        else:
            engine = create_async_engine(url, connect_args={"timeout": 30})
            busy_ms = 5000  # aiosqlite's own thread waits, not the loop

        @event.listens_for(engine.sync_engine, "connect")
        def _pragmas(dbapi_conn, _record):  # WAL: readers never wait on the writer
            cur = dbapi_conn.cursor()
            cur.execute(f"PRAGMA busy_timeout={busy_ms}")
            cur.execute("PRAGMA journal_mode")
            if (cur.fetchone() or ("",))[0].lower() != "wal":
                # once per file (it stays WAL); asking needs no lock, switching does
                cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.close()

        use_immediate_transactions(engine)
        return engine
    return create_async_engine(url, pool_pre_ping=True)


def make_sessionmaker(engine: AsyncEngine) -> async_sessionmaker:
    return async_sessionmaker(engine, expire_on_commit=False)


def alembic_config(url: str):
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    cfg.attributes["configure_logger"] = False
    return cfg


def _run(url: str, action: str, rev: str) -> None:
    from alembic import command

    getattr(command, action)(alembic_config(url), rev)


async def migrate(url: str, rev: str = "head") -> None:
    """Upgrade in a worker thread: Alembic's async env runs its own event loop."""
    ensure_sqlite_folder(url)
    await asyncio.to_thread(_run, url, "upgrade", rev)


async def downgrade(url: str, rev: str = "base") -> None:
    await asyncio.to_thread(_run, url, "downgrade", rev)
