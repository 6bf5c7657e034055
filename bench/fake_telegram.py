"""A local fake Bot API that enforces Telegram's limits: at most 30 messages in any second
overall and 1 a second per chat; past that it answers 429 with retry_after. Run by push.py in a
process of its own so the sender's CPU is measured alone.

    python bench/fake_telegram.py PORT"""

from __future__ import annotations

import json
import sys
import time
from collections import deque

from aiohttp import web

GLOBAL_PER_SECOND = 30
PER_CHAT_SECONDS = 1.0

sent: deque[float] = deque()
last_by_chat: dict[str, float] = {}
stats = {"ok": 0, "429": 0}


async def handle(request: web.Request) -> web.Response:
    method = request.match_info["method"]
    if method == "getMe":
        return web.json_response(
            {"ok": True, "result": {"id": 1, "is_bot": True, "first_name": "bench"}}
        )
    if method == "stats":
        return web.json_response(stats)
    form = await request.post()
    chat = str(form.get("chat_id", ""))
    now = time.monotonic()
    while sent and now - sent[0] >= 1.0:
        sent.popleft()
    too_fast_chat = now - last_by_chat.get(chat, -10.0) < PER_CHAT_SECONDS
    if len(sent) >= GLOBAL_PER_SECOND or too_fast_chat:
        stats["429"] += 1
        return web.json_response(
            {
                "ok": False,
                "error_code": 429,
                "description": "Too Many Requests: retry after 1",
                "parameters": {"retry_after": 1},
            },
            status=429,
        )
    sent.append(now)
    last_by_chat[chat] = now
    stats["ok"] += 1
    msg = {
        "message_id": stats["ok"],
        "date": int(time.time()),
        "chat": {"id": int(chat), "type": "private"},
        "text": str(form.get("text", "")),
    }
    return web.json_response({"ok": True, "result": msg})


def main() -> None:
    app = web.Application()
    app.router.add_post("/bot{token}/{method}", handle)
    print(json.dumps({"ready": True}), flush=True)
    web.run_app(app, host="127.0.0.1", port=int(sys.argv[1]), print=None)


if __name__ == "__main__":
    main()
