"""人工客服: in working hours the owner waits for a person (the human flow); outside them the
owner is told when a person will reply and a consultation ticket is opened."""

from __future__ import annotations

from ..events import HandoffRequested, Inbound, Reply
from ..session import Session
from ..steps import enter, entry, goto, step
from . import filing


@entry("handoff.request")
async def request_human(s: Session, topic: str = "") -> None:
    summary = s.d.get("what", "") or s.d.get("description", "")
    # what the owner had said so far is kept, so they can pick it up after the person
    s.state.pause()
    if not s.policy.in_working_hours(s.local_now()):
        # nobody is at the desk: ask what the owner needs before anything is recorded
        s.reset_dialog()
        s.d.update(summary=summary, topic=topic)
        await goto(s, "handoff.after_hours")
        return
    handoff_id = await s.ports.handoffs.request(s.account_id, s.d.get("ticket_id"), s.now())
    s.durable = True
    s.reset_dialog()
    s.d["handoff_id"] = handoff_id
    s.d["since"] = s.now().isoformat()
    s.effect(HandoffRequested(handoff_id, s.account_id, _agent_note(s, topic, summary)))
    await goto(s, "human.waiting")


@step("handoff.after_hours", accepts={"text", "photo", "voice"}, text_limit=1000)
async def ask_after_hours(s: Session) -> None:
    s.ask(
        "handoff_after_hours_ask",
        [],
        reply_by=s.policy.next_working_start(s.local_now()),
    )


@ask_after_hours.on
async def on_after_hours(s: Session, ev: Inbound, value: str | None) -> None:
    words = ev.text.strip()
    if ev.file_id:
        s.d.setdefault("attachments", []).append({"kind": ev.kind, "file_id": ev.file_id})
    if not words and ev.kind == "text":
        await ask_after_hours(s)
        return
    earlier = s.d.get("summary", "")
    description = "\n".join(x for x in (words, earlier) if x) or s.label("handoff_after_hours_note")
    draft = filing.build_draft(
        s,
        kind="consult",
        category=None,
        urgent=False,
        description=description,
        location="",
        details={"handoff": True, "topic": s.d.get("topic", "")},
    )
    ticket = await filing.file_ticket(s, draft)
    # the owner hears the ticket's own promised time, the one the agents' card shows
    s.say("handoff_after_hours", ticket=ticket)
    s.reset_dialog()
    await enter(s, "menu.show")


def _agent_note(s: Session, topic: str, summary: str) -> Reply:
    unit = s.profile.get("unit") or {}
    return Reply(
        "agent_handoff_request",
        {
            "salutation": s.profile.get("salutation", ""),
            "unit_label": unit.get("label", ""),
            "unit_verified": bool(unit.get("verified")),
            "topic": topic,
            "summary": summary,
            "now": s.now(),
        },
    )
