"""Small SQL helpers shared by the repositories."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession


def upsert_insert(session: AsyncSession):
    return postgresql.insert if session.bind.dialect.name == "postgresql" else sqlite.insert


def sqlite_time(when: datetime) -> str:
    """The text SQLAlchemy's SQLite DateTime stores (naive UTC), so both paths read alike."""
    return when.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


async def inline_sqlite(session: AsyncSession):
    """The plain sqlite3 connection under this session's transaction when we run on the inline
    embedded default (storage/sqlite_inline.py), else None. Hot statements run on it skip
    SQLAlchemy's per-call machinery while staying inside the same transaction."""
    conn = await session.connection()
    if conn.dialect.name != "sqlite":
        return None
    from .sqlite_inline import InlineConnection

    raw = await conn.get_raw_connection()
    drv = raw.driver_connection
    return drv._conn if isinstance(drv, InlineConnection) else None
