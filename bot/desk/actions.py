"""Taps on the agents' group buttons. Every tap is checked again here: who taps (the roster),
the ticket's state now, and whether the action is still allowed (dialogs/ticket_machine.py).
A refusal changes nothing and answers with a polite alert."""

from __future__ import annotations

from datetime import timedelta

from storage.models import Agent, Ticket
from storage.uow import UnitOfWork

from . import cards, relay, work
from .checks import Refusal, check, load_ticket, parse
from .context import Desk
from .work import complete  # noqa: F401  (the group router completes by reply)


async def handle_tap(desk: Desk, uow: UnitOfWork, user_id: int, data: str) -> str | None:
    """Returns the alert to show the tapper (None: done, a plain acknowledgement)."""
    agent = await uow.desk.agent_by_telegram(user_id)
    try:
        action, args = parse(data)
        if agent is None:
            # a Telegram-registered worker may grab an urgent ticket; nobody else may act
            if action == "grab":
                worker = await uow.desk.worker_by_telegram(user_id)
                if worker is not None:
                    await _worker_grab(desk, uow, worker, await load_ticket(uow, args[0]))
                    return None
            return desk.texts.render("agent_not_roster")
        handler = ACTIONS.get(action)
        if handler is None:
            raise Refusal("stale")
        await handler(desk, uow, agent, args)
        return None
    except Refusal as r:
        return desk.texts.render("agent_refused", {"reason": r.reason, "handler": "", **r.ctx})
    except IndexError:
        return desk.texts.render("agent_refused", {"reason": "stale", "handler": ""})


async def _take(desk: Desk, uow: UnitOfWork, agent: Agent, args: list[int], action="take"):
    t = await load_ticket(uow, args[0])
    to = check(t, action, agent)
    t.handler_agent_id, t.handler_name = agent.id, agent.name
    await uow.desk.move(t, to, desk.clock.now(), "agent", agent.id, action)
    await cards.refresh_card(desk, uow, t)
    await desk.to_owner(
        uow,
        t.reporter_account_id,
        "owner_ticket_taken",
        {"number": t.number, "agent": agent.name},
        ticket_id=t.id,
    )


async def _grab(desk, uow, agent, args):
    await _take(desk, uow, agent, args, action="grab")


async def _worker_grab(desk: Desk, uow: UnitOfWork, worker, t: Ticket) -> None:
    """抢单 by a worker: the first tap wins; the ticket is dispatched to them at once."""
    if t.status != "new" or not (t.urgent and desk.policy.grab_urgent):
        raise Refusal("already_taken" if t.status != "new" else "stale", handler=t.handler_name)
    now = desk.clock.now()
    due = t.promised_arrive_by or now + timedelta(minutes=30)
    await uow.desk.add_work_order(t, worker.department, worker.id, due, now, None)
    await uow.desk.move(t, "dispatched", now, "worker", worker.id, "grab", worker.name)
    await cards.refresh_card(desk, uow, t)
    await desk.to_owner(
        uow,
        t.reporter_account_id,
        "owner_dispatched",
        {
            "number": t.number,
            "department": worker.department,
            "worker": worker.name,
            "due": due,
            "phone": worker.phone,
        },
        ticket_id=t.id,
    )


async def _reassign(desk, uow, agent, args):
    t = await load_ticket(uow, args[0])
    check(t, "reassign", agent)
    if len(args) == 1:
        rows = [[(a.name, f"d:rsn:{t.id}:{a.id}")] for a in await uow.desk.agents()]
        await desk.to_agents(
            uow,
            "agent_done",
            {"number": t.number, "what": desk.texts.button("reassign_to"), "agent": agent.name},
            rows=rows,
            ticket_id=t.id,
        )
        return
    new = await uow.desk.agent(args[1])
    if new is None or not new.active:
        raise Refusal("stale")
    t.handler_agent_id, t.handler_name = new.id, new.name
    await uow.desk.move(t, t.status, desk.clock.now(), "agent", agent.id, "reassign", new.name)
    await cards.refresh_card(desk, uow, t)


async def _escalate(desk, uow, agent, args):
    t = await load_ticket(uow, args[0])
    check(t, "escalate", agent)
    rows = [[(r, f"d:escr:{t.id}:{i}")] for i, r in enumerate(desk.policy.escalation_reasons)]
    await desk.to_agents(
        uow,
        "agent_escalate_prompt",
        {"number": t.number},
        rows=rows,
        purpose="prompt",
        ticket_id=t.id,
        ref={"ticket_id": t.id, "action": "escalate", "agent_id": agent.id},
    )


async def _escalate_reason(desk, uow, agent, args):
    t = await load_ticket(uow, args[0])
    try:
        reason = desk.policy.escalation_reasons[args[1]]
    except IndexError:
        raise Refusal("stale") from None
    await escalate(desk, uow, agent, t, reason)


async def escalate(desk: Desk, uow: UnitOfWork, agent: Agent, t: Ticket, reason: str) -> None:
    """转主管: never "不归我们管"; the owner hears when the supervisor will answer."""
    check(t, "escalate", agent)
    now = desk.clock.now()
    t.escalated = True
    await uow.desk.move(t, t.status, now, "agent", agent.id, "escalate", reason)
    await cards.refresh_card(desk, uow, t)
    sups = await uow.desk.supervisors()
    ctx = {
        "number": t.number,
        "agent": agent.name,
        "reason": reason,
        "supervisors": [s.name for s in sups],
        "hours": desk.policy.escalation_reply_hours,
    }
    await desk.to_agents(
        uow,
        "agent_escalation_alert",
        ctx,
        ticket_id=t.id,
        rows=[[("agent_btn_takeover", f"d:tkov:{t.id}")]],
    )
    await desk.to_supervisors(uow, "agent_escalation_alert", ctx, ticket_id=t.id, supervisors=sups)
    reply_by = now + timedelta(hours=desk.policy.escalation_reply_hours)
    await desk.to_owner(
        uow,
        t.reporter_account_id,
        "owner_escalated",
        {"number": t.number, "reply_by": reply_by},
        ticket_id=t.id,
    )


async def _takeover(desk, uow, agent, args):
    t = await load_ticket(uow, args[0])
    check(t, "takeover", agent)
    await relay.start_human(desk, uow, agent, t.reporter_account_id, ticket=t)


async def _claim(desk, uow, agent, args):
    h = await uow.desk.handoff(args[0])
    if h is None or h.state != "waiting":
        raise Refusal("no_handoff")
    await relay.start_human(desk, uow, agent, h.account_id, handoff=h)


async def _release(desk, uow, agent, args):
    h = await uow.desk.handoff(args[0])
    if h is None or h.state != "active":
        raise Refusal("no_handoff")
    if h.agent_id != agent.id and agent.role != "supervisor":
        holder = await uow.desk.agent(h.agent_id)
        raise Refusal("not_yours", handler=holder.name if holder else "")
    await relay.release(desk, uow, agent, h)


async def _task(desk, uow, agent, args):
    task = await uow.followups.task(args[0])
    if task is None or task.state != "open":
        raise Refusal("stale")
    t = await load_ticket(uow, task.ticket_id)
    if task.agent_id not in (None, agent.id) and agent.role != "supervisor":
        raise Refusal("not_yours", handler=t.handler_name)
    await desk.to_agents(
        uow,
        "agent_task_prompt",
        {"number": t.number, "kind": task.kind},
        purpose="prompt",
        ticket_id=t.id,
        ref={"ticket_id": t.id, "action": "task_result", "task_id": task.id, "agent_id": agent.id},
    )


async def task_result(desk: Desk, uow: UnitOfWork, agent: Agent, task_id: int, text: str) -> None:
    """The call-back and its result are recorded: the task closes, and a second follow-up later
    checks the improvement (问题 → 改进 → 反馈)."""
    task = await uow.followups.task(task_id)
    if task is None or task.state != "open":
        raise Refusal("stale")
    now = desk.clock.now()
    task.state, task.result, task.done_at, task.agent_id = "done", text, now, agent.id
    t = await load_ticket(uow, task.ticket_id)
    uow.desk.event(t, now, "agent", agent.id, f"task_{task.kind}", None, None, text)
    if task.kind == "bad_review_callback":
        days = desk.policy.followups.improvement_days
        await uow.followups.add(
            "survey",
            now + timedelta(days=days),
            now,
            ticket_id=t.id,
            account_id=t.reporter_account_id,
            data={"kind": "improvement"},
        )
    await desk.to_agents(
        uow, "agent_done", {"number": t.number, "what": text, "agent": agent.name}, ticket_id=t.id
    )


async def _resurvey(desk, uow, agent, args):
    t = await load_ticket(uow, args[0])
    check(t, "resend_survey", agent)
    now = desk.clock.now()
    await uow.followups.add(
        "survey",
        now,
        now,
        ticket_id=t.id,
        account_id=t.reporter_account_id,
        urgent=True,
        data={"kind": "survey", "manual": True},
    )
    await desk.to_agents(
        uow,
        "agent_done",
        {"number": t.number, "what": desk.texts.button("agent_btn_resurvey"), "agent": agent.name},
        ticket_id=t.id,
    )


ACTIONS = {
    "take": _take,
    "grab": _grab,
    "rsn": _reassign,
    "disp": work.dispatch,
    "dept": work.choose_department,
    "wkr": work.choose_worker,
    "eta": work.choose_eta,
    "prog": work.progress,
    "pstep": work.progress_step,
    "done": work.ask_complete,
    "donenow": work.complete_now,
    "esc": _escalate,
    "escr": _escalate_reason,
    "tkov": _takeover,
    "claim": _claim,
    "rel": _release,
    "delay": work.delay,
    "task": _task,
    "resurvey": _resurvey,
}
