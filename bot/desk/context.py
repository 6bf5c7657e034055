"""What every desk module needs: texts, policy, clock, the agents' chat, and the outbound writer."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from desk.effects import Button
from dialogs.clock import Clock
from dialogs.engine import Engine
from dialogs.policy import Policy
from dialogs.state import profile_of
from dialogs.texts import Texts
from storage.uow import UnitOfWork

from ..outbound import Message, Outbound

PRIORITY_OWNER = 1
PRIORITY_RELAY = 2
PRIORITY_CARD = 3
PRIORITY_PROMPT = 3
PRIORITY_CARD_EDIT = 4


@dataclass
class Desk:
    texts: Texts
    policy: Policy
    clock: Clock
    engine: Engine
    agent_chat_id: str
    # the one outbound writer: every message of the desk is rendered and queued there
    outbound: Outbound

    async def to_agents(
        self,
        uow: UnitOfWork,
        template: str,
        ctx: dict[str, Any],
        *,
        buttons: Sequence[Sequence[Button]] = (),
        purpose: str = "alert",
        ref: dict[str, Any] | None = None,
        ticket_id: int | None = None,
        priority: int = PRIORITY_PROMPT,
    ) -> list[int]:
        return await self.outbound.write(
            uow,
            self.outbound.agents,
            Message(template, ctx, buttons),
            priority=priority,
            purpose=purpose,
            ref=ref,
            ticket_id=ticket_id,
        )

    async def to_supervisors(
        self,
        uow: UnitOfWork,
        template: str,
        ctx: dict[str, Any],
        *,
        ticket_id: int | None = None,
        supervisors=None,
    ) -> None:
        """Escalations reach each supervisor directly too (a chat they opened with the bot; one
        who never did is a 403 the sender sets aside)."""
        for sup in supervisors if supervisors is not None else await uow.staff.supervisors():
            await self.outbound.write(
                uow,
                self.outbound.private_chat(sup.telegram_user_id),
                Message(template, ctx),
                priority=PRIORITY_OWNER,
                purpose="alert",
                ticket_id=ticket_id,
            )

    async def to_owner(
        self,
        uow: UnitOfWork,
        account_id: int,
        template: str,
        ctx: dict[str, Any],
        *,
        buttons: Sequence[Sequence[Button]] = (),
        purpose: str = "owner",
        ticket_id: int | None = None,
    ) -> list[int]:
        """A message to the owner behind a ticket or a conversation, on the account's channel."""
        to = await self.outbound.owner(uow, account_id)
        if to is None:
            return []
        conv = await uow.accounts.conversation(account_id)
        ctx = {
            "salutation": profile_of(conv.state if conv else None).salutation,
            "hotline": self.policy.hotline,
            "service_name": self.policy.service_name,
            **ctx,
        }
        return await self.outbound.write(
            uow,
            to,
            Message(template, ctx, buttons),
            priority=PRIORITY_OWNER,
            purpose=purpose,
            ticket_id=ticket_id,
        )


async def owner_accounts(uow: UnitOfWork, t) -> list[int]:
    """Every account a ticket's news goes to: its reporter, then the owners who reported the
    same public fault since (one fault, one ticket). The one writer's ToOwner and the survey
    scheduler both ask here, so progress, completion and 回访 reach the same people."""
    later = [sub.account_id for sub in await uow.cases.subscribers(t.id)]
    return [t.reporter_account_id, *(a for a in later if a != t.reporter_account_id)]
