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

from .desk.context import PRIORITY_OWNER
from .rendering import merge, payloads

log = logging.getLogger(__name__)


@dataclass(slots=True)
class Outcome:
    result: StepResult | None  # None: a duplicate update, nothing done
    direct: list[dict[str, Any]] = field(default_factory=list)
    outbox_ids: list[int] = field(default_factory=list)
    agent_replies: list[Reply] = field(default_factory=list)
    # the step also queued messages for the agents' side (sent after the owner's own)
    desk_rows: bool = False


class ConversationService:
    def __init__(self, sessionmaker, engine: Engine, texts: Texts, clock: Clock, desk=None):
        self.sessionmaker = sessionmaker
        self.engine = engine
        self.texts = texts
        self.clock = clock
        self.desk = desk
        self._locks: dict[str, asyncio.Lock] = {}

    async def _desk_effects(
        self, uow: UnitOfWork, result: StepResult, chat_id: str, account_id: int
    ) -> None:
        """What the step asked of the agents' side: cards, notes, relays, handoff endings."""
        from .desk import cards, relay

        desk = self.desk
        for e in result.effects:
            data = e.data
            if e.kind == "survey_comment":
                from .followups import survey

                await survey.comment(desk, uow, account_id, data["survey_id"], data["text"])
            elif e.kind == "relay":
                await relay.relay_owner_message(desk, uow, chat_id, account_id, data)
            elif e.kind == "handoff_closed":
                await desk.to_agents(
                    uow,
                    "agent_takeover_ended",
                    {
                        "salutation": data.get("salutation", ""),
                        "agent": "",
                        "by": data.get("by", "owner"),
                    },
                )
            elif e.kind == "agent_message" and data.get("purpose") == "card":
                ticket = await uow.desk.ticket(data["ticket_id"])
                if ticket is not None:
                    if data.get("update"):
                        await cards.refresh_card(desk, uow, ticket)
                    else:
                        await cards.post_card(desk, uow, ticket)
            elif e.kind == "agent_message":
                reply = data["reply"]
                await desk.to_agents(
                    uow,
                    reply.template,
                    reply.context,
                    rows=data.get("buttons"),
                    purpose=data.get("purpose", "alert"),
                    ref=data.get("ref"),
                    ticket_id=data.get("ticket_id"),
                )
                if data.get("supervisors"):
                    await desk.to_supervisors(
                        uow, reply.template, reply.context, ticket_id=data.get("ticket_id")
                    )

    def _lock(self, key: str) -> asyncio.Lock:
        lock = self._locks.get(key)
        if lock is None:
            if len(self._locks) > 10_000:
                self._locks = {k: v for k, v in self._locks.items() if v.locked()}
            lock = self._locks[key] = asyncio.Lock()
        return lock

    async def handle(
        self,
        *,
        channel: str,
        external_id: str,
        chat_id: str,
        display_name: str,
        inbound: Inbound,
        update_id: int | None = None,
        use_outbox: bool = True,
    ) -> Outcome:
        # one step at a time per owner: two quick taps never race on the same state
        async with self._lock(f"{channel}:{external_id}"):
            return await self._handle(
                channel, external_id, chat_id, display_name, inbound, update_id, use_outbox
            )

    async def resume(
        self, *, channel: str, external_id: str, chat_id: str, display_name: str
    ) -> Outcome | None:
        """Ask again where the owner left off (the console relaunched); None when no dialog is
        under way. Replies are returned to show, not queued: the owner is right there."""
        async with self._lock(f"{channel}:{external_id}"):
            now = self.clock.now()
            async with UnitOfWork(self.sessionmaker) as uow:
                conv = await uow.accounts.open_conversation(
                    channel, external_id, chat_id, display_name, now
                )
                state = conv.state
                result = await self.engine.resume(state, conv.account_id, uow.ports)
                if result is None:
                    return None
                await uow.accounts.save_conversation(conv, state, now)
                await uow.commit()
            direct = merge([p for r in result.replies for p in payloads(r, self.texts)])
            return Outcome(result, direct=direct)

    async def _handle(
        self, channel, external_id, chat_id, display_name, inbound, update_id, use_outbox
    ) -> Outcome:
        now = self.clock.now()
        async with UnitOfWork(self.sessionmaker) as uow:
            if update_id is not None and not await uow.accounts.first_time(update_id, now):
                log.info("duplicate update %s ignored", update_id)
                return Outcome(None)
            conv = await uow.accounts.open_conversation(
                channel, external_id, chat_id, display_name, now
            )
            state = conv.state
            result = await self.engine.step(state, inbound, conv.account_id, uow.ports)
            await uow.accounts.save_conversation(conv, state, now)
            outcome = Outcome(result)
            owner_payloads = merge([p for r in result.replies for p in payloads(r, self.texts)])
            agent_replies = [e.data["reply"] for e in result.effects if e.kind == "agent_message"]
            if result.durable and use_outbox:
                for p in owner_payloads:
                    outcome.outbox_ids.append(
                        await uow.outbox.add(chat_id, p, now, priority=PRIORITY_OWNER)
                    )
            else:
                outcome.direct = owner_payloads
            if use_outbox and self.desk is not None and result.effects:
                await self._desk_effects(uow, result, chat_id, conv.account_id)
                outcome.desk_rows = True
            outcome.agent_replies = agent_replies
            await uow.commit()
        return outcome
