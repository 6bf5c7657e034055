"""Call-back tasks (差评回访, 电话回访): who may record the result, and what recording it does.
The call and its result close the task; a bad review gets a second look later (问题 → 改进 →
反馈, DOMAIN.md)."""

from __future__ import annotations

from datetime import timedelta

from .casework import Rules
from .effects import (
    Effect,
    FollowUpScheduled,
    Noted,
    Prompt,
    Refusal,
    TaskDone,
    ToAgents,
)
from .model import Actor, CallbackTask, Case


def _may_act(task: CallbackTask | None, actor: Actor, case: Case) -> CallbackTask:
    if task is None or task.state != "open":
        raise Refusal("stale")
    if task.agent_id not in (None, actor.id) and not actor.supervisor:
        raise Refusal("not_yours", handler=case.handler_name)
    return task


def open_callback(task: CallbackTask | None, actor: Actor, case: Case) -> list[Effect]:
    task = _may_act(task, actor, case)
    return [
        ToAgents(
            "agent_task_prompt",
            {"number": case.number, "kind": task.kind},
            prompt=Prompt("task_result", task_id=task.id),
        )
    ]


def record_callback(
    task: CallbackTask | None, text: str, actor: Actor, case: Case, r: Rules
) -> list[Effect]:
    if task is None or task.state != "open":
        raise Refusal("stale")
    out: list[Effect] = [
        TaskDone(task.id, text, actor.id),
        Noted(f"task_{task.kind}", actor, note=text),
    ]
    if task.kind == "bad_review_callback":
        days = r.policy.followups.improvement_days
        out.append(
            FollowUpScheduled(
                "survey",
                r.now + timedelta(days=days),
                data={"kind": "improvement"},
                to_reporter=True,
            )
        )
    out.append(ToAgents("agent_done", {"number": case.number, "what": text, "agent": actor.name}))
    return out
