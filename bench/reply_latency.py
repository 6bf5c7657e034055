"""How soon an owner's reply leaves, now that every reply goes through the outbox: from the update
being offered on getUpdates to the sendMessage for that chat reaching the fake Bot API (real
HTTP, tests/fake_bot_api.py), through long polling, the step, its commit, the claim and the send.

    python bench/reply_latency.py [--owners 100] [--concurrent 10] [--think 1.5]
                                  [--database-url URL]

SQLite in a temp dir by default; a postgresql+asyncpg:// URL names a server on which a
throwaway database is created and dropped.

Each owner starts (/start), shares their phone and confirms the match: three steps, one reply
batch each, about --think seconds apart; owners start one after another so that about
--concurrent of them are walking at any time. The fake Bot API runs in the same process and
event loop as the bot, so its own work is inside the figures. Prints p50/p95/p99 in
milliseconds (goal: p50 under 50 ms)."""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

TOKEN = "123456789:AAHbenchTOKENbenchTOKENbenchTOKEN123"


class TimedCalls(list):
    """The fake API's call log, each call stamped as it arrives; waiters woken per chat."""

    def __init__(self):
        super().__init__()
        self.waiters: dict[str, asyncio.Future] = {}

    def append(self, call) -> None:
        super().append(call)
        method, params = call
        if method == "sendMessage":
            waiter = self.waiters.pop(str(params.get("chat_id")), None)
            if waiter is not None and not waiter.done():
                waiter.set_result(time.perf_counter())


async def offer(api, update: dict) -> float:
    """Put an update on getUpdates (without waiting for it to be handled); when it was offered."""
    async with api._changed:
        api.updates.append({"update_id": next(api._ids), **update})
        api._changed.notify_all()
    return time.perf_counter()


async def owner_walk(
    api, calls: TimedCalls, uid: int, phone: str, think: float, start: float, out: list[float]
) -> None:
    from tests.fake_bot_api import TgUser

    await asyncio.sleep(start)
    owner = TgUser(api, uid, "王芳")
    chat = str(uid)
    steps = [
        {"message": owner._message(text="/start", entities=[_command(6)])},
        {
            "message": owner._message(
                contact={"phone_number": phone, "first_name": "王芳", "user_id": uid}
            )
        },
    ]
    for update in steps:
        waiter = calls.waiters[chat] = asyncio.get_running_loop().create_future()
        t0 = await offer(api, update)
        out.append((await asyncio.wait_for(waiter, 10)) - t0)
        # an owner reads before answering (and Telegram's ~1 message a second per chat is
        # kept by the sender: a faster owner's later replies are paced, not measured here)
        await asyncio.sleep(think * random.uniform(0.7, 1.3))
    # the confirmation button ("是") of the last reply
    button = owner.find_button("是")
    waiter = calls.waiters[chat] = asyncio.get_running_loop().create_future()
    query = {
        "id": f"cq{uid}",
        "from": owner.user,
        "chat_instance": "ci",
        "message": {"message_id": 1, "date": 0, "chat": owner.chat, "text": "(prompt)"},
        "data": button["callback_data"],
    }
    t0 = await offer(api, {"callback_query": query})
    out.append((await asyncio.wait_for(waiter, 10)) - t0)


def _command(length: int) -> dict:
    return {"type": "bot_command", "offset": 0, "length": length}


async def run(owners: int, concurrent: int, think: float, url: str) -> list[float]:
    from bot.factory import build_app, build_bot, build_dispatcher
    from bot.paths import SAMPLE_OWNERS
    from bot.settings import Settings
    from storage.db import make_engine, make_sessionmaker, migrate
    from storage.owner_import import import_owners
    from storage.uow import UnitOfWork
    from tests.fake_bot_api import FakeBotAPI

    await migrate(url)
    engine = make_engine(url)
    async with UnitOfWork(make_sessionmaker(engine)) as uow:
        await import_owners(uow.session, SAMPLE_OWNERS.read_bytes())
        await uow.commit()
    await engine.dispose()

    api = FakeBotAPI(TOKEN)
    calls = api.calls = TimedCalls()
    await api.start()
    settings = Settings(bot_token=TOKEN, telegram_api_url=api.url, database_url=url)
    app = build_app(settings)
    bot = build_bot(settings)
    dp, _ = build_dispatcher(app, bot)
    polling = asyncio.create_task(dp.start_polling(bot, polling_timeout=1, handle_signals=False))
    out: list[float] = []
    try:
        await asyncio.sleep(0.3)  # getMe, the first getUpdates
        # warm up (the first response builds aiogram's generic result models)
        await owner_walk(api, calls, 899_999, "13800000301", think, 0, [])
        # every owner identifies by the sample's first phone: the walk ends on its match. About
        # `concurrent` owners are walking at any time, their steps spread as people's are
        uids = list(range(900_000, 900_000 + owners))
        walk = 3 * think
        await asyncio.gather(
            *(
                owner_walk(api, calls, u, "13800000301", think, i * walk / concurrent, out)
                for i, u in enumerate(uids)
            )
        )
    finally:
        await dp.stop_polling()
        await asyncio.wait_for(polling, 10)
        await bot.session.close()
        await app.db.dispose()
        await api.stop()
    return out


async def throwaway_pg(server_url: str, drop: str = "") -> str:
    """A fresh database on the PostgreSQL server of `server_url` (or `drop` that one)."""
    import uuid

    import asyncpg

    base = server_url.replace("postgresql+asyncpg://", "postgresql://")
    conn = await asyncpg.connect(base)
    try:
        if drop:
            await conn.execute(f'DROP DATABASE IF EXISTS "{drop}" WITH (FORCE)')
            return drop
        name = f"latency_{uuid.uuid4().hex[:10]}"
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    return server_url.rsplit("/", 1)[0] + "/" + name


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--owners", type=int, default=100)
    ap.add_argument("--concurrent", type=int, default=10)
    ap.add_argument("--think", type=float, default=1.5, help="seconds between an owner's steps")
    ap.add_argument("--database-url", default="")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = args.database_url or f"sqlite+aiosqlite:///{os.path.join(tmp, 'latency.sqlite3')}"
        server = url if url.startswith("postgresql") else ""
        if server:
            # a throwaway database on that server, dropped afterwards
            url = asyncio.run(throwaway_pg(server))
        try:
            out = asyncio.run(run(args.owners, args.concurrent, args.think, url))
        finally:
            if server:
                asyncio.run(throwaway_pg(server, drop=url.rsplit("/", 1)[1]))
    ms = sorted(x * 1000 for x in out)
    q = statistics.quantiles(ms, n=100)
    backend = url.split(":", 1)[0]
    print(
        f"reply latency, update offered -> sendMessage at the fake Bot API ({backend}, "
        f"{args.owners} owners x 3 steps, ~{args.concurrent} walking at once, ~{args.think} s "
        "between steps)"
    )
    print(f"  replies measured   {len(ms):8d}")
    print(f"  p50                {q[49]:8.1f} ms   (goal < 50)")
    print(f"  p95                {q[94]:8.1f} ms")
    print(f"  p99                {q[98]:8.1f} ms")
    print(f"  max                {ms[-1]:8.1f} ms")


if __name__ == "__main__":
    main()
