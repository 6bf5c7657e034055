"""What a casework decision looks at: who acts, the ticket as it is now, and the staff it may
name. Plain values, built by the edge from whatever stores them; the core never loads anything."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

ActorKind = Literal["agent", "worker", "owner", "system"]


@dataclass(frozen=True, slots=True)
class Actor:
    kind: ActorKind
    id: int | None = None
    name: str = ""
    # agents: agent / supervisor (DOMAIN.md 首问责任制: a supervisor may act on any ticket)
    role: str = "agent"

    @property
    def supervisor(self) -> bool:
        return self.kind == "agent" and self.role == "supervisor"


SYSTEM = Actor("system")


@dataclass(frozen=True, slots=True)
class Worker:
    id: int
    name: str
    department: str
    phone: str = ""


@dataclass(frozen=True, slots=True)
class Staff:
    """The roster a decision may pick from (dispatch to a worker, reassign to an agent)."""

    agents: tuple[Actor, ...] = ()
    workers: tuple[Worker, ...] = ()
    supervisors: tuple[Actor, ...] = ()

    def agent(self, agent_id: int) -> Actor | None:
        return next((a for a in self.agents if a.id == agent_id), None)

    def worker(self, worker_id: int) -> Worker | None:
        return next((w for w in self.workers if w.id == worker_id), None)

    def workers_in(self, department: str) -> list[Worker]:
        return [w for w in self.workers if w.department == department]

    @property
    def supervisor_names(self) -> list[str]:
        return [s.name for s in self.supervisors]


@dataclass(frozen=True, slots=True)
class Case:
    """One ticket as the desk sees it at the moment of the decision."""

    id: int
    number: str
    kind: str
    category: str | None
    department: str
    status: str
    urgent: bool
    reporter_account_id: int
    handler_id: int | None = None
    handler_name: str = ""
    owner_id: int | None = None
    unit_label: str = ""
    contact_phone: str = ""
    created_at: datetime | None = None
    promised_contact_by: datetime | None = None
    promised_arrive_by: datetime | None = None
    sla_paused_since: datetime | None = None
    escalated: bool = False
    owner_confirmed: bool = False
    # the latest work order's due time: what the owner was last promised for the visit
    work_due: datetime | None = None
    # progress steps recorded so far (an arrival step keeps the arrival promise)
    progress_steps: tuple[str, ...] = field(default_factory=tuple)
    # when the reporter last had a routine-service survey (at most one a quarter, DOMAIN.md)
    last_routine_survey: datetime | None = None


@dataclass(frozen=True, slots=True)
class CallbackTask:
    """A call-back the handler owes the owner (差评回访, 电话回访)."""

    id: int
    kind: str
    state: str  # open / done
    agent_id: int | None
