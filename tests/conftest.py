"""Database fixtures: every database test runs on SQLite in a temp dir and, when
TEST_DATABASE_URL names a PostgreSQL server, on PostgreSQL too, in a throwaway database."""

from __future__ import annotations

import os
import uuid

import pytest

from storage.db import make_engine, make_sessionmaker, migrate

PG_URL = os.environ.get("TEST_DATABASE_URL", "")
BACKENDS = ["sqlite"] + (["postgresql"] if PG_URL else [])


async def _create_pg_database() -> tuple[str, str]:
    import asyncpg

    base = PG_URL.replace("postgresql+asyncpg://", "postgresql://")
    name = f"t_{uuid.uuid4().hex[:12]}"
    conn = await asyncpg.connect(base)
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    root, _, _ = base.rpartition("/")
    return name, f"postgresql+asyncpg://{root.split('://', 1)[1]}/{name}"


async def _drop_pg_database(name: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(PG_URL.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


@pytest.fixture(params=BACKENDS)
async def db_url(request, tmp_path):
    """A fresh, empty database URL (not yet migrated)."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'test.sqlite3'}"
        return
    name, url = await _create_pg_database()
    try:
        yield url
    finally:
        await _drop_pg_database(name)


@pytest.fixture
async def migrated_url(db_url):
    await migrate(db_url)
    return db_url


@pytest.fixture
async def sessionmaker(migrated_url):
    engine = make_engine(migrated_url)
    try:
        yield make_sessionmaker(engine)
    finally:
        await engine.dispose()
