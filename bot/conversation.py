"""One owner update, from any channel: one unit of work, one engine step, commit, then send.

Every step puts its replies, and whatever it tells the agents, in the outbox in the same
transaction: a crash after commit loses none of them, and 429s, a blocked owner and the chat's
pace apply to them as to every other message. The caller wakes the sender for the step's rows
(`Outcome.row_ids`) right after commit. The offline console alone is answered directly
(`use_outbox=False`): it has no network and nothing to pace."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from desk.commands import ClaimHandoff
from desk.effects import Button
from dialogs.clock import Clock
from dialogs.engine import Engine
from dialogs.events import (
    AlertAgents,
    Effect,
    HandoffClosed,
    HandoffRequested,
    Inbound,
    RelayToAgents,
    Reply,
    StepResult,
    SurveyAnswered,
    TicketChanged,
    TicketFiled,
)
from storage.channel_repo import ChannelRepo
from storage.uow import UnitOfWork

from .desk.context import PRIORITY_OWNER
from .followups.unreachable import owner_wrote
from .outbound import Outbound, Recipient, Replies

log = logging.getLogger(__name__)


@dataclass(slots=True)
class Outcome:
    result: StepResult | None  # None: a duplicate update, nothing done
    # the console's payloads, shown at once (use_outbox=False)
    direct: list[dict[str, Any]] = field(default_factory=list)
    # the owner's replies as queued
    outbox_ids: list[int] = field(default_factory=list)
    agent_replies: list[Reply] = field(default_factory=list)
    # every row the step queued, the owner's and the agents' side's: the sender is woken for
    # these at once (the owner's go first, by priority)
    row_ids: list[int] = field(default_factory=list)
    # the same rows, written already claimed: each channel's sender sends its own right after
    # commit (deliver_claimed), with no claim of its own
    claimed: list[Any] = field(default_factory=list)


class ConversationService:
    def __init__(self, sessionmaker, engine: Engine, outbound: Outbound, clock: Clock, desk=None):
        self.sessionmaker = sessionmaker
        self.engine = engine
        # the owner's replies, rendered for the owner's channel: queued, or returned to send now
        self.outbound = outbound
        self.clock = clock
        self.desk = desk
        self._locks: dict[str, asyncio.Lock] = {}

    async def _desk_effects(
        self, uow: UnitOfWork, result: StepResult, chat_id: str, account_id: int
    ) -> None:
        """What the step asked of the agents' side: cards, notes, relays, handoff endings."""
        for effect in result.effects:
            await self._carry_out(uow, effect, chat_id, account_id)

    async def _carry_out(self, uow: UnitOfWork, effect: Effect, chat_id: str, account_id: int):
        from .desk import cards, relay

        desk = self.desk
        match effect:
            case TicketFiled() | TicketChanged():
                # the one card: rendered here from the ticket as stored (agent_card.j2)
                ticket = await uow.cases.ticket(effect.ticket_id)
                if ticket is None:
                    return
                if isinstance(effect, TicketChanged):
                    await cards.refresh_card(desk, uow, ticket)
                else:
                    await cards.post_card(desk, uow, ticket)
            case AlertAgents(reply=reply, ticket_id=ticket_id):
                await desk.to_agents(
                    uow, reply.template, reply.context, purpose=effect.purpose, ticket_id=ticket_id
                )
                if effect.supervisors:
                    await desk.to_supervisors(
                        uow, reply.template, reply.context, ticket_id=ticket_id
                    )
            case HandoffRequested(note=note, handoff_id=handoff_id):
                await desk.to_agents(
                    uow,
                    note.template,
                    note.context,
                    buttons=((Button("agent_btn_claim", ClaimHandoff(handoff_id)),),),
                    purpose="handoff",
                    ref={"handoff_id": handoff_id, "account_id": effect.account_id},
                )
            case RelayToAgents():
                await relay.relay_owner_message(desk, uow, chat_id, account_id, asdict(effect))
            case HandoffClosed():
                await desk.to_agents(
                    uow,
                    "agent_takeover_ended",
                    {"salutation": effect.salutation, "agent": "", "by": effect.by},
                )
            case SurveyAnswered():
                from .followups import survey

                await survey.on_answered(desk, uow, effect)
            case _:
                # an effect nobody carries out would be a promise silently dropped
                raise TypeError(f"no consumer for the effect {type(effect).__name__}")

    async def _agents_view(self, uow: UnitOfWork, result: StepResult) -> list[Reply]:
        """What the agents' group is shown for this step, for a channel that prints it (the
        console): the same card the group gets, and the notes."""
        from .desk import cards

        shown: list[Reply] = []
        for effect in result.effects:
            match effect:
                case TicketFiled() | TicketChanged() if self.desk is not None:
                    ticket = await uow.cases.ticket(effect.ticket_id)
                    if ticket is not None:
                        context = await cards.card_context(self.desk, uow, ticket)
                        shown.append(Reply("agent_card", {"now": self.clock.now(), **context}))
                case AlertAgents(reply=reply) | HandoffRequested(note=reply):
                    shown.append(reply)
        return shown

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
        send_now: frozenset[str] = frozenset(),
        message_key: str | None = None,
        before_step: Callable[[UnitOfWork, int], Awaitable[None]] | None = None,
        reply_as: tuple[str, dict[str, Any]] | None = None,
    ) -> Outcome:
        """`send_now`: the channels whose senders the caller runs right after commit
        (deliver_claimed); their rows are written already claimed. `message_key`: the
        channel's own id of the message (WeCom's msgid), applied once like an update id.
        `before_step(uow, account_id)`: the channel's bookkeeping in the step's transaction
        (WeChat: the owner wrote, so the 48-hour budget starts again). `reply_as`: the method
        and extra fields the owner's replies are sent with (WeChat's greeting goes with its
        welcome_code)."""
        # one step at a time per owner: two quick taps never race on the same state
        async with self._lock(f"{channel}:{external_id}"):
            return await self._handle(
                channel,
                external_id,
                chat_id,
                display_name,
                inbound,
                update_id,
                use_outbox,
                send_now,
                message_key,
                before_step,
                reply_as,
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
                result = await self.engine.resume(state, conv.account_id, uow.ports, channel)
                if result is None:
                    return None
                await uow.accounts.save_conversation(conv, state, now)
                await uow.commit()
            return Outcome(result, direct=self.outbound.render(channel, Replies(result.replies)))

    async def _handle(
        self,
        channel,
        external_id,
        chat_id,
        display_name,
        inbound,
        update_id,
        use_outbox,
        send_now,
        message_key,
        before_step,
        reply_as=None,
    ) -> Outcome:
        now = self.clock.now()
        async with UnitOfWork(self.sessionmaker) as uow:
            if update_id is not None and not await uow.accounts.first_time(update_id, now):
                log.info("duplicate update %s ignored", update_id)
                return Outcome(None)
            if message_key is not None and not await ChannelRepo(uow.session).first_seen(
                channel, message_key, now
            ):
                log.info("duplicate %s message ignored", channel)
                return Outcome(None)
            conv = await uow.accounts.open_conversation(
                channel, external_id, chat_id, display_name, now
            )
            if before_step is not None:
                await before_step(uow, conv.account_id)
            state = conv.state
            result = await self.engine.step(state, inbound, conv.account_id, uow.ports, channel)
            await uow.accounts.save_conversation(conv, state, now)
            outcome = Outcome(result)
            replies = Replies(result.replies)
            if use_outbox:
                uow.outbox.born_claimed = send_now
                outcome.outbox_ids = await self.outbound.write(
                    uow, Recipient(channel, chat_id), replies, priority=PRIORITY_OWNER
                )
                if reply_as is not None:
                    await uow.outbox.retarget(outcome.outbox_ids, *reply_as)
                if self.desk is not None and result.effects:
                    await self._desk_effects(uow, result, chat_id, conv.account_id)
                outcome.row_ids = list(uow.outbox.added)
                outcome.claimed = list(uow.outbox.claimed)
                # the owner wrote: a chat refused earlier (403) is open again
                await owner_wrote(uow, conv.account_id)
            else:
                outcome.direct = self.outbound.render(channel, replies)
                outcome.agent_replies = await self._agents_view(uow, result)
            await uow.commit()
        return outcome
