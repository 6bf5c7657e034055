"""Owners of bench/chaos.py: each walks a repair dialog through the fake Bot API (chaos_api.py),
reading the bot's last prompt and pressing its buttons by label (the callback data the bot put
on them), and keeps a record of every step: when it was pushed, and whether a reply came.

A reply to a step is a message into the owner's chat that arrived after the step was pushed and
is not the same as one the owner had already received (a message sent again after a kill is a
duplicate, not a reply)."""

from __future__ import annotations

import asyncio
import itertools
import random
import time
from dataclasses import dataclass, field
from typing import Any

from chaos_api import Call, ChaosAPI

AREAS = ("厨房", "卫生间", "客厅", "卧室", "阳台")
CATEGORIES = ("水管/漏水", "电路/停电", "门窗", "照明")
DESCRIPTIONS = ("水管接口一直在滴水", "插座没电了", "窗户关不严", "灯不亮了", "地漏往外冒水")


def signature(c: Call) -> tuple:
    p = c.params
    return (c.method, str(p.get("text", "")), repr(p.get("reply_markup")), str(p.get("message_id")))


@dataclass
class Step:
    what: str
    pushed: float
    update_ids: list[int]
    seen_before: set[tuple]
    replied: float | None = None


@dataclass
class Owner:
    uid: int
    phone: str
    name: str = "业主"
    steps: list[Step] = field(default_factory=list)
    confirm_taps: int = 0  # 确认 taps pushed (a double tap is 2)
    confirmed: bool = False  # tapped 确认 (a ticket is due)
    done: bool = False  # the dialog ended with the ticket's confirmation
    stuck: str = ""  # why the walk stopped early

    @property
    def chat(self) -> str:
        return str(self.uid)


class Walker:
    def __init__(
        self,
        api: ChaosAPI,
        *,
        rng: random.Random,
        reply_timeout: float,
        settle: float = 1.2,
        think: tuple[float, float] = (0.2, 1.0),
        dup_share: float = 0.0,
        double_confirm: float = 0.0,
        impatient_after: float = 0.0,
        instances: int = 1,
    ):
        self.api, self.rng = api, rng
        self.reply_timeout, self.settle, self.think = reply_timeout, settle, think
        self.dup_share = dup_share  # webhook: share of updates delivered to both instances
        self.double_confirm = double_confirm  # share of owners who double-tap 确认
        self.impatient_after = impatient_after  # seconds without a reply before "在吗？"
        self.instances = instances
        self._msg = itertools.count(1)
        self._cq = itertools.count(1)

    # --- updates --------------------------------------------------------------------------
    def _user(self, o: Owner) -> dict[str, Any]:
        return {"id": o.uid, "is_bot": False, "first_name": o.name}

    def _message(self, o: Owner, **fields: Any) -> dict[str, Any]:
        chat = {"id": o.uid, "type": "private", "first_name": o.name}
        return {
            "message_id": next(self._msg),
            "date": int(time.time()),
            "chat": chat,
            "from": self._user(o),
            **fields,
        }

    def _tap(self, o: Owner, prompt: Call, data: str) -> dict[str, Any]:
        chat = {"id": o.uid, "type": "private", "first_name": o.name}
        msg = {
            "message_id": prompt.message_id,
            "date": int(time.time()),
            "chat": chat,
            "from": {"id": self.api.bot_id, "is_bot": True, "first_name": "物业客服"},
            "text": str(prompt.params.get("text", ""))[:50],
        }
        return {
            "callback_query": {
                "id": f"cq{o.uid}x{next(self._cq)}",
                "from": self._user(o),
                "chat_instance": f"ci{o.uid}",
                "message": msg,
                "data": data,
            }
        }

    async def _push(self, o: Owner, what: str, updates: list[dict], spread: bool = False) -> None:
        seen = {signature(c) for c in self.api.delivered(o.chat)}
        step = Step(what, time.monotonic(), [], seen)
        o.steps.append(step)
        for i, u in enumerate(updates):
            both = self.instances > 1 and self.rng.random() < self.dup_share
            p = await self.api.push(u, both=both, instance=i if spread else None)
            step.update_ids.append(p.update["update_id"])

    # --- reading the bot --------------------------------------------------------------------
    def _new(self, o: Owner, step: Step) -> list[Call]:
        return [
            c
            for c in self.api.delivered(o.chat)
            if c.t > step.pushed and signature(c) not in step.seen_before
        ]

    @staticmethod
    def _prompt(msgs: list[Call]) -> Call | None:
        """The newest message that asks something: one with buttons, or the description ask."""
        for c in reversed(msgs):
            markup = c.params.get("reply_markup") or {}
            if markup.get("inline_keyboard") or markup.get("keyboard"):
                return c
            if "请您简单描述" in str(c.params.get("text", "")):
                return c
        return None

    async def _wait_prompt(self, o: Owner) -> Call | None:
        """Wait for the reply to the last step, and for its prompt to settle."""
        step = o.steps[-1]
        deadline = step.pushed + self.reply_timeout
        pings = 0
        while True:
            now = time.monotonic()
            new = self._new(o, step)
            if new and step.replied is None:
                step.replied = new[0].t
            prompt = self._prompt(new)
            if prompt is not None and now - new[-1].t >= self.settle:
                return prompt
            if now >= deadline:
                return None
            if (
                self.impatient_after
                and not new
                and pings < 3
                and now - o.steps[-1].pushed >= self.impatient_after
            ):
                # an owner who hears nothing writes again; that step wants a reply too
                pings += 1
                await self._push(o, "ping", [{"message": self._message(o, text="在吗？")}])
                step = o.steps[-1]
                deadline = max(deadline, step.pushed + self.reply_timeout)
                continue
            async with self.api.changed:
                try:
                    await asyncio.wait_for(self.api.changed.wait(), 0.25)
                except TimeoutError:
                    pass

    # --- the walk ---------------------------------------------------------------------------
    async def walk(self, o: Owner) -> None:
        try:
            await self._walk(o)
        except Exception as e:  # noqa: BLE001 - a bench owner's bug is a figure, not a stop
            o.stuck = f"walker error {type(e).__name__}: {e}"

    async def _walk(self, o: Owner) -> None:
        start = {"type": "bot_command", "offset": 0, "length": 6}
        await self._push(
            o, "/start", [{"message": self._message(o, text="/start", entities=[start])}]
        )
        for _ in range(30):
            prompt = await self._wait_prompt(o)
            if prompt is None:
                o.stuck = f"no usable reply to {o.steps[-1].what}"
                return
            await asyncio.sleep(self.rng.uniform(*self.think))
            action = self._decide(o, prompt)
            if action is None:
                text = str(prompt.params.get("text", ""))[:40]
                o.stuck = f"unexpected prompt after {o.steps[-1].what}: {text!r}"
                return
            if action == "done":
                o.done = True
                return
            await action
        o.stuck = "too many steps"

    def _decide(self, o: Owner, prompt: Call):
        markup = prompt.params.get("reply_markup") or {}
        if any(b.get("request_contact") for row in markup.get("keyboard", []) for b in row):
            contact = {"phone_number": o.phone, "first_name": o.name, "user_id": o.uid}
            return self._push(o, "contact", [{"message": self._message(o, contact=contact)}])
        buttons = {
            b["text"]: b.get("callback_data", "")
            for row in markup.get("inline_keyboard", [])
            for b in row
        }
        labels = list(buttons)

        def press(label: str, what: str | None = None):
            return self._push(o, what or label, [self._tap(o, prompt, buttons[label])])

        def find(word: str) -> str | None:
            return next((lb for lb in labels if word in lb), None)

        if not buttons:
            if "请您简单描述" in str(prompt.params.get("text", "")):
                text = self.rng.choice(DESCRIPTIONS)
                return self._push(o, "description", [{"message": self._message(o, text=text)}])
            return None
        if "多套房屋" in str(prompt.params.get("text", "")):
            return press(self.rng.choice(labels[:-1] or labels), "pick unit")
        if "是" in buttons and "不是" in buttons:
            return press("是")
        if find("报修"):
            if o.confirmed:
                return "done"
            return press(find("报修"), "报修")
        if "厨房" in buttons:
            return press(self.rng.choice([a for a in AREAS if a in buttons]), "area")
        if "水管/漏水" in buttons:
            return press(self.rng.choice([c for c in CATEGORIES if c in buttons]), "category")
        if find("继续"):
            return press(find("继续"), "photos")
        if "一般" in buttons:
            return press(self.rng.choice(["一般", find("紧急") or "一般"]), "urgency")
        if find("尽快上门"):
            slots = [lb for lb in labels if "上门" in lb or "今天" in lb or "明天" in lb]
            return press(self.rng.choice(slots), "slot")
        if find("确认"):
            label = find("确认")
            o.confirmed = True
            tap = [self._tap(o, prompt, buttons[label])]
            if self.rng.random() < self.double_confirm:
                # a double tap: two taps of the same button, as two updates
                tap.append(self._tap(o, prompt, buttons[label]))
            o.confirm_taps += len(tap)
            return self._push(o, "确认" if len(tap) == 1 else "确认x2", tap, spread=len(tap) > 1)
        return None
