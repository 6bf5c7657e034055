"""Dialog throughput and memory, through the real dispatcher and a real SQLite file, no network.

    python bench/dialogs.py [--owners 200] [--open 10000] [--pg]

Phase 1: owners each complete a repair dialog (11 steps, every step persisted) through the real
Dispatcher; then the same count of updates through a bare aiogram echo handler. Prints steps per
second, CPU seconds per step, p50/p95/p99 step latency and the ratio to the echo baseline.
Phase 2 (own processes): peak RSS with --open conversations stored and handled, beside a bare
aiogram process that handled as many updates."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from itertools import count
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from aiogram import Bot, Dispatcher, F
from aiogram.client.session.base import BaseSession
from aiogram.methods import SendMessage
from aiogram.types import Message, Update
from scratch_pg import pg_database

TOKEN = "123456789:AAHbenchTOKENbenchTOKENbenchTOKEN123"


class NullSession(BaseSession):
    """Answers every Bot API call in-process: the bench measures the bot, not the network."""

    def __init__(self):
        super().__init__()
        self.last_markup: dict[int, Any] = {}
        self._ids = count(1)

    async def make_request(self, bot, method, timeout=None):
        if isinstance(method, SendMessage):
            if method.reply_markup is not None:
                self.last_markup[int(method.chat_id)] = method.reply_markup
            return Message.model_validate(
                {
                    "message_id": next(self._ids),
                    "date": 0,
                    "text": method.text,
                    "chat": {"id": int(method.chat_id), "type": "private"},
                }
            )
        return True

    async def stream_content(self, *a, **kw):  # pragma: no cover
        raise NotImplementedError

    async def close(self):
        pass


def _msg(uid: int, uidx: count, **fields) -> dict:
    return {
        "update_id": next(uidx),
        "message": {
            "message_id": 1,
            "date": 0,
            "chat": {"id": uid, "type": "private"},
            "from": {"id": uid, "is_bot": False, "first_name": "o"},
            **fields,
        },
    }


def _press(uid: int, uidx: count, session: NullSession, label: str) -> dict:
    markup = session.last_markup[uid]
    data = next(b.callback_data for row in markup.inline_keyboard for b in row if label in b.text)
    return {
        "update_id": next(uidx),
        "callback_query": {
            "id": "q",
            "chat_instance": "c",
            "data": data,
            "from": {"id": uid, "is_bot": False, "first_name": "o"},
            "message": {"message_id": 1, "date": 0, "chat": {"id": uid, "type": "private"}},
        },
    }


async def _setup(db_path: str, owners: int):
    from bot.factory import build_app, build_dispatcher
    from bot.settings import Settings
    from storage.db import migrate
    from storage.owner_import import import_owners
    from storage.uow import UnitOfWork

    url = db_path if "://" in db_path else f"sqlite+aiosqlite:///{db_path}"
    await migrate(url)
    app = build_app(Settings(bot_token=TOKEN, database_url=url))
    lines = ["building,unit,room,name,salutation,phone"]
    lines += [f"{1 + i // 100},1,{i % 100 + 1:03d},王{i},女士,139{i:08d}" for i in range(owners)]
    async with UnitOfWork(app.sessionmaker) as uow:
        await import_owners(uow.session, "\n".join(lines).encode())
        await uow.commit()
    session = NullSession()
    bot = Bot(TOKEN, session=session)
    # no Telegram behind the in-process session: its rate limits are bench/push.py's subject
    dp, _ = build_dispatcher(app, bot, rate=1e6, chat_burst=1e6)
    return app, bot, dp, session


async def _feed(dp, bot, raw: dict, lat: list[float]) -> None:
    t0 = time.perf_counter()
    await dp.feed_update(bot, Update.model_validate(raw, context={"bot": bot}))
    lat.append(time.perf_counter() - t0)


async def repair_dialogs(owners: int, pg: bool = False) -> tuple[int, float, float, list[float]]:
    with tempfile.TemporaryDirectory() as tmp:
        where = await pg_database("bench_dialogs", True) if pg else os.path.join(tmp, "b.sqlite3")
        app, bot, dp, session = await _setup(where, owners)
        uidx = count(1)
        lat: list[float] = []
        cpu0, wall0 = time.process_time(), time.perf_counter()
        for i in range(owners):
            uid = 10_000 + i
            await _feed(
                dp,
                bot,
                _msg(
                    uid,
                    uidx,
                    text="/start",
                    entities=[{"type": "bot_command", "offset": 0, "length": 6}],
                ),
                lat,
            )
            await _feed(
                dp,
                bot,
                _msg(
                    uid,
                    uidx,
                    contact={"phone_number": f"139{i:08d}", "first_name": "o", "user_id": uid},
                ),
                lat,
            )
            for label in ("是", "报修", "厨房", "水管"):
                await _feed(dp, bot, _press(uid, uidx, session, label), lat)
            await _feed(dp, bot, _msg(uid, uidx, text="厨房水管接口一直在滴水"), lat)
            for label in ("没有照片", "一般", "明天上午", "确认"):
                await _feed(dp, bot, _press(uid, uidx, session, label), lat)
        cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
        await app.db.dispose()
        if pg:
            await pg_database("bench_dialogs", False)
        return len(lat), cpu, wall, lat


async def echo(n: int) -> tuple[float, float]:
    session = NullSession()
    bot = Bot(TOKEN, session=session)
    dp = Dispatcher()

    @dp.message(F.text)
    async def _echo(message: Message) -> None:
        await message.answer(message.text)

    uidx = count(1)
    cpu0, wall0 = time.process_time(), time.perf_counter()
    for i in range(n):
        await dp.feed_update(
            bot,
            Update.model_validate(_msg(20_000 + i % 500, uidx, text="hi"), context={"bot": bot}),
        )
    return time.process_time() - cpu0, time.perf_counter() - wall0


def pct(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(len(values) * p))] * 1000


async def memory_ours(n: int) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        app, bot, dp, session = await _setup(os.path.join(tmp, "mem.sqlite3"), n)
        uidx = count(1)
        lat: list[float] = []
        for i in range(n):  # each owner identified and mid-dialog: an open conversation
            uid = 10_000 + i
            await _feed(
                dp,
                bot,
                _msg(
                    uid,
                    uidx,
                    contact={"phone_number": f"139{i:08d}", "first_name": "o", "user_id": uid},
                ),
                lat,
            )
            session.last_markup.pop(uid, None)
        await app.db.dispose()
    return {"maxrss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}


async def memory_bare(n: int) -> dict:
    await echo(n)
    return {"maxrss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}


def _child(kind: str, n: int) -> dict:
    out = subprocess.run(
        [sys.executable, __file__, "--child", kind, "--open", str(n)],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--owners", type=int, default=200)
    ap.add_argument("--open", type=int, default=10_000)
    ap.add_argument("--child", choices=["ours", "bare"])
    ap.add_argument(
        "--pg",
        action="store_true",
        help="also on PostgreSQL (127.0.0.1:5432, a throwaway database)",
    )
    args = ap.parse_args()
    if args.child:
        fn = memory_ours if args.child == "ours" else memory_bare
        print(json.dumps(asyncio.run(fn(args.open))))
        return

    steps, cpu, wall, lat = asyncio.run(repair_dialogs(args.owners))
    echo_cpu, _ = asyncio.run(echo(steps))
    print(f"repair dialogs: {args.owners} owners, {steps} steps, every step committed to SQLite")
    print(f"  steps/s (wall)        {steps / wall:10.0f}")
    print(f"  steps per CPU second  {steps / cpu:10.0f}   (goal >= 1000)")
    print(f"  CPU s per step        {cpu / steps:10.6f}")
    print(
        f"  latency p50/p95/p99   {pct(lat, 0.5):.2f} / {pct(lat, 0.95):.2f} / {pct(lat, 0.99):.2f} ms"
    )
    if args.pg:
        # the server's own CPU is not in this process's figure: wall time is shown beside it
        n, pg_cpu, pg_wall, pg_lat = asyncio.run(repair_dialogs(args.owners, pg=True))
        print("the same dialogs, every step committed to PostgreSQL (server CPU not included)")
        print(f"  steps/s (wall)        {n / pg_wall:10.0f}")
        print(f"  steps per CPU second  {n / pg_cpu:10.0f}   (this process)")
        print(
            f"  latency p50/p95/p99   {pct(pg_lat, 0.5):.2f} / {pct(pg_lat, 0.95):.2f} / "
            f"{pct(pg_lat, 0.99):.2f} ms"
        )
    print(f"bare aiogram echo: {steps} updates")
    print(f"  updates per CPU sec   {steps / echo_cpu:10.0f}")
    print(f"  ratio ours/echo       {(steps / cpu) / (steps / echo_cpu):10.2f}")
    ours, bare = _child("ours", args.open), _child("bare", args.open)
    diff = (ours["maxrss_kb"] - bare["maxrss_kb"]) / 1024
    print(f"memory with {args.open} open conversations:")
    print(f"  ours peak RSS         {ours['maxrss_kb'] / 1024:10.1f} MB")
    print(f"  bare aiogram peak RSS {bare['maxrss_kb'] / 1024:10.1f} MB")
    print(f"  difference            {diff:10.1f} MB   (goal <= 60)")


if __name__ == "__main__":
    main()
