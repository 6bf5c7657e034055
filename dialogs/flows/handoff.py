"""人工客服: the request is recorded and the owner told when a person will reply.
(The relay itself belongs to the agent desk.)"""

from __future__ import annotations

from datetime import timedelta

from ..session import Session
from . import menu


async def request_human(s: Session, topic: str = "") -> None:
    await s.ports.handoffs.request(s.account_id, s.d.get("ticket_id"), s.now())
    s.durable = True
    local = s.local_now()
    in_hours = s.policy.in_working_hours(local)
    if in_hours:
        reply_by = s.now() + timedelta(minutes=s.policy.handoff_reply_minutes)
    else:
        reply_by = s.policy.next_working_start(local)
    s.say("handoff_requested", in_hours=in_hours, minutes=s.policy.handoff_reply_minutes,
          reply_by=reply_by, topic=topic)
    s.effect("agent_message", reply=_agent_note(s, topic), ticket_id=None)
    # what the owner had said so far is kept, so the person can pick it up
    if s.d and s.state["flow"] in menu.RESUMABLE:
        s.state["paused"] = {"flow": s.state["flow"], "step": s.state["step"], "d": s.d}
    s.reset_dialog()
    await menu.show_menu(s)


def _agent_note(s: Session, topic: str):
    from ..events import Reply

    unit = s.profile.get("unit") or {}
    return Reply("agent_handoff_request", {
        "salutation": s.profile.get("salutation", ""),
        "unit_label": unit.get("label", ""),
        "unit_verified": bool(unit.get("verified")),
        "topic": topic,
        "summary": s.d.get("what", "") or s.d.get("description", ""),
        "now": s.now(),
    })
