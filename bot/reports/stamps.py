"""Stored instants read fast: the report reads over a million of them, and the model's
UTCDateTime (a TypeDecorator over the dialect's DateTime) costs two Python calls and a parse
per value. `utc(column)` reads the same column as an aware UTC datetime in one C call: SQLite
keeps "YYYY-MM-DD HH:MM:SS.ffffff" in UTC (parsed by fromisoformat); on PostgreSQL the server
turns the naive UTC value into a timestamptz, which asyncpg decodes as an aware datetime
itself, so no Python runs per value at all."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement
from sqlalchemy.types import UserDefinedType

_fromiso = datetime.fromisoformat


class _UtcStamp(UserDefinedType):
    # a user-defined type is not swapped for the dialect's DateTime, so this reader is used
    cache_ok = True

    def get_col_spec(self, **kw: Any) -> str:  # pragma: no cover - never in a DDL
        return "TIMESTAMP"

    def result_processor(self, dialect, coltype):
        if dialect.name == "sqlite":

            def from_text(value):
                return None if value is None else _fromiso(value + "+00:00")

            return from_text

        if dialect.name == "postgresql":
            return None  # timestamptz (see _compile_pg): asyncpg's decoder made it aware

        def from_naive(value):
            return None if value is None else value.replace(tzinfo=UTC)

        return from_naive


STAMP = _UtcStamp()


class _AsUtc(FunctionElement):
    """The stored naive UTC instant, read as UTC (compiled per dialect below)."""

    type = STAMP
    inherit_cache = True
    name = "as_utc"


@compiles(_AsUtc)
def _compile_plain(element, compiler, **kw):
    return compiler.process(element.clauses, **kw)


@compiles(_AsUtc, "postgresql")
def _compile_pg(element, compiler, **kw):
    return f"timezone('UTC', {compiler.process(element.clauses, **kw)})"


def fixed_offset(tz: Any, year: int) -> timedelta | None:
    """The zone's offset where it keeps one all year (Asia/Shanghai has no summer time), else
    None: adding it to a UTC instant gives the local time without a zone lookup, which a
    report over a hundred thousand tickets would do a million times."""
    winter = datetime(year, 1, 1, tzinfo=UTC).astimezone(tz).utcoffset()
    summer = datetime(year, 7, 1, tzinfo=UTC).astimezone(tz).utcoffset()
    return winter if winter is not None and winter == summer else None


def utc(column: Any) -> sa.ColumnElement[datetime]:
    """`column` (or a labelled expression over columns) read as an aware UTC instant."""
    if isinstance(column, sa.sql.elements.Label):
        return _AsUtc(column.element).label(column.name)
    return _AsUtc(column).label(column.key)
