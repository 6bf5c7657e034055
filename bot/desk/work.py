"""The work on a ticket: 派单 (department → worker → time, each a work order), 进度 (with 延期 and
the SLA clock paused while waiting on parts or the owner), 完成 (and the 回访 it schedules)."""

from __future__ import annotations

from datetime import timedelta

from storage.models import Agent, Ticket
from storage.uow import UnitOfWork

from . import cards
from .checks import Refusal, check, department, load_ticket, pairs, worker_in
from .context import Desk


async def dispatch(desk, uow, agent, args):
    t = await load_ticket(uow, args[0])
    check(t, "dispatch", agent)
    rows = [[(d, f"d:dept:{t.id}:{i}")] for i, d in enumerate(desk.policy.departments)]
    await desk.to_agents(
        uow, "agent_choose_department", {"number": t.number}, rows=pairs(rows), ticket_id=t.id
    )


async def choose_department(desk, uow, agent, args):
    t = await load_ticket(uow, args[0])
    check(t, "dispatch", agent)
    dept = department(desk, args[1])
    workers = await uow.desk.workers(dept)
    rows = [[(w.name, f"d:wkr:{t.id}:{args[1]}:{w.id}")] for w in workers]
    rows.append([("agent_btn_no_worker", f"d:wkr:{t.id}:{args[1]}:0")])
    await desk.to_agents(
        uow,
        "agent_choose_worker",
        {"number": t.number, "department": dept, "workers": bool(workers)},
        rows=pairs(rows),
        ticket_id=t.id,
    )


async def choose_worker(desk, uow, agent, args):
    t = await load_ticket(uow, args[0])
    check(t, "dispatch", agent)
    dept = department(desk, args[1])
    worker = await worker_in(uow, args[2], dept)
    rows = [
        [(desk.texts.button("agent_btn_eta", m=m), f"d:eta:{t.id}:{args[1]}:{args[2]}:{m}")]
        for m in desk.policy.eta_choices
    ]
    await desk.to_agents(
        uow,
        "agent_choose_eta",
        {"number": t.number, "department": dept, "worker": worker.name if worker else ""},
        rows=pairs(rows),
        ticket_id=t.id,
    )


async def choose_eta(desk, uow, agent, args):
    t = await load_ticket(uow, args[0])
    to = check(t, "dispatch", agent)
    dept = department(desk, args[1])
    worker = await worker_in(uow, args[2], dept)
    minutes = args[3]
    if minutes not in desk.policy.eta_choices:
        raise Refusal("stale")
    now = desk.clock.now()
    due = now + timedelta(minutes=minutes)
    await sla_pause(desk, uow, t, pause=False)
    await uow.desk.add_work_order(t, dept, worker.id if worker else None, due, now, agent.id)
    name = worker.name if worker else ""
    await uow.desk.move(
        t,
        to,
        now,
        "agent",
        agent.id,
        "dispatch",
        f"{dept}{name} "
        + desk.texts.button("time_before", when=desk.texts.env.filters["when"](due, now)),
    )
    await cards.refresh_card(desk, uow, t)
    await desk.to_owner(
        uow,
        t.reporter_account_id,
        "owner_dispatched",
        {
            "number": t.number,
            "department": dept,
            "worker": name,
            "due": due,
            "phone": worker.phone if worker else "",
        },
        ticket_id=t.id,
    )


async def progress(desk, uow, agent, args):
    t = await load_ticket(uow, args[0])
    check(t, "progress", agent)
    rows = [[(step, f"d:pstep:{t.id}:{i}")] for i, step in enumerate(desk.policy.progress_steps)]
    await desk.to_agents(
        uow, "agent_choose_progress", {"number": t.number}, rows=pairs(rows), ticket_id=t.id
    )


async def progress_step(desk, uow, agent, args):
    t = await load_ticket(uow, args[0])
    to = check(t, "progress", agent)
    try:
        step = desk.policy.progress_steps[args[1]]
    except IndexError:
        raise Refusal("stale") from None
    now = desk.clock.now()
    if step == desk.policy.delay_step:
        await desk.to_agents(
            uow,
            "agent_choose_delay",
            {"number": t.number},
            rows=delay_rows(desk, t),
            ticket_id=t.id,
        )
        return
    await sla_pause(desk, uow, t, pause=step in desk.policy.pause_steps)
    await uow.desk.move(t, to, now, "agent", agent.id, "progress", step)
    await cards.refresh_card(desk, uow, t)
    due = None
    orders = await uow.desk.work_orders(t.id)
    if orders:
        due = orders[-1][0].due_at
    await desk.to_owner(
        uow,
        t.reporter_account_id,
        "owner_progress",
        {
            "number": t.number,
            "step": step,
            "due": due,
            "step_code": "departed" if step == desk.policy.departed_step else "",
            "unit_label": t.unit_label,
        },
        ticket_id=t.id,
    )
    await desk.to_agents(
        uow,
        "agent_note_prompt",
        {"number": t.number, "what": step},
        purpose="prompt",
        ticket_id=t.id,
        ref={"ticket_id": t.id, "action": "note", "agent_id": agent.id},
    )


async def ask_complete(desk, uow, agent, args):
    t = await load_ticket(uow, args[0])
    check(t, "complete", agent)
    await desk.to_agents(
        uow,
        "agent_complete_prompt",
        {"number": t.number},
        rows=[[("agent_btn_complete_now", f"d:donenow:{t.id}")]],
        purpose="prompt",
        ticket_id=t.id,
        ref={"ticket_id": t.id, "action": "complete", "agent_id": agent.id},
    )


async def complete(desk: Desk, uow: UnitOfWork, agent: Agent, t: Ticket, note: str) -> None:
    to = check(t, "complete", agent)
    now = desk.clock.now()
    await uow.desk.move(t, to, now, "agent", agent.id, "complete", note)
    t.completed_at = now
    await schedule_after_completion(desk, uow, t)
    await cards.refresh_card(desk, uow, t)
    await desk.to_owner(
        uow,
        t.reporter_account_id,
        "owner_completed",
        {"number": t.number, "note": note, "agent": t.handler_name or agent.name},
        rows=[
            [("owner_btn_solved", f"o:solved:{t.id}"), ("owner_btn_unsolved", f"o:unsolved:{t.id}")]
        ],
        ticket_id=t.id,
    )


async def schedule_after_completion(desk: Desk, uow: UnitOfWork, t: Ticket) -> None:
    """回访 by kind of work, created in the completion's own transaction (DOMAIN.md)."""
    from storage.followups_repo import SLA_KINDS

    now = desk.clock.now()
    await uow.followups.cancel(t.id, SLA_KINDS + ("survey",))
    t.sla_paused_since = None
    last = await uow.followups.last_routine_survey(t.reporter_account_id)
    tz = desk.texts.tz
    for due in desk.policy.followups.after_completion(
        kind=t.kind,
        category=t.category,
        department=t.department,
        urgent=t.urgent,
        local_done=now.astimezone(tz),
        last_routine=last.astimezone(tz) if last else None,
    ):
        await uow.followups.add(
            due.kind,
            due.at,
            now,
            ticket_id=t.id,
            account_id=t.reporter_account_id,
            urgent=due.urgent,
            data=due.data,
        )


async def complete_now(desk, uow, agent, args):
    await complete(desk, uow, agent, await load_ticket(uow, args[0]), "")


def delay_rows(desk: Desk, t: Ticket) -> list[list[tuple[str, str]]]:
    """延期 choices: the handler sets the new time (also offered when a ticket is overdue)."""
    return [
        [
            (desk.texts.button("agent_btn_delay", m=str(m // 60)), f"d:delay:{t.id}:{m}")
            for m in desk.policy.delay_choices
        ]
    ]


async def sla_pause(desk: Desk, uow: UnitOfWork, t: Ticket, pause: bool) -> None:
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


async def delay(desk, uow, agent, args):
    """延期: the handler sets a new time; the owner hears an apology and that time."""
    from storage.followups_repo import SLA_KINDS

    t = await load_ticket(uow, args[0])
    to = check(t, "progress", agent)
    if args[1] not in desk.policy.delay_choices:
        raise Refusal("stale")
    now = desk.clock.now()
    new_time = now + timedelta(minutes=args[1])
    t.promised_arrive_by = new_time
    t.escalated = t.escalated
    await uow.followups.cancel(t.id, SLA_KINDS)
    # the new arrival time is watched, then completion after it (contact was kept: it was taken)
    for due in desk.policy.followups.sla(
        kind=t.kind, urgent=True, local_created=now, contact_by=None, arrive_by=new_time
    ):
        await uow.followups.add(due.kind, due.at, now, ticket_id=t.id, urgent=True, data=due.data)
    await uow.desk.move(
        t, to, now, "agent", agent.id, "delay", desk.texts.env.filters["when"](new_time, now)
    )
    await cards.refresh_card(desk, uow, t)
    await desk.to_owner(
        uow,
        t.reporter_account_id,
        "owner_delayed",
        {"number": t.number, "new_time": new_time},
        ticket_id=t.id,
    )
