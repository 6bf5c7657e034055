"""The owner's answers on desk messages (已解决 / 还有问题 after 完成). The ticket id in the
button is only a pointer: it must be this owner's ticket, in a state that allows the answer."""

from __future__ import annotations

from dialogs.ticket_machine import decide
from storage.uow import UnitOfWork

from . import cards
from .context import Desk


async def handle_owner_tap(desk: Desk, uow: UnitOfWork, account_id: int, data: str) -> str | None:
    parts = data.split(":")
    try:
        action, tid = parts[1], int(parts[2])
    except (IndexError, ValueError):
        return desk.texts.render("owner_action_stale")
    t = await uow.desk.ticket(tid)
    conv = await uow.desk.conversation(account_id)
    owner_id = ((conv.state or {}).get("profile") or {}).get("owner_id") if conv else None
    mine = t is not None and (
        t.reporter_account_id == account_id or (owner_id is not None and t.owner_id == owner_id)
    )
    if not mine or action not in ("solved", "unsolved"):
        return desk.texts.render("owner_action_stale")
    machine_action = "close" if action == "solved" else "reopen"
    v = decide(
        machine_action, t.status, handler_id=t.handler_agent_id, actor_id=None, actor_role="owner"
    )
    if not v.ok:
        return desk.texts.render("owner_action_stale")
    now = desk.clock.now()
    await uow.desk.move(t, v.to_status or t.status, now, "owner", account_id, machine_action)
    if action == "solved":
        t.owner_confirmed = True  # the survey will not ask again whether it is solved
    else:
        await uow.followups.cancel(t.id, ("survey",))
    await cards.refresh_card(desk, uow, t)
    if action == "solved":
        await desk.to_owner(uow, account_id, "owner_closed_thanks", {"number": t.number})
    else:
        # 还有问题: back to its handler (首问), who is told in the group
        # the handler calls back within the bad-review time, counted in working hours
        local = now.astimezone(desk.texts.tz)
        reply_by = desk.policy.add_working_minutes(local, desk.policy.followups.callback_minutes)
        await desk.to_owner(
            uow,
            account_id,
            "owner_reopened",
            {"number": t.number, "agent": t.handler_name, "reply_by": reply_by},
        )
        await desk.to_agents(
            uow,
            "agent_done",
            {
                "number": t.number,
                "what": desk.texts.button("event_reopen"),
                "agent": t.handler_name,
                "reply_by": reply_by,
            },
            ticket_id=t.id,
            rows=[
                [("agent_btn_progress", f"d:prog:{t.id}"), ("agent_btn_takeover", f"d:tkov:{t.id}")]
            ],
        )
    return None
