"""The agents' casework at the Telegram edge: who is acting, the ticket as it is now, the core's
decision (desk/), and the one writer for its effects. A refusal changes nothing and is worded
for the person who tapped."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from desk import callbacks as callback_tasks
from desk import commands as c
from desk.casework import Rules, handle
from desk.effects import Refusal, ToOwner
from desk.handoffs import HandoffView, may_claim, may_release
from desk.model import Actor
from storage.models import Handoff
from storage.uow import UnitOfWork

from . import relay
from .apply import apply
from .casefile import agent_actor, case_of, staff_of, task_of
from .context import Desk


def rules(desk: Desk) -> Rules:
    return Rules(desk.policy, desk.clock.now(), desk.texts.tz)


def refusal_text(desk: Desk, r: Refusal) -> str:
    return desk.texts.render("agent_refused", {"reason": r.reason, "handler": r.handler})


async def agent_tap(desk: Desk, uow: UnitOfWork, user_id: int, command: Any) -> str | None:
    """A tap in the agents' group. Returns the alert for the tapper (None: done)."""
    agent = await uow.staff.agent_by_telegram(user_id)
    if agent is not None:
        actor = agent_actor(agent)
    else:
        # a Telegram-registered worker may grab an urgent ticket; nobody else may act
        worker = (
            await uow.staff.worker_by_telegram(user_id) if isinstance(command, c.Grab) else None
        )
        if worker is None:
            return desk.texts.render("agent_not_roster")
        actor = Actor("worker", worker.id, worker.name)
    try:
        await run(desk, uow, actor, command)
    except Refusal as r:
        return refusal_text(desk, r)
    return None


async def owner_tap(
    desk: Desk, uow: UnitOfWork, account_id: int, owner_id: int | None, command: c.OwnerAnswer
) -> str | None:
    """已解决 / 还有问题: the ticket id is only a pointer; it must be this owner's ticket (reported
    from this account, on the owner's own unit, or a shared public fault the account follows),
    in a state that allows the answer."""
    t = await uow.cases.ticket(command.ticket_id)
    mine = t is not None and (
        t.reporter_account_id == account_id
        or (owner_id is not None and t.owner_id == owner_id)
        or await uow.cases.is_subscriber(t.id, account_id)
    )
    if not mine:
        return desk.texts.render("owner_action_stale")
    try:
        effects = handle(
            command,
            Actor("owner", account_id),
            await case_of(uow, t),
            await staff_of(uow),
            rules(desk),
        )
    except Refusal:
        return desk.texts.render("owner_action_stale")
    # the answer's own reply (thanks, when they will hear back) goes to whoever tapped
    effects = [
        replace(e, account_id=account_id)
        if isinstance(e, ToOwner) and e.account_id is None and not e.about_ticket
        else e
        for e in effects
    ]
    await apply(desk, uow, t, effects)
    return None


async def run(desk: Desk, uow: UnitOfWork, actor: Actor, command: Any) -> None:
    """Decide and carry out one command; raises Refusal, having written nothing."""
    match command:
        case c.ClaimHandoff(handoff_id=hid):
            h = await uow.handoffs.handoff(hid)
            may_claim(_view(h))
            await relay.start_human(desk, uow, actor, h.account_id, handoff=h)
        case c.ReleaseHandoff(handoff_id=hid):
            h = await uow.handoffs.handoff(hid)
            holder = await uow.staff.agent(h.agent_id) if h is not None else None
            may_release(_view(h), actor, holder.name if holder else "")
            await relay.release(desk, uow, actor, h)
        case c.OpenCallback(task_id=tid) | c.RecordCallback(task_id=tid):
            task = await uow.followups.task(tid)
            if task is None:
                raise Refusal("stale")
            t = await _ticket(uow, task.ticket_id)
            case = await case_of(uow, t)
            if isinstance(command, c.OpenCallback):
                effects = callback_tasks.open_callback(task_of(task), actor, case)
            else:
                effects = callback_tasks.record_callback(
                    task_of(task), command.text, actor, case, rules(desk)
                )
            await apply(desk, uow, t, effects)
        case _:
            t = await _ticket(uow, command.ticket_id)
            drawn_for = getattr(command, "version", None)
            if drawn_for is not None and drawn_for != (t.version or 0):
                raise Refusal("stale")  # a second tap: the card has moved on since
            effects = handle(
                command, actor, await case_of(uow, t), await staff_of(uow), rules(desk)
            )
            await apply(desk, uow, t, effects)


async def prompt_reply(desk: Desk, uow: UnitOfWork, agent, ref: dict[str, Any], text: str) -> None:
    """A reply to a prompt (the note of a completion, a typed reason, a call-back result, a
    progress note): the prompt says which command the words complete."""
    ticket_id = int(ref.get("ticket_id") or 0)
    commands = {
        "complete": lambda: c.Complete(ticket_id, text),
        "note": lambda: c.AddNote(ticket_id, text),
        "escalate": lambda: c.Escalate(ticket_id, text),
        "task_result": lambda: c.RecordCallback(int(ref.get("task_id") or 0), text),
    }
    make = commands.get(ref.get("action", ""))
    if make is None or await uow.cases.ticket(ticket_id) is None:
        return
    try:
        await run(desk, uow, agent_actor(agent), make())
    except Refusal as r:
        await desk.to_agents(uow, "agent_refused", {"reason": r.reason, "handler": r.handler})


async def _ticket(uow: UnitOfWork, ticket_id: int):
    t = await uow.cases.ticket(ticket_id)
    if t is None:
        raise Refusal("stale")
    return t


def _view(h: Handoff | None) -> HandoffView | None:
    if h is None:
        return None
    return HandoffView(h.id, h.state, h.account_id, h.agent_id, h.ticket_id)
