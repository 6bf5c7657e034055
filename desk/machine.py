"""The ticket's states and who may move it, as data and one pure function.

待受理 new → 已受理 accepted → 已派单 dispatched → 处理中 in_progress → 已完成 done → 已关闭 closed,
plus 已撤销 withdrawn and reopening from 已完成. 首问责任制 (DOMAIN.md): the agent who takes a ticket
first owns it until it is closed; a supervisor may act on any ticket and reassign it."""

from __future__ import annotations

from dataclasses import dataclass

from dialogs.ports import OPEN_STATUSES as OPEN

# action → the states it may start from, and the state it leads to (None: the state stays)
TRANSITIONS: dict[str, tuple[tuple[str, ...], str | None]] = {
    "take": (("new",), "accepted"),
    "grab": (("new",), "accepted"),
    "reassign": (("accepted", "dispatched", "in_progress"), None),
    "dispatch": (("accepted", "dispatched", "in_progress"), "dispatched"),
    "progress": (("accepted", "dispatched", "in_progress"), "in_progress"),
    "complete": (("accepted", "dispatched", "in_progress"), "done"),
    "escalate": (OPEN, None),
    "takeover": (OPEN + ("done",), None),
    "reopen": (("done",), "in_progress"),
    "close": (("done",), "closed"),
    "withdraw": (OPEN, "withdrawn"),
    "urge": (OPEN, None),
    "resend_survey": (("done", "closed"), None),
    "delay": (("accepted", "dispatched", "in_progress"), None),
}

# actions an agent may take only on a ticket they own (a supervisor may take them on any)
OWNER_ONLY = {"dispatch", "progress", "complete", "takeover", "resend_survey", "delay"}
SUPERVISOR_ONLY = {"reassign"}


@dataclass(frozen=True, slots=True)
class Verdict:
    ok: bool
    to_status: str | None = None
    # why not, as a template-friendly code: agent_refused_<reason>
    reason: str = ""


def decide(
    action: str,
    status: str,
    *,
    handler_id: int | None,
    actor_id: int | None,
    actor_role: str = "agent",
) -> Verdict:
    """May this actor do this action on a ticket in this state? Pure: the caller re-reads the
    ticket inside its transaction and calls this, so a stale button is judged on today's state."""
    if action not in TRANSITIONS:
        return Verdict(False, reason="unknown")
    allowed_from, to_status = TRANSITIONS[action]
    if status not in allowed_from:
        if action in ("take", "grab") and status in OPEN:
            return Verdict(False, reason="already_taken")
        return Verdict(False, reason=f"state_{status}")
    supervisor = actor_role == "supervisor"
    if action in SUPERVISOR_ONLY and not supervisor:
        return Verdict(False, reason="supervisor_only")
    if action in OWNER_ONLY and not supervisor:
        if handler_id is None:
            return Verdict(False, reason="not_taken")
        if handler_id != actor_id:
            return Verdict(False, reason="not_yours")
    if action == "complete" and handler_id is None:
        return Verdict(False, reason="not_taken")
    return Verdict(True, to_status if to_status is not None else status)
