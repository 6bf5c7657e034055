"""Events raised on an owner's conversation from outside their chat: an agent's takeover or
release, a survey's question from the scheduler, a tap on a survey's standing button. One engine
step inside the caller's unit of work (the engine alone changes the state), its replies queued
in the outbox, its effects carried out; the caller commits."""

from __future__ import annotations

import copy

from dialogs.events import Inbound, StepResult, SurveyAnswered
from storage.uow import UnitOfWork

from .desk.context import PRIORITY_OWNER, Desk
from .outbound import Replies


async def raise_event(
    desk: Desk,
    uow: UnitOfWork,
    account_id: int,
    ev: Inbound,
    *,
    ticket_id: int | None = None,
) -> StepResult | None:
    """None when the account has no conversation (nobody to speak to). `ticket_id` marks the
    queued messages as about that ticket (an undeliverable survey becomes a phone 回访)."""
    now = desk.clock.now()
    conv = await uow.accounts.conversation(account_id, for_update=True)
    if conv is None:
        return None
    before = copy.deepcopy(conv.state or {})
    state = copy.deepcopy(before)
    result = await desk.engine.step(state, ev, account_id, uow.ports)
    if result.alert:
        return result  # refused (a stale button): nothing changed, nothing to say
    if state != before:
        # written only when changed: most survey answers leave the owner where they are, and
        # must not overwrite a step the owner's own chat may be taking meanwhile
        uow.accounts.save_state(conv, state, now)
    await desk.outbound.write(
        uow,
        await desk.outbound.owner(uow, account_id),
        Replies(result.replies),
        priority=PRIORITY_OWNER,
        ticket_id=ticket_id,
    )
    await carry_out(desk, uow, result)
    return result


async def carry_out(desk: Desk, uow: UnitOfWork, result: StepResult) -> None:
    """The desk's side of what such a step caused."""
    # imported here: the survey module raises its events through this one
    from .followups import survey

    for e in result.effects:
        if isinstance(e, SurveyAnswered):
            await survey.on_answered(desk, uow, e)
