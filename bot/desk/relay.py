"""Conversations taken over by a person: the owner's chat in human mode, owner messages relayed
into the group (tagged, reply-threaded), agents' replies checked against 服务禁言 and delivered."""

from __future__ import annotations

from typing import Any

from desk.commands import ClaimHandoff, ReleaseHandoff
from dialogs.events import Inbound, Takeover
from dialogs.polite import check
from dialogs.state import profile_of
from dialogs.typography import check_wording, fix_punctuation
from storage.models import Agent, Handoff, Ticket
from storage.uow import UnitOfWork

from ..owner_events import raise_event
from .callbacks import pack
from .context import PRIORITY_OWNER, PRIORITY_RELAY, Desk


async def start_human(
    desk: Desk,
    uow: UnitOfWork,
    agent: Agent,
    account_id: int,
    *,
    handoff: Handoff | None = None,
    ticket: Ticket | None = None,
) -> None:
    """An agent takes the conversation: 首问 for it and its ticket; the bot stops answering."""
    now = desk.clock.now()
    if handoff is None:
        handoff = await uow.handoffs.open_handoff(account_id)
    if handoff is None:
        handoff = Handoff(
            account_id=account_id,
            ticket_id=ticket.id if ticket else None,
            state="active",
            agent_id=agent.id,
            created_at=now,
        )
        uow.session.add(handoff)
        await uow.session.flush()
    handoff.state, handoff.agent_id = "active", agent.id
    if ticket is None and handoff.ticket_id:
        ticket = await uow.cases.ticket(handoff.ticket_id)
    if ticket is not None:
        if ticket.handler_agent_id is None:
            ticket.handler_agent_id, ticket.handler_name = agent.id, agent.name
        uow.cases.event(ticket, now, "agent", agent.id, "takeover", None, None, "")
    takeover = Takeover(agent.name, handoff.id, ticket.number if ticket else "")
    await raise_event(desk, uow, account_id, Inbound("takeover", detail=takeover))
    conv = await uow.accounts.conversation(account_id)
    profile = profile_of(conv.state if conv else None)
    await desk.to_agents(
        uow,
        "agent_takeover_started",
        {
            "agent": agent.name,
            "salutation": profile.salutation,
            "unit_label": profile.unit_label,
        },
        rows=[[("agent_btn_release", pack(ReleaseHandoff(handoff.id)))]],
        purpose="relay",
        ref={"account_id": account_id, "handoff_id": handoff.id},
        priority=PRIORITY_RELAY,
    )
    await desk.to_owner(uow, account_id, "owner_agent_joined", {"agent": agent.name})


async def release(desk: Desk, uow: UnitOfWork, agent: Agent | None, handoff: Handoff) -> None:
    """结束接管: back to the bot, which says so and shows the menu."""
    now = desk.clock.now()
    handoff.state, handoff.closed_at = "closed", now
    conv = await uow.accounts.conversation(handoff.account_id)
    if conv is None:
        return
    profile = profile_of(conv.state)
    # said before the menu the release brings back
    await desk.to_owner(uow, handoff.account_id, "owner_released", {})
    await raise_event(desk, uow, handoff.account_id, Inbound("release"))
    await desk.to_agents(
        uow,
        "agent_takeover_ended",
        {
            "salutation": profile.salutation,
            "agent": agent.name if agent else "",
            "by": "agent",
        },
        priority=PRIORITY_RELAY,
    )


async def relay_owner_message(
    desk: Desk, uow: UnitOfWork, owner_chat_id: str, account_id: int, data: dict[str, Any]
) -> None:
    """Owner → group: a tagged header (reply to it to answer), and the message itself copied
    whole when it is not plain text. Relayed messages go first in the group's queue."""
    if not desk.agent_chat_id:
        return
    ref = {"account_id": account_id, "handoff_id": data.get("handoff_id")}
    now = desk.clock.now()
    if data["header"] or data["kind"] in ("text", "contact"):
        await desk.to_agents(
            uow, "agent_relay_header", data, purpose="relay", ref=ref, priority=PRIORITY_RELAY
        )
    if data["kind"] not in ("text", "contact", "location") and data.get("message_id"):
        await uow.outbox.add(
            desk.agent_chat_id,
            {"from_chat_id": owner_chat_id, "message_id": data["message_id"]},
            now,
            method="copyMessage",
            priority=PRIORITY_RELAY,
            purpose="relay",
            ref=ref,
        )


async def agent_reply(
    desk: Desk,
    uow: UnitOfWork,
    agent: Agent,
    account_id: int,
    text: str,
    message_id: int,
    kind: str,
) -> None:
    """Group → owner, only if it passes the polite-language checker (服务禁言). Half-width
    punctuation is put right on the way; a salutation used as a third person or a word typed
    twice earns the agent a hint, and the reply still goes."""
    if kind == "text":
        # 标点 (GB/T 15834): fixed silently, never a reason to hold a reply
        text = fix_punctuation(text)
        findings = check(text)
        if findings:
            await desk.to_agents(
                uow, "agent_reply_held", {"issues": findings}, priority=PRIORITY_RELAY
            )
            return
        await desk.to_owner(
            uow, account_id, "owner_agent_reply", {"agent": agent.name, "text": text}
        )
        # style, not 服务禁言: the owner still understands, and 看看 / 谢谢 are real words
        conv = await uow.accounts.conversation(account_id)
        hints = check_wording(text, profile_of(conv.state if conv else None).salutation)
        if hints:
            await desk.to_agents(
                uow, "agent_reply_hint", {"issues": hints}, priority=PRIORITY_RELAY
            )
        return
    acc = await uow.accounts.account(account_id)
    if acc is not None and acc.channel == "telegram" and desk.agent_chat_id:
        await uow.outbox.add(
            acc.chat_id,
            {"from_chat_id": desk.agent_chat_id, "message_id": message_id},
            desk.clock.now(),
            method="copyMessage",
            priority=PRIORITY_OWNER,
        )


async def nudge_waiting(desk: Desk, uow: UnitOfWork) -> int:
    """An owner nobody has answered within the policy's minutes gets a polite update; the group
    is reminded too. Runs on the injectable clock."""
    from datetime import timedelta

    now = desk.clock.now()
    due = await uow.handoffs.waiting_handoffs_due(
        now - timedelta(minutes=desk.policy.handoff_wait_minutes)
    )
    for h in due:
        h.nudged_at = now
        reply_by = now + timedelta(minutes=desk.policy.handoff_wait_minutes)
        await desk.to_owner(uow, h.account_id, "owner_wait_update", {"reply_by": reply_by})
        conv = await uow.accounts.conversation(h.account_id)
        profile = profile_of(conv.state if conv else None)
        await desk.to_agents(
            uow,
            "agent_handoff_waiting_long",
            {
                "salutation": profile.salutation,
                "minutes": desk.policy.handoff_wait_minutes,
            },
            rows=[[("agent_btn_claim", pack(ClaimHandoff(h.id)))]],
            priority=PRIORITY_RELAY,
        )
    return len(due)
