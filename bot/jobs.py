"""The background jobs of a running bot, all under one supervisor (bot/runner.py): each
channel's outbox sender, the follow-up scheduler, the handoff nudges and the pruning of seen
update ids."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import timedelta
from functools import partial
from typing import TYPE_CHECKING

from storage.uow import UnitOfWork
from storage.write_lock import job_turn

from .followups.scheduler import Scheduler
from .runner import Runner

if TYPE_CHECKING:
    from .factory import App
    from .outbound import Sender

HANDOFF_NUDGE_EVERY = 20.0  # seconds; the policy's waiting minutes are checked this often
PRUNE_EVERY = 600.0
# update ids are kept to drop Telegram's re-deliveries, which stop within a day
UPDATE_IDS_KEPT = timedelta(days=2)


def background_jobs(app: App, senders: Mapping[str, Sender]) -> Runner:
    runner = Runner()
    outboxes = [
        runner.add(f"outbox-{channel}", sender.deliver_left_over, every=sender.poll_seconds)
        for channel, sender in senders.items()
    ]

    def wake_senders() -> None:
        # work done by the other jobs leaves rows in the outbox, for any channel: the senders
        # run at once, not at their next turn
        for job in outboxes:
            job.wake()

    scheduler = Scheduler(app.sessionmaker, app.desk, wake_sender=wake_senders)
    runner.add("follow-ups", scheduler.tick, every=scheduler.poll_seconds)
    runner.add(
        "handoff-nudges", partial(nudge_waiting_owners, app, wake_senders), HANDOFF_NUDGE_EVERY
    )
    runner.add("prune-updates", partial(prune_seen_updates, app), every=PRUNE_EVERY)
    return runner


async def nudge_waiting_owners(app: App, wake_sender: Callable[[], None]) -> None:
    """Owners left waiting for a person get their polite update (bot/desk/relay.py)."""
    from .desk.relay import nudge_waiting

    async with UnitOfWork(app.sessionmaker) as uow:
        if not await job_turn(uow.session, "handoff-nudges"):
            return  # another instance is nudging right now
        nudged = await nudge_waiting(app.desk, uow)
        await uow.commit()
    if nudged:
        wake_sender()


async def prune_seen_updates(app: App) -> None:
    async with UnitOfWork(app.sessionmaker) as uow:
        if not await job_turn(uow.session, "prune-updates"):
            return
        await uow.accounts.prune_updates(app.clock.now() - UPDATE_IDS_KEPT)
        await uow.commit()
