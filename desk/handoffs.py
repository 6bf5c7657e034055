"""Who may join or leave an owner's conversation (接入对话 / 结束接管): a waiting request may be
claimed by any agent; an active one is released by the agent holding it or a supervisor."""

from __future__ import annotations

from dataclasses import dataclass

from .effects import Refusal
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
