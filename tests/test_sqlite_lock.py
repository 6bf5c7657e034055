"""Another process holding SQLite's write lock delays a step but neither freezes the bot nor loses
the step (issue 10, finding 8: the whole bot froze for 8 s and an update was lost)."""

import asyncio
import sqlite3
from datetime import UTC, datetime

from storage.db import make_engine, make_sessionmaker, migrate
from storage.uow import UnitOfWork

OLD = datetime(2020, 1, 1, tzinfo=UTC)


async def test_a_foreign_write_lock_is_waited_for_without_freezing_the_loop(tmp_path):
    path = tmp_path / "bot.sqlite3"
    url = f"sqlite+aiosqlite:///{path}"
    await migrate(url)
    engine = make_engine(url)
    sm = make_sessionmaker(engine)
    async with UnitOfWork(sm) as uow:  # the bot's first connection puts the file in WAL
        await uow.accounts.prune_updates(OLD)
        await uow.commit()
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # another process takes the write lock
    ticks = 0
    step_done = asyncio.Event()

    async def another_owner():  # stands for everything else the bot serves meanwhile
        nonlocal ticks
        while not step_done.is_set():
            ticks += 1
            await asyncio.sleep(0.01)

    async def release_later():
        await asyncio.sleep(1.0)
        other.execute("COMMIT")

    async def step():
        async with UnitOfWork(sm) as uow:
            await uow.accounts.first_time(424242, datetime.now(UTC))
            await uow.commit()
        step_done.set()

    await asyncio.wait_for(asyncio.gather(another_owner(), release_later(), step()), 20)
    # the step went through once the lock was free, and the loop kept serving meanwhile
    ticks_while_locked = ticks
    assert ticks_while_locked > 20
    check = sqlite3.connect(path)
    assert (
        check.execute("SELECT count(*) FROM processed_updates WHERE update_id = 424242").fetchone()[
            0
        ]
        == 1
    )
    check.close()
    other.close()
    await engine.dispose()
