"""What every desk module needs: texts, policy, clock, the agents' chat, and the outbox."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from dialogs.clock import Clock
from dialogs.engine import Engine
from dialogs.events import Reply
from dialogs.policy import Policy
from dialogs.state import profile_of
from dialogs.texts import Texts
from storage.uow import UnitOfWork

from ..rendering import payloads

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

    def keyboard(self, rows: list[list[tuple[str, str]]]) -> dict[str, Any] | None:
        """Agent-side buttons: (label key, callback data). The data is checked again on the
        server when tapped; it only says what was asked for."""
        if not rows:
            return None
        return {
            "inline_keyboard": [
                [
                    {
                        "text": self.texts.button(k) if k in self.texts.buttons else k,
                        "callback_data": d,
                    }
                    for k, d in row
                ]
                for row in rows
                if row
            ]
        }

    def _parts(
        self, template: str, ctx: dict[str, Any], rows: list[list[tuple[str, str]]] | None
    ) -> list[dict[str, Any]]:
        """Rendered, split under Telegram's limit, with the buttons on the last part."""
        parts = payloads(Reply(template, {"now": self.clock.now(), **ctx}), self.texts)
        markup = self.keyboard(rows or [])
        if markup:
            parts[-1]["reply_markup"] = markup
        return parts

    async def to_agents(
        self,
        uow: UnitOfWork,
        template: str,
        ctx: dict[str, Any],
        *,
        rows: list[list[tuple[str, str]]] | None = None,
        purpose: str = "alert",
        ref: dict[str, Any] | None = None,
        ticket_id: int | None = None,
        priority: int = PRIORITY_PROMPT,
    ) -> list[int]:
        if not self.agent_chat_id:
            return []
        ids = []
        for p in self._parts(template, ctx, rows):
            ids.append(
                await uow.outbox.add(
                    self.agent_chat_id,
                    p,
                    self.clock.now(),
                    priority=priority,
                    purpose=purpose,
                    ref=ref,
                    ticket_id=ticket_id,
                )
            )
        return ids

    async def to_chat(
        self,
        uow: UnitOfWork,
        chat_id: str,
        template: str,
        ctx: dict[str, Any],
        *,
        rows: list[list[tuple[str, str]]] | None = None,
        purpose: str = "owner",
        ticket_id: int | None = None,
    ) -> list[int]:
        ids = []
        for p in self._parts(template, ctx, rows):
            ids.append(
                await uow.outbox.add(
                    chat_id,
                    p,
                    self.clock.now(),
                    priority=PRIORITY_OWNER,
                    purpose=purpose,
                    ticket_id=ticket_id,
                )
            )
        return ids

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
            await self.to_chat(
                uow, sup.telegram_user_id, template, ctx, purpose="alert", ticket_id=ticket_id
            )

    async def to_owner(
        self, uow: UnitOfWork, account_id: int, template: str, ctx: dict[str, Any], **kw: Any
    ) -> list[int]:
        """A message to the owner behind a ticket or a conversation (Telegram accounts only)."""
        acc = await uow.accounts.account(account_id)
        if acc is None or acc.channel != "telegram":
            return []
        conv = await uow.accounts.conversation(account_id)
        ctx = {
            "salutation": profile_of(conv.state if conv else None).salutation,
            "hotline": self.policy.hotline,
            "service_name": self.policy.service_name,
            **ctx,
        }
        return await self.to_chat(uow, acc.chat_id, template, ctx, **kw)
