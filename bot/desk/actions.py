"""Taps on the agents' group buttons. Every tap is checked again here: who taps (the roster),
the ticket's state now, and whether the action is still allowed (dialogs/ticket_machine.py).
A refusal changes nothing and answers with a polite alert."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from dialogs.ticket_machine import decide
from storage.models import Agent, Ticket
from storage.uow import UnitOfWork

from . import cards, relay
from .context import Desk


class Refusal(Exception):
    def __init__(self, reason: str, **ctx: Any):
        super().__init__(reason)
        self.reason, self.ctx = reason, ctx


def _parse(data: str) -> tuple[str, list[int]]:
    parts = data.split(":")
    if len(parts) < 3 or parts[0] != "d":
        raise Refusal("stale")
    try:
        return parts[1], [int(p) for p in parts[2:]]
    except ValueError:
        raise Refusal("stale") from None


async def _ticket(uow: UnitOfWork, tid: int) -> Ticket:
    t = await uow.desk.ticket(tid)
    if t is None:
        raise Refusal("stale")
    return t


def _check(t: Ticket, action: str, agent: Agent) -> str:
    v = decide(action, t.status, handler_id=t.handler_agent_id, actor_id=agent.id,
               actor_role=agent.role)
    if not v.ok:
        raise Refusal(v.reason, handler=t.handler_name)
    return v.to_status or t.status


async def handle_tap(desk: Desk, uow: UnitOfWork, user_id: int, data: str) -> str | None:
    """Returns the alert to show the tapper (None: done, a plain acknowledgement)."""
    agent = await uow.desk.agent_by_telegram(user_id)
    try:
        action, args = _parse(data)
        if agent is None:
            # a Telegram-registered worker may grab an urgent ticket; nobody else may act
            if action == "grab":
                worker = await uow.desk.worker_by_telegram(user_id)
                if worker is not None:
                    await _worker_grab(desk, uow, worker, await _ticket(uow, args[0]))
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
    t = await _ticket(uow, args[0])
    to = _check(t, action, agent)
    t.handler_agent_id, t.handler_name = agent.id, agent.name
    await uow.desk.move(t, to, desk.clock.now(), "agent", agent.id, action)
    await cards.refresh_card(desk, uow, t)
    await desk.to_owner(uow, t.reporter_account_id, "owner_ticket_taken",
                        {"number": t.number, "agent": agent.name}, ticket_id=t.id)


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
    await desk.to_owner(uow, t.reporter_account_id, "owner_dispatched",
                        {"number": t.number, "department": worker.department,
                         "worker": worker.name, "due": due, "phone": worker.phone},
                        ticket_id=t.id)


async def _reassign(desk, uow, agent, args):
    t = await _ticket(uow, args[0])
    _check(t, "reassign", agent)
    if len(args) == 1:
        rows = [[(a.name, f"d:rsn:{t.id}:{a.id}")] for a in await uow.desk.agents()]
        await desk.to_agents(uow, "agent_done", {"number": t.number, "what": "改派给:",
                                                  "agent": agent.name}, rows=rows,
                             ticket_id=t.id)
        return
    new = await uow.desk.agent(args[1])
    if new is None or not new.active:
        raise Refusal("stale")
    t.handler_agent_id, t.handler_name = new.id, new.name
    await uow.desk.move(t, t.status, desk.clock.now(), "agent", agent.id, "reassign", new.name)
    await cards.refresh_card(desk, uow, t)


async def _dispatch(desk, uow, agent, args):
    t = await _ticket(uow, args[0])
    _check(t, "dispatch", agent)
    rows = [[(d, f"d:dept:{t.id}:{i}")] for i, d in enumerate(desk.policy.departments)]
    await desk.to_agents(uow, "agent_choose_department", {"number": t.number}, rows=_pairs(rows),
                         ticket_id=t.id)


async def _department(desk, uow, agent, args):
    t = await _ticket(uow, args[0])
    _check(t, "dispatch", agent)
    dept = _dept(desk, args[1])
    workers = await uow.desk.workers(dept)
    rows = [[(w.name, f"d:wkr:{t.id}:{args[1]}:{w.id}")] for w in workers]
    rows.append([("agent_btn_no_worker", f"d:wkr:{t.id}:{args[1]}:0")])
    await desk.to_agents(uow, "agent_choose_worker",
                         {"number": t.number, "department": dept, "workers": bool(workers)},
                         rows=_pairs(rows), ticket_id=t.id)


async def _worker(desk, uow, agent, args):
    t = await _ticket(uow, args[0])
    _check(t, "dispatch", agent)
    dept = _dept(desk, args[1])
    worker = await _worker_in(uow, args[2], dept)
    rows = [[(desk.texts.button("agent_btn_eta", m=m), f"d:eta:{t.id}:{args[1]}:{args[2]}:{m}")]
            for m in desk.policy.eta_choices]
    await desk.to_agents(uow, "agent_choose_eta",
                         {"number": t.number, "department": dept,
                          "worker": worker.name if worker else ""},
                         rows=_pairs(rows), ticket_id=t.id)


async def _eta(desk, uow, agent, args):
    t = await _ticket(uow, args[0])
    to = _check(t, "dispatch", agent)
    dept = _dept(desk, args[1])
    worker = await _worker_in(uow, args[2], dept)
    minutes = args[3]
    if minutes not in desk.policy.eta_choices:
        raise Refusal("stale")
    now = desk.clock.now()
    due = now + timedelta(minutes=minutes)
    await _sla_pause(desk, uow, t, pause=False)
    await uow.desk.add_work_order(t, dept, worker.id if worker else None, due, now, agent.id)
    name = worker.name if worker else ""
    await uow.desk.move(t, to, now, "agent", agent.id, "dispatch",
                        f"{dept}{name} {desk.texts.env.filters['when'](due, now)}前")
    await cards.refresh_card(desk, uow, t)
    await desk.to_owner(uow, t.reporter_account_id, "owner_dispatched",
                        {"number": t.number, "department": dept, "worker": name, "due": due,
                         "phone": worker.phone if worker else ""}, ticket_id=t.id)


async def _progress(desk, uow, agent, args):
    t = await _ticket(uow, args[0])
    _check(t, "progress", agent)
    rows = [[(step, f"d:pstep:{t.id}:{i}")] for i, step in enumerate(desk.policy.progress_steps)]
    await desk.to_agents(uow, "agent_choose_progress", {"number": t.number}, rows=_pairs(rows),
                         ticket_id=t.id)


async def _progress_step(desk, uow, agent, args):
    t = await _ticket(uow, args[0])
    to = _check(t, "progress", agent)
    try:
        step = desk.policy.progress_steps[args[1]]
    except IndexError:
        raise Refusal("stale") from None
    now = desk.clock.now()
    if step == DELAY_STEP:
        rows = [[(desk.texts.button("agent_btn_delay", m=str(m // 60)), f"d:delay:{t.id}:{m}")
                 for m in DELAY_CHOICES]]
        await desk.to_agents(uow, "agent_choose_delay", {"number": t.number}, rows=rows,
                             ticket_id=t.id)
        return
    await _sla_pause(desk, uow, t, pause=step in PAUSE_STEPS)
    await uow.desk.move(t, to, now, "agent", agent.id, "progress", step)
    await cards.refresh_card(desk, uow, t)
    due = None
    orders = await uow.desk.work_orders(t.id)
    if orders:
        due = orders[-1][0].due_at
    await desk.to_owner(uow, t.reporter_account_id, "owner_progress",
                        {"number": t.number, "step": step, "due": due,
                         "step_code": "departed" if "出发" in step else "",
                         "unit_label": t.unit_label}, ticket_id=t.id)
    await desk.to_agents(uow, "agent_note_prompt", {"number": t.number, "what": step},
                         purpose="prompt", ticket_id=t.id,
                         ref={"ticket_id": t.id, "action": "note", "agent_id": agent.id})


async def _complete(desk, uow, agent, args):
    t = await _ticket(uow, args[0])
    _check(t, "complete", agent)
    await desk.to_agents(uow, "agent_complete_prompt", {"number": t.number},
                         rows=[[("agent_btn_complete_now", f"d:donenow:{t.id}")]],
                         purpose="prompt", ticket_id=t.id,
                         ref={"ticket_id": t.id, "action": "complete", "agent_id": agent.id})


async def complete(desk: Desk, uow: UnitOfWork, agent: Agent, t: Ticket, note: str) -> None:
    to = _check(t, "complete", agent)
    now = desk.clock.now()
    await uow.desk.move(t, to, now, "agent", agent.id, "complete", note)
    t.completed_at = now
    await schedule_after_completion(desk, uow, t)
    await cards.refresh_card(desk, uow, t)
    await desk.to_owner(uow, t.reporter_account_id, "owner_completed",
                        {"number": t.number, "note": note, "agent": t.handler_name or agent.name},
                        rows=[[("owner_btn_solved", f"o:solved:{t.id}"),
                               ("owner_btn_unsolved", f"o:unsolved:{t.id}")]], ticket_id=t.id)


async def schedule_after_completion(desk: Desk, uow: UnitOfWork, t: Ticket) -> None:
    """回访 by kind of work, created in the completion's own transaction (DOMAIN.md)."""
    from storage.followups_repo import SLA_KINDS

    now = desk.clock.now()
    await uow.followups.cancel(t.id, SLA_KINDS + ("survey",))
    t.sla_paused_since = None
    last = await uow.followups.last_routine_survey(t.reporter_account_id)
    tz = desk.texts.tz
    for due in desk.policy.followups.after_completion(
            kind=t.kind, category=t.category, department=t.department, urgent=t.urgent,
            local_done=now.astimezone(tz), last_routine=last.astimezone(tz) if last else None):
        await uow.followups.add(due.kind, due.at, now, ticket_id=t.id,
                                account_id=t.reporter_account_id, urgent=due.urgent,
                                data=due.data)


async def _complete_now(desk, uow, agent, args):
    await complete(desk, uow, agent, await _ticket(uow, args[0]), "")


async def _escalate(desk, uow, agent, args):
    t = await _ticket(uow, args[0])
    _check(t, "escalate", agent)
    rows = [[(r, f"d:escr:{t.id}:{i}")] for i, r in enumerate(desk.policy.escalation_reasons)]
    await desk.to_agents(uow, "agent_escalate_prompt", {"number": t.number}, rows=rows,
                         purpose="prompt", ticket_id=t.id,
                         ref={"ticket_id": t.id, "action": "escalate", "agent_id": agent.id})


async def _escalate_reason(desk, uow, agent, args):
    t = await _ticket(uow, args[0])
    try:
        reason = desk.policy.escalation_reasons[args[1]]
    except IndexError:
        raise Refusal("stale") from None
    await escalate(desk, uow, agent, t, reason)


async def escalate(desk: Desk, uow: UnitOfWork, agent: Agent, t: Ticket, reason: str) -> None:
    """转主管: never "不归我们管"; the owner hears when the supervisor will answer."""
    _check(t, "escalate", agent)
    now = desk.clock.now()
    t.escalated = True
    await uow.desk.move(t, t.status, now, "agent", agent.id, "escalate", reason)
    await cards.refresh_card(desk, uow, t)
    sups = await uow.desk.supervisors()
    ctx = {"number": t.number, "agent": agent.name, "reason": reason,
           "supervisors": [s.name for s in sups], "hours": desk.policy.escalation_reply_hours}
    await desk.to_agents(uow, "agent_escalation_alert", ctx, ticket_id=t.id,
                         rows=[[("agent_btn_takeover", f"d:tkov:{t.id}")]])
    for s in sups:
        await desk.to_chat(uow, s.telegram_user_id, "agent_escalation_alert", ctx,
                           purpose="alert", ticket_id=t.id)
    reply_by = now + timedelta(hours=desk.policy.escalation_reply_hours)
    await desk.to_owner(uow, t.reporter_account_id, "owner_escalated",
                        {"number": t.number, "reply_by": reply_by}, ticket_id=t.id)


async def _takeover(desk, uow, agent, args):
    t = await _ticket(uow, args[0])
    _check(t, "takeover", agent)
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


DELAY_STEP = "延期"
PAUSE_STEPS = ("等待配件", "等待业主确认")
DELAY_CHOICES = (60, 120, 240, 1440)


async def _sla_pause(desk: Desk, uow: UnitOfWork, t: Ticket, pause: bool) -> None:
    """The SLA clock stops while the ticket waits on parts or on the owner; when the work goes on,
    its pending deadlines move by the time it stood still."""
    from storage.followups_repo import SLA_KINDS

    now = desk.clock.now()
    if pause and t.sla_paused_since is None:
        t.sla_paused_since = now
    elif not pause and t.sla_paused_since is not None:
        stood = now - t.sla_paused_since
        await uow.followups.shift(t.id, SLA_KINDS, stood)
        if t.promised_arrive_by:
            t.promised_arrive_by += stood
        t.sla_paused_since = None


async def _delay(desk, uow, agent, args):
    """延期: the handler sets a new time; the owner hears an apology and that time."""
    from storage.followups_repo import SLA_KINDS

    t = await _ticket(uow, args[0])
    to = _check(t, "progress", agent)
    if args[1] not in DELAY_CHOICES:
        raise Refusal("stale")
    now = desk.clock.now()
    new_time = now + timedelta(minutes=args[1])
    t.promised_arrive_by = new_time
    t.escalated = t.escalated
    await uow.followups.cancel(t.id, SLA_KINDS)
    for due in desk.policy.followups.sla(kind=t.kind, category=t.category, urgent=True,
                                         local_created=now, deadline=new_time):
        await uow.followups.add(due.kind, due.at, now, ticket_id=t.id, urgent=True)
    await uow.desk.move(t, to, now, "agent", agent.id, "delay",
                        desk.texts.env.filters["when"](new_time, now))
    await cards.refresh_card(desk, uow, t)
    await desk.to_owner(uow, t.reporter_account_id, "owner_delayed",
                        {"number": t.number, "new_time": new_time}, ticket_id=t.id)


async def _task(desk, uow, agent, args):
    task = await uow.followups.task(args[0])
    if task is None or task.state != "open":
        raise Refusal("stale")
    t = await _ticket(uow, task.ticket_id)
    if task.agent_id not in (None, agent.id) and agent.role != "supervisor":
        raise Refusal("not_yours", handler=t.handler_name)
    await desk.to_agents(uow, "agent_task_prompt", {"number": t.number, "kind": task.kind},
                         purpose="prompt", ticket_id=t.id,
                         ref={"ticket_id": t.id, "action": "task_result", "task_id": task.id,
                              "agent_id": agent.id})


async def task_result(desk: Desk, uow: UnitOfWork, agent: Agent, task_id: int, text: str) -> None:
    """The call-back and its result are recorded: the task closes, and a second follow-up later
    checks the improvement (问题 → 改进 → 反馈)."""
    task = await uow.followups.task(task_id)
    if task is None or task.state != "open":
        raise Refusal("stale")
    now = desk.clock.now()
    task.state, task.result, task.done_at, task.agent_id = "done", text, now, agent.id
    t = await _ticket(uow, task.ticket_id)
    uow.desk.event(t, now, "agent", agent.id, f"task_{task.kind}", None, None, text)
    if task.kind == "bad_review_callback":
        days = desk.policy.followups.improvement_days
        await uow.followups.add("survey", now + timedelta(days=days), now, ticket_id=t.id,
                                account_id=t.reporter_account_id, data={"kind": "improvement"})
    await desk.to_agents(uow, "agent_done", {"number": t.number, "what": text, "agent": agent.name},
                         ticket_id=t.id)


async def _resurvey(desk, uow, agent, args):
    t = await _ticket(uow, args[0])
    _check(t, "resend_survey", agent)
    now = desk.clock.now()
    await uow.followups.add("survey", now, now, ticket_id=t.id, account_id=t.reporter_account_id,
                            urgent=True, data={"kind": "survey", "manual": True})
    await desk.to_agents(uow, "agent_done", {"number": t.number, "what": desk.texts.button(
        "agent_btn_resurvey"), "agent": agent.name}, ticket_id=t.id)


def _dept(desk: Desk, i: int) -> str:
    try:
        return desk.policy.departments[i]
    except IndexError:
        raise Refusal("stale") from None


async def _worker_in(uow: UnitOfWork, worker_id: int, dept: str):
    if worker_id == 0:
        return None
    w = await uow.desk.worker(worker_id)
    if w is None or w.department != dept:
        raise Refusal("no_worker")
    return w


def _pairs(rows: list[list[tuple[str, str]]]) -> list[list[tuple[str, str]]]:
    flat = [b for row in rows for b in row]
    return [flat[i:i + 2] for i in range(0, len(flat), 2)]


ACTIONS = {
    "take": _take, "grab": _grab, "rsn": _reassign, "disp": _dispatch, "dept": _department,
    "wkr": _worker, "eta": _eta, "prog": _progress, "pstep": _progress_step, "done": _complete,
    "donenow": _complete_now, "esc": _escalate, "escr": _escalate_reason, "tkov": _takeover,
    "claim": _claim, "rel": _release, "delay": _delay, "task": _task, "resurvey": _resurvey,
}
