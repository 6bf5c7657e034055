"""What every desk action checks first: the tap's data, the ticket as it is now, and whether the
state machine lets this agent do this (dialogs/ticket_machine.py)."""

from __future__ import annotations

from typing import Any

from dialogs.ticket_machine import decide
from storage.models import Agent, Ticket
from storage.uow import UnitOfWork

from .context import Desk


class Refusal(Exception):
    def __init__(self, reason: str, **ctx: Any):
        super().__init__(reason)
        self.reason, self.ctx = reason, ctx


def parse(data: str) -> tuple[str, list[int]]:
    parts = data.split(":")
    if len(parts) < 3 or parts[0] != "d":
        raise Refusal("stale")
    try:
        return parts[1], [int(p) for p in parts[2:]]
    except ValueError:
        raise Refusal("stale") from None


async def load_ticket(uow: UnitOfWork, tid: int) -> Ticket:
    t = await uow.desk.ticket(tid)
    if t is None:
        raise Refusal("stale")
    return t


def check(t: Ticket, action: str, agent: Agent) -> str:
    v = decide(
        action, t.status, handler_id=t.handler_agent_id, actor_id=agent.id, actor_role=agent.role
    )
    if not v.ok:
        raise Refusal(v.reason, handler=t.handler_name)
    return v.to_status or t.status


def department(desk: Desk, i: int) -> str:
    try:
        return desk.policy.departments[i]
    except IndexError:
        raise Refusal("stale") from None


async def worker_in(uow: UnitOfWork, worker_id: int, dept: str):
    if worker_id == 0:
        return None
    w = await uow.desk.worker(worker_id)
    if w is None or w.department != dept:
        raise Refusal("no_worker")
    return w


def pairs(rows: list[list[tuple[str, str]]]) -> list[list[tuple[str, str]]]:
    flat = [b for row in rows for b in row]
    return [flat[i : i + 2] for i in range(0, len(flat), 2)]
