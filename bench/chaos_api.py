"""The fake Bot API of bench/chaos.py: behaves like Telegram where the chaos run needs it, and
records everything with timestamps.

- Updates stay queued until a getUpdates with a higher offset confirms them; anything not
  confirmed is handed out again (after a kill too). getUpdates waits up to its timeout.
- Webhook mode (after setWebhook): each update is POSTed to one of the bot's instances with the
  secret header, again and again until one answers 200; a connection refused or a non-200 is
  tried again on a randomly chosen instance (as a proxy in front of them would). getUpdates is
  refused with 409 while a webhook is set, as Telegram does.
- Sends (sendMessage, editMessageText, copyMessage, sendPhoto) can be refused: a 429 storm with
  retry_after (every request that arrives while a retry_after window is open is counted, and
  refused again), 403 for chosen chats, 500 at a chosen rate.

Nothing here is product code: the bot is run as real processes against it (bench/chaos.py)."""

from __future__ import annotations

import asyncio
import itertools
import json
import math
import random
import time
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from aiohttp import web

SEND_METHODS = ("sendMessage", "editMessageText", "copyMessage", "sendPhoto")
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


@dataclass
class Call:
    t: float  # time.monotonic() when the request arrived
    method: str
    params: dict[str, Any]
    status: int
    chat: str = ""
    message_id: int | None = None
    in_window: bool = False  # arrived while a 429's retry_after was still running


@dataclass
class Pending:
    update: dict[str, Any]
    pushed: float
    both: bool = False  # webhook: delivered to two instances at once (a duplicate delivery)
    instance: int | None = None  # webhook: the first attempt goes to this instance
    acked: float | None = None
    attempts: int = 0


@dataclass
class Storm:
    until: float = 0.0  # every send before this gets 429
    retry_after: int = 5
    windows: list[tuple[float, float]] = field(default_factory=list)
    window_end: float = 0.0


class ChaosAPI:
    def __init__(self, token: str, *, error_rate: float = 0.0, seed: int = 1):
        self.token = token
        self.bot_id = int(token.split(":", 1)[0])
        self.rng = random.Random(seed)
        self.error_rate = error_rate  # share of sends answered 500 (not delivered)
        self.blocked: set[str] = set()  # chats answered 403
        self.storm = Storm()
        self.calls: list[Call] = []
        self.by_chat: dict[str, list[Call]] = defaultdict(list)  # delivered sends per chat
        self.queue: list[Pending] = []  # every update ever pushed, in order
        self.by_id: dict[int, Pending] = {}
        self.offset = 0  # polling: every update below it is confirmed
        self.polls: list[float] = []  # when each getUpdates arrived
        self.webhook: dict[str, Any] | None = None
        self.instances: list[str] = []  # webhook: base URLs of the bot's instances
        self.webhook_posts = 0
        self.webhook_refused = 0
        self.webhook_answers: dict[str, int] = defaultdict(int)  # status (or error) -> count
        self._ids = itertools.count(1)
        self._msg_ids = itertools.count(1000)
        self.changed = asyncio.Condition()
        self._runner: web.AppRunner | None = None
        self._delivering: set[int] = set()
        self._deliverer: asyncio.Task | None = None
        self.url = ""

    # --- server -----------------------------------------------------------------------------
    async def start(self) -> None:
        app = web.Application(client_max_size=16 * 1024 * 1024)
        app.router.add_post("/bot{token}/{method}", self._handle)
        app.router.add_get("/bot{token}/{method}", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url = f"http://127.0.0.1:{port}"
        self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=60))

    async def stop(self) -> None:
        if self._deliverer:
            self._deliverer.cancel()
        await self._session.close()
        if self._runner:
            await self._runner.cleanup()

    async def _params(self, request: web.Request) -> dict[str, Any]:
        if request.content_type == "application/json":
            return await request.json()
        form = await request.post()
        out: dict[str, Any] = {}
        for k, v in form.items():
            v = str(v)
            try:
                out[k] = json.loads(v) if v[:1] in "{[" else v
            except ValueError:
                out[k] = v
        return out

    async def _notify(self) -> None:
        async with self.changed:
            self.changed.notify_all()

    async def _handle(self, request: web.Request) -> web.Response:
        now = time.monotonic()
        if request.match_info["token"] != self.token:
            return _error(401, "Unauthorized")
        method = request.match_info["method"]
        params = await self._params(request)
        if method == "getUpdates":
            self.polls.append(now)
            if self.webhook is not None:
                return _error(409, "Conflict: can't use getUpdates method while webhook is active")
            return web.json_response({"ok": True, "result": await self._get_updates(params)})
        if method == "getMe":
            user = {
                "id": self.bot_id,
                "is_bot": True,
                "first_name": "物业客服",
                "username": "wy_bot",
            }
            self.calls.append(Call(now, method, params, 200))
            return web.json_response({"ok": True, "result": user})
        if method == "setWebhook":
            self.webhook = params
            self.calls.append(Call(now, method, params, 200))
            if self._deliverer is None or self._deliverer.done():
                self._deliverer = asyncio.create_task(self._deliver_loop())
            await self._notify()
            return web.json_response({"ok": True, "result": True})
        if method == "deleteWebhook":
            self.webhook = None
            self.calls.append(Call(now, method, params, 200))
            return web.json_response({"ok": True, "result": True})
        if method in SEND_METHODS:
            return await self._send(now, method, params)
        self.calls.append(Call(now, method, params, 200, chat=str(params.get("chat_id", ""))))
        await self._notify()
        return web.json_response({"ok": True, "result": True})

    async def _send(self, now: float, method: str, params: dict[str, Any]) -> web.Response:
        chat = str(params.get("chat_id", ""))
        call = Call(now, method, params, 200, chat=chat)
        self.calls.append(call)
        s = self.storm
        call.in_window = now < s.window_end
        if now < s.until or call.in_window:
            # refused: a new window opens (or the running one is said again, what is left of it)
            retry = s.retry_after if now < s.until else max(1, math.ceil(s.window_end - now))
            if not call.in_window:
                s.windows.append((now, now + retry))
                s.window_end = now + retry
            call.status = 429
            return web.json_response(
                {
                    "ok": False,
                    "error_code": 429,
                    "description": f"Too Many Requests: retry after {retry}",
                    "parameters": {"retry_after": retry},
                },
                status=429,
            )
        if chat in self.blocked:
            call.status = 403
            return _error(403, "Forbidden: bot was blocked by the user")
        if self.error_rate and self.rng.random() < self.error_rate:
            call.status = 500
            return _error(500, "Internal Server Error")
        if method == "editMessageText":
            mid = int(params.get("message_id") or 0)
        else:
            mid = next(self._msg_ids)
        call.message_id = mid
        self.by_chat[chat].append(call)
        await self._notify()
        msg = {
            "message_id": mid,
            "date": int(time.time()),
            "chat": {"id": int(chat), "type": "group" if chat.startswith("-") else "private"},
            "from": {"id": self.bot_id, "is_bot": True, "first_name": "物业客服"},
            "text": str(params.get("text", "")),
        }
        if method == "copyMessage":
            return web.json_response({"ok": True, "result": {"message_id": mid}})
        return web.json_response({"ok": True, "result": msg})

    def start_storm(self, seconds: float, retry_after: int) -> None:
        self.storm.until = time.monotonic() + seconds
        self.storm.retry_after = retry_after

    # --- polling ----------------------------------------------------------------------------
    def _unconfirmed(self) -> list[dict[str, Any]]:
        return [p.update for p in self.queue if p.update["update_id"] >= self.offset]

    async def _get_updates(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        timeout = min(float(params.get("timeout", 0) or 0), 10.0)
        limit = int(params.get("limit", 100) or 100)
        offset = int(params.get("offset", 0) or 0)
        async with self.changed:
            if offset > self.offset:
                now = time.monotonic()
                for p in self.queue:
                    if self.offset <= p.update["update_id"] < offset and p.acked is None:
                        p.acked = now
                self.offset = offset
                self.changed.notify_all()
            pending = self._unconfirmed()
            if not pending and timeout:
                deadline = time.monotonic() + timeout
                while not pending and time.monotonic() < deadline:
                    try:
                        await asyncio.wait_for(self.changed.wait(), deadline - time.monotonic())
                    except TimeoutError:
                        break
                    pending = self._unconfirmed()
            for u in pending[:limit]:
                self.by_id[u["update_id"]].attempts += 1
            return pending[:limit]

    # --- updates in -------------------------------------------------------------------------
    async def push(
        self, update: dict[str, Any], *, both: bool = False, instance: int | None = None
    ) -> Pending:
        update = {"update_id": next(self._ids), **update}
        p = Pending(update, time.monotonic(), both=both, instance=instance)
        async with self.changed:
            self.queue.append(p)
            self.by_id[update["update_id"]] = p
            self.changed.notify_all()
        return p

    # --- webhook delivery -------------------------------------------------------------------
    async def _deliver_loop(self) -> None:
        slots = asyncio.Semaphore(40)  # Telegram's default max_connections
        while True:
            async with self.changed:
                todo = [
                    p
                    for p in self.queue
                    if p.acked is None and p.update["update_id"] not in self._delivering
                ]
                if not todo or self.webhook is None:
                    await self.changed.wait()
                    continue
            for p in todo:
                self._delivering.add(p.update["update_id"])
                asyncio.create_task(self._deliver(p, slots))

    async def _deliver(self, p: Pending, slots: asyncio.Semaphore) -> None:
        delay = 0.2
        first = True
        try:
            while p.acked is None:
                async with slots:
                    if first and p.both and len(self.instances) > 1:
                        targets = [0, 1]
                    elif first and p.instance is not None:
                        targets = [p.instance % len(self.instances)]
                    else:
                        targets = [self.rng.randrange(len(self.instances))]
                    first = False
                    oks = await asyncio.gather(*(self._post(p, i) for i in targets))
                if any(oks):
                    p.acked = time.monotonic()
                    await self._notify()
                    return
                await asyncio.sleep(delay)
                delay = min(delay * 2, 2.0)
        finally:
            self._delivering.discard(p.update["update_id"])

    async def _post(self, p: Pending, instance: int) -> bool:
        secret = str((self.webhook or {}).get("secret_token", ""))
        p.attempts += 1
        self.webhook_posts += 1
        try:
            async with self._session.post(
                f"{self.instances[instance]}/telegram/webhook",
                data=json.dumps(p.update),
                headers={"Content-Type": "application/json", SECRET_HEADER: secret},
            ) as r:
                await r.read()
                ok = r.status == 200
                self.webhook_answers[str(r.status)] += 1
        except (aiohttp.ClientError, TimeoutError, OSError) as e:
            ok = False
            self.webhook_answers[type(e).__name__] += 1
        if not ok:
            self.webhook_refused += 1
        return ok

    # --- figures ----------------------------------------------------------------------------
    def delivered(self, chat: str) -> list[Call]:
        return self.by_chat.get(chat, [])

    def idle_since(self) -> float:
        """When the last send or confirmation happened."""
        last = max((c.t for c in self.calls), default=0.0)
        acked = max((p.acked or 0.0 for p in self.queue), default=0.0)
        return max(last, acked)

    def unconfirmed_count(self) -> int:
        return sum(1 for p in self.queue if p.acked is None)


def _error(code: int, description: str) -> web.Response:
    return web.json_response(
        {"ok": False, "error_code": code, "description": description}, status=code
    )


def max_in_window(times: list[float], seconds: float = 60.0) -> int:
    """The most events in any window of `seconds`."""
    times = sorted(times)
    best = j = 0
    for i, t in enumerate(times):
        while t - times[j] >= seconds:
            j += 1
        best = max(best, i - j + 1)
    return best
