"""A test owner talking to the engine over in-memory ports, seeing rendered Chinese text."""

from __future__ import annotations

from datetime import UTC, datetime

from dialogs.clock import FakeClock
from dialogs.engine import Engine
from dialogs.events import AlertAgents, HandoffRequested, Inbound, StepResult
from dialogs.policy import Policy
from dialogs.texts import Texts

from .memory_ports import memory_ports

TEXTS = Texts("Asia/Shanghai")
# Monday 2026-11-23 10:00 in Shanghai: inside working hours
MONDAY_10 = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)


class Owner:
    def __init__(self, ports=None, clock=None, account_id: int = 1, policy: Policy | None = None):
        self.clock = clock or FakeClock(MONDAY_10)
        self.ports = ports or memory_ports()
        self.engine = Engine(policy or Policy.load(), self.clock, TEXTS.labels)
        self.state: dict = {}
        self.account_id = account_id
        self.last: StepResult | None = None
        self.seen: list[str] = []
        self.agents: list[str] = []
        self.buttons: list[tuple[str, str]] = []  # (label, token) of the latest prompt

    async def _go(self, ev: Inbound) -> StepResult:
        res = await self.engine.step(self.state, ev, self.account_id, self.ports)
        self.last = res
        self.seen = [TEXTS.render(r.template, r.context) for r in res.replies]
        for r in res.replies:
            if r.rows:
                self.buttons = [(c.label, c.value) for row in r.rows for c in row]
        for e in res.effects:
            match e:
                case AlertAgents(reply=note) | HandoffRequested(note=note):
                    self.agents.append(TEXTS.render(note.template, note.context))
        return res

    @property
    def text(self) -> str:
        return "\n".join(self.seen)

    @property
    def labels(self) -> list[str]:
        return [label for label, _ in self.buttons]

    async def send(self, text: str) -> StepResult:
        kind = "command" if text.startswith("/") else "text"
        return await self._go(Inbound(kind, text=text))

    async def press(self, label: str) -> StepResult:
        for lb, token in self.buttons:
            if lb == label or label in lb:
                return await self._go(Inbound("choice", token=token))
        raise AssertionError(f"no button {label!r} in {self.labels}")

    async def token(self, token: str) -> StepResult:
        return await self._go(Inbound("choice", token=token))

    async def contact(self, phone: str, own: bool = True) -> StepResult:
        return await self._go(Inbound("contact", phone=phone, contact_is_own=own))

    async def photo(self, caption: str = "", album: str = "", file_id: str = "ph") -> StepResult:
        return await self._go(Inbound("photo", text=caption, file_id=file_id, album_id=album))

    async def other(self, kind: str, file_id: str = "") -> StepResult:
        return await self._go(Inbound(kind, file_id=file_id))

    @property
    def step(self) -> str:
        return f"{self.state['flow']}.{self.state['step']}"


async def identified_owner(phone: str = "13800000301", **kw) -> Owner:
    o = Owner(**kw)
    await o.send("/start")
    await o.contact(phone)
    await o.press("是")
    assert o.step == "menu.main"
    return o
