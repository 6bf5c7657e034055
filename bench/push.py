"""Queued notifications to distinct owners, drained by the real outbox sender against a local
fake Bot API that enforces Telegram's limits (bench/fake_telegram.py).

    python bench/push.py [--count 10000]

Prints messages per second (target: at least 25), 429s received (target: 0), the drain time and
the sender's CPU seconds."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

TOKEN = "123456789:AAHbenchTOKENbenchTOKENbenchTOKEN123"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def run(count: int, url: str) -> dict:
    import httpx
    import sqlalchemy as sa

    from bot.factory import build_bot
    from bot.outbox_sender import OutboxSender
    from bot.settings import Settings
    from dialogs.clock import SystemClock
    from storage.db import make_engine, make_sessionmaker, migrate
    from storage.models import OutboxMessage

    with tempfile.TemporaryDirectory() as tmp:
        db = f"sqlite+aiosqlite:///{os.path.join(tmp, 'push.sqlite3')}"
        await migrate(db)
        engine = make_engine(db)
        sm = make_sessionmaker(engine)
        now = datetime.now(UTC)
        rows = [
            {
                "channel": "telegram",
                "chat_id": str(100_000 + i),
                "method": "sendMessage",
                "payload": {"text": f"您的工单进度更新 #{i}", "parse_mode": "HTML"},
                "priority": 1,
                "state": "pending",
                "attempts": 0,
                "not_before": now,
                "created_at": now,
                "error": "",
                "purpose": "owner",
                "ref": {},
            }
            for i in range(count)
        ]
        async with sm() as s:
            for i in range(0, count, 1000):
                await s.execute(sa.insert(OutboxMessage), rows[i : i + 1000])
            await s.commit()
        bot = build_bot(Settings(bot_token=TOKEN, telegram_api_url=url))
        sender = OutboxSender(sm, bot, SystemClock())
        cpu0, wall0 = time.process_time(), time.perf_counter()
        sent = 0
        while True:
            n = await sender.deliver()
            sent += n
            async with sm() as s:
                left = await s.scalar(
                    sa.select(sa.func.count())
                    .select_from(OutboxMessage)
                    .where(OutboxMessage.state.in_(("pending", "sending")))
                )
            if not left:
                break
            if n == 0:
                await asyncio.sleep(0.05)
        wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
        await bot.session.close()
        await engine.dispose()
        async with httpx.AsyncClient() as client:
            stats = (await client.post(f"{url}/bot{TOKEN}/stats")).json()
        return {"sent": sent, "wall": wall, "cpu": cpu, "server": stats}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--count", type=int, default=10_000)
    args = ap.parse_args()
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, str(ROOT / "bench" / "fake_telegram.py"), str(port)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert json.loads(server.stdout.readline())["ready"]
        time.sleep(0.3)
        r = asyncio.run(run(args.count, f"http://127.0.0.1:{port}"))
    finally:
        server.terminate()
        server.wait(10)
    print(
        f"push: {args.count} notifications to distinct owners, local fake Bot API with "
        f"Telegram's limits"
    )
    print(f"  delivered             {r['sent']:10d}   (server accepted {r['server']['ok']})")
    print(f"  messages per second   {r['sent'] / r['wall']:10.1f}   (target >= 25)")
    print(f"  429s received         {r['server']['429']:10d}   (target 0)")
    print(f"  drain time            {r['wall']:10.1f} s")
    print(f"  sender CPU seconds    {r['cpu']:10.2f}")


if __name__ == "__main__":
    main()
