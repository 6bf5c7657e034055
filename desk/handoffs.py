"""Who may join or leave an owner's conversation (接入对话 / 结束接管): a waiting request may be
claimed by any agent; an active one is released by the agent holding it or a supervisor."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from dialogs.polite import check as polite_check
from dialogs.typography import check_wording, fix_punctuation

from .casework import Rules
from .commands import ClaimHandoff
from .effects import Button, Effect, HandoffNudged, Refusal, ReplyHeld, ToAgents, ToOwner
from .model import Actor


@dataclass(frozen=True, slots=True)
class HandoffView:
    id: int
    state: str  # waiting / active / closed
    account_id: int
    agent_id: int | None = None
    ticket_id: int | None = None


def may_claim(h: HandoffView | None) -> HandoffView:
    if h is None or h.state != "waiting":
        raise Refusal("no_handoff")
    return h


def may_release(h: HandoffView | None, actor: Actor, holder_name: str = "") -> HandoffView:
    if h is None or h.state != "active":
        raise Refusal("no_handoff")
    if h.agent_id != actor.id and not actor.supervisor:
        raise Refusal("not_yours", handler=holder_name)
    return h


def nudge(h: HandoffView, salutation: str, r: Rules) -> list[Effect]:
    """Nobody has answered the owner within the policy's minutes: a polite update with a new
    time for them, and a reminder to the group with the button to join (DOMAIN.md: never leave
    an owner waiting without a word)."""
    minutes = r.policy.handoff_wait_minutes
    return [
        HandoffNudged(h.id),
        ToOwner(
            "owner_wait_update",
            {"reply_by": r.now + timedelta(minutes=minutes)},
            account_id=h.account_id,
            about_ticket=False,
        ),
        ToAgents(
            "agent_handoff_waiting_long",
            {"salutation": salutation, "minutes": minutes},
            buttons=((Button("agent_btn_claim", ClaimHandoff(h.id)),),),
            relay=True,
        ),
    ]


def agent_words(text: str, agent: Actor, account_id: int, salutation: str) -> list[Effect]:
    """An agent's typed reply to the owner (接管中): half-width punctuation put right on the
    way (GB/T 15834, never a reason to hold it); held when it breaks 服务禁言, with the agent
    told why; a salutation used as a third person or a word typed twice earns a hint, and the
    reply still goes (style, not 服务禁言: 看看 / 谢谢 are real words)."""
    text = fix_punctuation(text)
    findings = polite_check(text)
    if findings:
        return [
            ReplyHeld(agent.id, tuple(f.phrase for f in findings), account_id),
            ToAgents("agent_reply_held", {"issues": findings}, relay=True),
        ]
    out: list[Effect] = [
        ToOwner(
            "owner_agent_reply",
            {"agent": agent.name, "text": text},
            account_id=account_id,
            about_ticket=False,
        )
    ]
    hints = check_wording(text, salutation)
    if hints:
        out.append(ToAgents("agent_reply_hint", {"issues": hints}, relay=True))
    return out
