"""What a casework decision looks at, read from storage in the step's transaction: the ticket
(locked on PostgreSQL), the roster, and who is acting. The core gets plain values, never rows."""

from __future__ import annotations

from desk.model import Actor, CallbackTask, Case, Staff, Worker
from storage.models import Agent, Task, Ticket
from storage.uow import UnitOfWork


def agent_actor(agent: Agent) -> Actor:
    return Actor("agent", agent.id, agent.name, agent.role)


async def case_of(uow: UnitOfWork, t: Ticket) -> Case:
    orders = await uow.cases.work_orders(t.id)
    steps = tuple(e.note for e in await uow.cases.events(t.id) if e.action == "progress")
    last_routine = await uow.followups.last_routine_survey(t.reporter_account_id)
    return Case(
        id=t.id,
        number=t.number,
        kind=t.kind,
        category=t.category,
        department=t.department,
        status=t.status,
        urgent=t.urgent,
        reporter_account_id=t.reporter_account_id,
        handler_id=t.handler_agent_id,
        handler_name=t.handler_name,
        owner_id=t.owner_id,
        unit_label=t.unit_label,
        contact_phone=t.contact_phone,
        created_at=t.created_at,
        promised_contact_by=t.promised_contact_by,
        promised_arrive_by=t.promised_arrive_by,
        sla_paused_since=t.sla_paused_since,
        escalated=t.escalated,
        owner_confirmed=t.owner_confirmed,
        work_due=orders[-1][0].due_at if orders else None,
        progress_steps=steps,
        last_routine_survey=last_routine,
    )


async def staff_of(uow: UnitOfWork) -> Staff:
    return Staff(
        agents=tuple(agent_actor(a) for a in await uow.staff.agents()),
        workers=tuple(
            Worker(w.id, w.name, w.department, w.phone or "") for w in await uow.staff.workers()
        ),
        supervisors=tuple(agent_actor(a) for a in await uow.staff.supervisors()),
    )


def task_of(task: Task | None) -> CallbackTask | None:
    if task is None:
        return None
    return CallbackTask(task.id, task.kind, task.state, task.agent_id)
