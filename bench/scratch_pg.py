"""A throwaway PostgreSQL database for a bench run (--pg): dropped first, created empty."""

from __future__ import annotations

PG_SERVER = "postgresql+asyncpg://postgres@127.0.0.1:5432"


async def pg_database(name: str, create: bool) -> str:
    """Drop `name` (and create it again when `create`); its URL."""
    import asyncpg

    conn = await asyncpg.connect(PG_SERVER.replace("+asyncpg", "") + "/postgres")
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        if create:
            await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    return f"{PG_SERVER}/{name}"
