"""Small SQL helpers shared by the repositories."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession


def _upsert(session: AsyncSession):
    return postgresql.insert if session.bind.dialect.name == "postgresql" else sqlite.insert


def sqlite_time(when: datetime) -> str:
    """The text SQLAlchemy's SQLite DateTime stores (naive UTC), so both paths read alike."""
    return when.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
