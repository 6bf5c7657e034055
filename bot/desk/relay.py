"""Conversations taken over by a person: the owner's chat in human mode, owner messages relayed
into the group (tagged, reply-threaded), agents' replies checked against 服务禁言 and delivered."""

from __future__ import annotations

from typing import Any

from desk.commands import ReleaseHandoff
from desk.effects import Button
from desk.handoffs import HandoffView
from dialogs.events import Inbound, Takeover
from dialogs.state import profile_of
from storage.models import Agent, Handoff, Ticket
from storage.uow import UnitOfWork

from ..outbound import Copy, Recipient
from ..owner_events import raise_event
from .context import PRIORITY_OWNER, PRIORITY_RELAY, Desk

# characters of an owner's message shown in the group's header; the rest is on the handoff
RELAY_TEXT_LIMIT = 1000


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
        await uow.cases.event(ticket, now, "agent", agent.id, "takeover", None, None, "")
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
        buttons=((Button("agent_btn_release", ReleaseHandoff(handoff.id)),),),
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
    whole when it is not plain text. Relayed messages go first in the group's queue. Long words
    are shown clipped (one message, not pages of them ahead of every card) and kept in full on
    the handoff, which names the ticket when there is one."""
    text = data.get("text") or ""
    if len(text) > RELAY_TEXT_LIMIT:
        data = {**data, "text": text[:RELAY_TEXT_LIMIT].rstrip() + "…"}
        handoff_id = data.get("handoff_id")
        if handoff_id is None:
            open_one = await uow.handoffs.open_handoff(account_id)
            handoff_id = open_one.id if open_one else None
        if handoff_id is not None:
            now = desk.clock.now()
            await uow.handoffs.keep_long_text(handoff_id, now, data.get("message_id"), text)
    if not desk.agent_chat_id:
        return
    owner = await desk.outbound.owner(uow, account_id)
    # the agents see where the owner writes from (微信): the same desk, another channel
    data = {**data, "channel": owner.channel if owner is not None else ""}
    ref = {"account_id": account_id, "handoff_id": data.get("handoff_id")}
    if data["header"] or data["kind"] in ("text", "contact"):
        # the owner's words go with the header: a /faq replying to it looks them up (bot/desk/faq.py)
        words = {"words": data["text"]} if data["kind"] == "text" and data.get("text") else {}
        await desk.to_agents(
            uow,
            "agent_relay_header",
            data,
            purpose="relay",
            ref={**ref, **words},
            priority=PRIORITY_RELAY,
        )
    # copied from the owner's chat (or fetched from it: WeChat's media): only a channel that
    # can carry it from there does
    if (
        data["kind"] not in ("text", "contact", "location")
        and (data.get("message_id") or data.get("file_id"))
        and owner is not None
    ):
        await desk.outbound.write(
            uow,
            desk.outbound.agents,
            Copy(
                Recipient(owner.channel, owner_chat_id),
                data.get("message_id") or 0,
                file_id=data.get("file_id") or "",
            ),
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
    """Group → owner: typed words as the core decides (desk/handoffs.py: 服务禁言 holds them,
    style earns a hint); a photo or voice note copied whole."""
    if kind == "text":
        from desk.handoffs import agent_words

        from .apply import apply
        from .casefile import agent_actor
        from .faq_offer import offer_entry

        conv = await uow.accounts.conversation(account_id)
        salutation = profile_of(conv.state if conv else None).salutation
        effects = agent_words(text, agent_actor(agent), account_id, salutation)
        await apply(desk, uow, None, effects)
        # an answer to a question the knowledge base missed: one tap makes it an entry
        await offer_entry(desk, uow, account_id, effects)
        return
    # a photo or a voice note, copied from the group: the owner's channel says if it can
    if desk.outbound.agents is not None:
        await desk.outbound.write(
            uow,
            await desk.outbound.owner(uow, account_id),
            Copy(desk.outbound.agents, message_id),
            priority=PRIORITY_OWNER,
        )


async def nudge_waiting(desk: Desk, uow: UnitOfWork) -> int:
    """Owners nobody has answered within the policy's minutes (desk/handoffs.py decides what
    they and the group hear). Runs on the injectable clock."""
    from datetime import timedelta

    from desk.handoffs import nudge

    from .apply import apply
    from .service import rules

    now = desk.clock.now()
    due = await uow.handoffs.waiting_handoffs_due(
        now - timedelta(minutes=desk.policy.handoff_wait_minutes)
    )
    for h in due:
        conv = await uow.accounts.conversation(h.account_id)
        view = HandoffView(h.id, h.state, h.account_id, h.agent_id, h.ticket_id)
        salutation = profile_of(conv.state if conv else None).salutation
        await apply(desk, uow, None, nudge(view, salutation, rules(desk)))
    return len(due)
