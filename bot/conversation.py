"""One owner update, from any channel: one unit of work, one engine step, commit, then send.

Durable steps (a ticket created or changed) put every reply and the agents' card in the outbox
in the same transaction, so a crash after commit loses none of them."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from typing import Any

from dialogs.clock import Clock
from dialogs.engine import Engine
from dialogs.events import Inbound, Reply, StepResult
from dialogs.texts import Texts
from storage.uow import UnitOfWork

from .rendering import merge, payloads

log = logging.getLogger(__name__)

PRIORITY_OWNER = 1
PRIORITY_AGENTS = 3


@dataclass(slots=True)
class Outcome:
    result: StepResult | None  # None: a duplicate update, nothing done
    direct: list[dict[str, Any]] = field(default_factory=list)
    outbox_ids: list[int] = field(default_factory=list)
    agent_replies: list[Reply] = field(default_factory=list)


class ConversationService:
    def __init__(self, sessionmaker, engine: Engine, texts: Texts, clock: Clock,
                 agent_chat_id: str = ""):
        self.sessionmaker = sessionmaker
        self.engine = engine
        self.texts = texts
        self.clock = clock
        self.agent_chat_id = agent_chat_id
        self._locks: dict[str, asyncio.Lock] = {}

    def _lock(self, key: str) -> asyncio.Lock:
        lock = self._locks.get(key)
        if lock is None:
            if len(self._locks) > 10_000:
                self._locks = {k: v for k, v in self._locks.items() if v.locked()}
            lock = self._locks[key] = asyncio.Lock()
        return lock

    async def handle(self, *, channel: str, external_id: str, chat_id: str, display_name: str,
                     inbound: Inbound, update_id: int | None = None,
                     use_outbox: bool = True) -> Outcome:
        # one step at a time per owner: two quick taps never race on the same state
        async with self._lock(f"{channel}:{external_id}"):
            return await self._handle(channel, external_id, chat_id, display_name, inbound,
                                      update_id, use_outbox)

    async def _handle(self, channel, external_id, chat_id, display_name, inbound, update_id,
                      use_outbox) -> Outcome:
        now = self.clock.now()
        async with UnitOfWork(self.sessionmaker) as uow:
            if update_id is not None and not await uow.accounts.first_time(update_id, now):
                log.info("duplicate update %s ignored", update_id)
                return Outcome(None)
            conv = await uow.accounts.open_conversation(channel, external_id, chat_id,
                                                        display_name, now)
            state = conv.state
            result = await self.engine.step(state, inbound, conv.account_id, uow.ports)
            await uow.accounts.save_conversation(conv, state, now)
            outcome = Outcome(result)
            owner_payloads = merge([p for r in result.replies for p in payloads(r, self.texts)])
            agent_replies = [e.data["reply"] for e in result.effects if e.kind == "agent_message"]
            if result.durable and use_outbox:
                for p in owner_payloads:
                    outcome.outbox_ids.append(await uow.outbox.add(
                        chat_id, p, now, priority=PRIORITY_OWNER))
            else:
                outcome.direct = owner_payloads
            if self.agent_chat_id and use_outbox:
                for e in result.effects:
                    if e.kind != "agent_message":
                        continue
                    for p in payloads(e.data["reply"], self.texts):
                        outcome.outbox_ids.append(await uow.outbox.add(
                            self.agent_chat_id, p, now, priority=PRIORITY_AGENTS,
                            ticket_id=e.data.get("ticket_id")))
            outcome.agent_replies = agent_replies
            await uow.commit()
        return outcome
