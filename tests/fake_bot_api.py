"""A small fake Telegram Bot API server over real HTTP, and users that talk to the bot through it.

Like Telegram, it keeps every update until a getUpdates asks for an offset above it, and hands
unconfirmed updates out again to the next getUpdates (after a restart too). The bot confirms an
update only after its step has committed (bot/acked_polling.py), so a getUpdates whose offset
passes an update's id means that update was fully handled: tests wait on that, never on a timer."""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from typing import Any

from aiohttp import web

BOT_USER = {"id": 999000, "is_bot": True, "first_name": "物业客服", "username": "wuye_bot"}


class FakeBotAPI:
    def __init__(self, token: str):
        self.token = token
        self.updates: list[dict[str, Any]] = []
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.offset = 0  # every update below it is confirmed, and gone
        self.polls = 0  # getUpdates requests answered
        self._ids = itertools.count(1)
        self._msg_ids = itertools.count(100)
        self._changed = asyncio.Condition()
        self.runner: web.AppRunner | None = None
        self.url = ""
        # scripted failures: method -> list of (status, body) answered before the real one
        self.failures: dict[str, list[tuple[int, dict[str, Any]]]] = {}

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/bot{token}/{method}", self._handle)
        self.runner = web.AppRunner(app)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url = f"http://127.0.0.1:{port}"

    async def stop(self) -> None:
        if self.runner:
            await self.runner.cleanup()

    async def _params(self, request: web.Request) -> dict[str, Any]:
        if request.content_type == "application/json":
            return await request.json()
        form = await request.post()
        out: dict[str, Any] = {}
        for k, v in form.items():
            if isinstance(v, web.FileField):
                # an upload (sendPhoto / sendDocument from a file): its name and bytes
                out[k] = {"filename": v.filename, "content": v.file.read()}
                continue
            v = str(v)
            try:
                out[k] = json.loads(v) if v[:1] in "{[" else v
            except ValueError:
                out[k] = v
        for k, v in list(out.items()):
            # aiogram names an upload "attach://<field>" and sends it under that field
            if isinstance(v, str) and v.startswith("attach://") and v[9:] in out:
                out[k] = out.pop(v[9:])
        return out

    async def _handle(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return web.json_response(
                {"ok": False, "error_code": 401, "description": "Unauthorized"}, status=401
            )
        method = request.match_info["method"]
        params = await self._params(request)
        if method == "getUpdates":
            return web.json_response({"ok": True, "result": await self._get_updates(params)})
        scripted = self.failures.get(method)
        if scripted:
            status, body = scripted.pop(0)
            self.calls.append((f"{method}!{status}", params))
            return web.json_response(body, status=status)
        self.calls.append((method, params))
        async with self._changed:
            self._changed.notify_all()
        if method == "getMe":
            return web.json_response({"ok": True, "result": BOT_USER})
        if method in ("sendMessage", "sendPhoto", "sendDocument", "editMessageText"):
            mid = int(params["message_id"]) if method == "editMessageText" else next(self._msg_ids)
            params["_message_id"] = mid
            msg = {
                "message_id": mid,
                "date": int(time.time()),
                "chat": {"id": int(params["chat_id"]), "type": "private"},
                "from": BOT_USER,
                "text": params.get("text", ""),
            }
            return web.json_response({"ok": True, "result": msg})
        if method == "copyMessage":
            params["_message_id"] = next(self._msg_ids)
            return web.json_response({"ok": True, "result": {"message_id": params["_message_id"]}})
        return web.json_response({"ok": True, "result": True})

    async def _get_updates(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        timeout = min(float(params.get("timeout", 0) or 0), 0.5)
        limit = int(params.get("limit", 100) or 100)
        self.polls += 1
        async with self._changed:
            # an offset confirms what is below it; without one, the unconfirmed updates come
            # again, as Telegram does after a restart
            self.offset = max(self.offset, int(params.get("offset", 0) or 0))
            self._changed.notify_all()
            pending = [u for u in self.updates if u["update_id"] >= self.offset]
            if not pending and timeout:
                try:
                    await asyncio.wait_for(self._changed.wait(), timeout)
                except TimeoutError:
                    pass
                pending = [u for u in self.updates if u["update_id"] >= self.offset]
            return pending[:limit]

    async def queue(self, update: dict[str, Any]) -> int:
        """Queue an update without waiting for it to be handled; its id."""
        update_id = next(self._ids)
        async with self._changed:
            self.updates.append({"update_id": update_id, **update})
            self._changed.notify_all()
        return update_id

    async def confirmed(self, update_id: int, timeout: float = 10) -> None:
        """Wait until a getUpdates has confirmed the update (the bot finished it)."""
        async with self._changed:
            await asyncio.wait_for(self._changed.wait_for(lambda: self.offset > update_id), timeout)

    async def push(self, update: dict[str, Any], *, times: int = 1) -> int:
        """Queue an update (`times` > 1: the same update delivered again) and wait until the bot
        has handled it."""
        update_id = next(self._ids)
        update = {"update_id": update_id, **update}
        async with self._changed:
            self.updates.extend([update] * times)
            self._changed.notify_all()
        async with self._changed:
            await asyncio.wait_for(self._changed.wait_for(lambda: self.offset > update_id), 10)
        self.updates = [u for u in self.updates if u["update_id"] >= self.offset]
        return update_id

    def sent_to(self, chat_id: int | str) -> list[dict[str, Any]]:
        return [
            p
            for m, p in self.calls
            if m in ("sendMessage", "sendPhoto", "sendDocument", "editMessageText", "copyMessage")
            and str(p.get("chat_id")) == str(chat_id)
        ]


class TgUser:
    """An owner (or an agent) in Telegram: send(text), press(label), share_contact()."""

    def __init__(
        self,
        api: FakeBotAPI,
        user_id: int,
        first_name: str = "测试",
        chat_id: int | None = None,
        chat_type: str = "private",
    ):
        self.api = api
        self.user = {"id": user_id, "is_bot": False, "first_name": first_name}
        self.chat = {"id": chat_id or user_id, "type": chat_type}
        self._seen = 0
        self._msg = itertools.count(1)

    def _message(self, **fields: Any) -> dict[str, Any]:
        return {
            "message_id": next(self._msg),
            "date": int(time.time()),
            "chat": self.chat,
            "from": self.user,
            **fields,
        }

    def new_messages(self) -> list[dict[str, Any]]:
        msgs = self.api.sent_to(self.chat["id"])
        fresh = msgs[self._seen :]
        self._seen = len(msgs)
        return fresh

    def all_messages(self) -> list[dict[str, Any]]:
        return self.api.sent_to(self.chat["id"])

    async def _push(self, update: dict[str, Any], times: int = 1) -> list[dict[str, Any]]:
        await self.api.push(update, times=times)
        return self.new_messages()

    async def reply_to(self, message_id: int, text: str) -> list[dict[str, Any]]:
        """Reply to a message the bot sent into this chat (reply-threading)."""
        replied = {
            "message_id": message_id,
            "date": int(time.time()),
            "chat": self.chat,
            "from": BOT_USER,
            "text": "...",
        }
        return await self._push({"message": self._message(text=text, reply_to_message=replied)})

    def find_button(self, label: str = "", data_prefix: str = "") -> dict[str, Any]:
        """The newest button in this chat matching a label or a callback-data prefix."""
        for p in reversed(self.all_messages()):
            for row in (p.get("reply_markup") or {}).get("inline_keyboard", []):
                for b in row:
                    if (label and label in b["text"]) or (
                        data_prefix and b.get("callback_data", "").startswith(data_prefix)
                    ):
                        return b
        raise AssertionError(f"no button {label or data_prefix!r}")

    async def tap(self, label: str = "", data_prefix: str = "") -> list[dict[str, Any]]:
        b = self.find_button(label, data_prefix)
        return await self.press(b["text"], data=b["callback_data"])

    async def send(self, text: str) -> list[dict[str, Any]]:
        fields: dict[str, Any] = {"text": text}
        if text.startswith("/"):
            fields["entities"] = [
                {"type": "bot_command", "offset": 0, "length": len(text.split()[0])}
            ]
        return await self._push({"message": self._message(**fields)})

    async def share_contact(self, phone: str, *, own: bool = True) -> list[dict[str, Any]]:
        contact = {
            "phone_number": phone,
            "first_name": self.user["first_name"],
            "user_id": self.user["id"] if own else self.user["id"] + 1,
        }
        return await self._push({"message": self._message(contact=contact)})

    async def send_photo(
        self, caption: str = "", file_id: str = "PHOTO1", album: str = ""
    ) -> list[dict[str, Any]]:
        fields: dict[str, Any] = {
            "photo": [
                {"file_id": file_id, "file_unique_id": file_id + "u", "width": 800, "height": 600}
            ]
        }
        if caption:
            fields["caption"] = caption
        if album:
            fields["media_group_id"] = album
        return await self._push({"message": self._message(**fields)})

    async def send_sticker(self) -> list[dict[str, Any]]:
        sticker = {
            "file_id": "STK",
            "file_unique_id": "STKu",
            "type": "regular",
            "width": 512,
            "height": 512,
            "is_animated": False,
            "is_video": False,
        }
        return await self._push({"message": self._message(sticker=sticker)})

    def buttons(self) -> list[dict[str, Any]]:
        """Inline buttons of the latest message that has any."""
        for p in reversed(self.all_messages()):
            markup = p.get("reply_markup") or {}
            if "inline_keyboard" in markup:
                return [b for row in markup["inline_keyboard"] for b in row]
        return []

    async def press(
        self, label: str, *, data: str | None = None, times: int = 1
    ) -> list[dict[str, Any]]:
        if data is None:
            matches = [b for b in self.buttons() if label in b["text"]]
            assert matches, f"no button {label!r} in {[b['text'] for b in self.buttons()]}"
            data = matches[0]["callback_data"]
        query = {
            "id": f"cq{next(self._msg)}",
            "from": self.user,
            "chat_instance": "ci",
            "message": {
                "message_id": 1,
                "date": int(time.time()),
                "chat": self.chat,
                "from": BOT_USER,
                "text": "(prompt)",
            },
            "data": data,
        }
        return await self._push({"callback_query": query}, times=times)

    def callback_answers(self) -> list[dict[str, Any]]:
        return [p for m, p in self.api.calls if m == "answerCallbackQuery"]
