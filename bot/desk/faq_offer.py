"""One tap turns an agent's answer into a 常见问题 entry (issue 12). An owner whose question the
knowledge base could not settle (a miss: no match, 还有疑问, 都不是, 转人工) and who then talks to
a person is a relayed consultation: when the agent's first reply reaches the owner, the group is
offered 📚 加入常见问题, and the tap makes the entry (question: the owner's, answer: the agent's),
once, and says which number. Other conversations offer nothing: the group is a scarce channel.

The offer is a message of its own whose outbox row keeps the question, the answer and the
handoff; a tap is checked against that row (the message tapped, the handoff in the button), so
nothing the client sends is trusted."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import sqlalchemy as sa

from desk.effects import ToOwner
from dialogs.knowledge import problems
from dialogs.state import profile_of
from storage.kb_repo import EntryInvalid, KnowledgeRepo
from storage.models import Handoff, KbMiss, OutboxMessage
from storage.uow import UnitOfWork

from ..outbound import TELEGRAM, Message
from .context import PRIORITY_PROMPT, Desk
from .faq_callbacks import add_keyboard

OFFER, ADDED = "faq_offer", "faq_added"
# the miss that sent the owner to a person: logged in the same step as the request, or a little
# before it (还有疑问, then 人工客服 from the menu)
MISS_BEFORE_HANDOFF = timedelta(minutes=10)
# how far back in the group's rows an earlier offer for the same handoff is looked for
RECENT_ROWS = 100


async def offer_entry(desk: Desk, uow: UnitOfWork, account_id: int, effects: list[Any]) -> None:
    """After an agent's typed reply: offer it as an entry when it reached the owner (not held
    by 服务禁言) and answers a question the knowledge base missed; once per handoff."""
    answer = next((e.context["text"] for e in effects if isinstance(e, ToOwner)), "").strip()
    if desk.outbound.agents is None or not answer:
        return
    handoff = await uow.handoffs.open_handoff(account_id)
    if handoff is None:
        return
    miss = await _miss_before(uow, handoff)
    if miss is None or await _offered_already(desk, uow, handoff.id):
        return
    conv = await uow.accounts.conversation(account_id)
    answer = for_everyone(answer, profile_of(conv.state if conv else None).salutation)
    # an entry the knowledge base could not store (a reply too long for one) is not offered
    if not problems(miss.question, answer):
        await _write_offer(desk, uow, handoff.id, miss.question, answer)


def for_everyone(answer: str, salutation: str) -> str:
    """The answer as every owner may read it: the salutation it opened with was this owner's
    (王女士，…), and the owner's own answer page opens with theirs."""
    if not salutation:
        return answer
    return re.sub(rf"^\s*{re.escape(salutation)}[\s,，:：!！]*", "", answer).strip()


async def add_from_offer(
    desk: Desk, uow: UnitOfWork, user_id: int, handoff_id: int, chat_id: str, message_id: int
) -> str:
    """The tap on 加入常见问题: the alert for the tapper (roster only; a second tap names the
    entry the first one made)."""
    agent = await uow.staff.agent_by_telegram(user_id)
    if agent is None:
        return desk.texts.render("agent_not_roster")
    row = await uow.outbox.sent_in_chat(TELEGRAM, chat_id, message_id)
    if row is None or row.purpose not in (OFFER, ADDED) or row.ref.get("handoff_id") != handoff_id:
        return desk.texts.render("agent_refused", {"reason": "stale", "handler": ""})
    # claimed in one statement: two quick taps (or two agents) make one entry
    claimed = await uow.session.execute(
        sa.update(OutboxMessage)
        .where(OutboxMessage.id == row.id, OutboxMessage.purpose == OFFER)
        .values(purpose=ADDED)
        .execution_options(synchronize_session=False)
    )
    if claimed.rowcount != 1:
        await uow.session.refresh(row)
        return desk.texts.render("agent_faq_already", {"entry_id": row.ref.get("entry_id")})
    question, answer = row.ref["question"], row.ref["answer"]
    now = desk.clock.now()
    try:
        entry_id = await KnowledgeRepo(uow.session).add(question, answer, actor=agent.name, now=now)
    except EntryInvalid:
        # checked when offered; the rules may have changed since: the offer stays open
        await uow.session.execute(
            sa.update(OutboxMessage).where(OutboxMessage.id == row.id).values(purpose=OFFER)
        )
        return desk.texts.render("agent_refused", {"reason": "", "handler": ""})
    row.purpose, row.ref = ADDED, {**row.ref, "entry_id": entry_id}
    await desk.to_agents(
        uow,
        "agent_faq_added",
        {"entry_id": entry_id, "faq_q": question, "faq_a": answer, "agent": agent.name},
    )
    return desk.texts.render("agent_faq_already", {"entry_id": entry_id})


async def _miss_before(uow: UnitOfWork, handoff: Handoff) -> KbMiss | None:
    """The owner's question the knowledge base missed just before they asked for a person."""
    return await uow.session.scalar(
        sa.select(KbMiss)
        .where(
            KbMiss.account_id == handoff.account_id,
            KbMiss.at >= handoff.created_at - MISS_BEFORE_HANDOFF,
            KbMiss.at <= handoff.created_at,
        )
        .order_by(KbMiss.at.desc(), KbMiss.id.desc())
        .limit(1)
    )


async def _offered_already(desk: Desk, uow: UnitOfWork, handoff_id: int) -> bool:
    assert desk.outbound.agents is not None
    rows = await uow.session.scalars(
        sa.select(OutboxMessage)
        .where(
            OutboxMessage.channel == desk.outbound.agents.channel,
            OutboxMessage.chat_id == desk.outbound.agents.address,
            OutboxMessage.purpose.in_((OFFER, ADDED)),
        )
        .order_by(OutboxMessage.id.desc())
        .limit(RECENT_ROWS)
    )
    return any((r.ref or {}).get("handoff_id") == handoff_id for r in rows)


async def _write_offer(
    desk: Desk, uow: UnitOfWork, handoff_id: int, question: str, answer: str
) -> None:
    """The offer with its button. Written here rather than through desk.to_agents: the desk's
    renderer packs only desk commands (bot/desk/callbacks.py pack)."""
    agents = desk.outbound.agents
    assert agents is not None
    now = desk.clock.now()
    ctx = {"now": now, "faq_q": question, "faq_a": answer}
    payloads = desk.outbound.render(agents.channel, Message("agent_faq_offer", ctx))
    payloads[-1]["reply_markup"] = add_keyboard(desk.texts, handoff_id)
    ref = {"handoff_id": handoff_id, "question": question, "answer": answer}
    for payload in payloads:
        await uow.outbox.add(
            agents.address,
            payload,
            now,
            channel=agents.channel,
            method="sendMessage",
            priority=PRIORITY_PROMPT,
            purpose=OFFER,
            ref=ref,
        )
