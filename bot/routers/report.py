"""/report in the agents' group: a supervisor gets this week's figures so far (Monday 00:00,
service time, up to now) as text, the charts as photos and tickets.csv as a document. An agent
gets the desk's polite refusal. Included before the agents' router, which takes every command.

No unit-of-work middleware here: the report reads through its own connection, and on SQLite
every transaction holds the write lock (storage/write_lock.py), so the check, the report and
the queueing are three steps, and no transaction is open while the report runs."""

from __future__ import annotations

import logging

from aiogram import F, Router
from aiogram.filters import Command
from aiogram.types import Message, Update

from storage.uow import UnitOfWork

from ..reports import pack as packs

log = logging.getLogger(__name__)


async def on_report(message: Message, event_update: Update, app, desk, sender) -> None:
    user = message.from_user
    if user is None or user.is_bot:
        return
    now = desk.clock.now()
    async with UnitOfWork(app.sessionmaker) as uow:
        if not await uow.accounts.first_time(event_update.update_id, now):
            return  # Telegram delivered it again: the report was made once already
        agent = await uow.staff.agent_by_telegram(user.id)
        if agent is None:
            await desk.to_agents(uow, "agent_not_roster", {})
        elif agent.role != "supervisor":
            await desk.to_agents(uow, "agent_refused", {"reason": "supervisor_only", "handler": ""})
        await uow.commit()
    if agent is not None and agent.role == "supervisor":
        try:
            made = await packs.make_pack(
                app.db, desk, packs.week_start(now, desk.texts.tz), now, now, weekly=False
            )
        except Exception:
            log.exception("/report: the report could not be made")
            made = None
        async with UnitOfWork(app.sessionmaker) as uow:
            if made is None:
                await desk.to_agents(uow, "agent_report_failed", {})
            elif desk.outbound.agents is not None:
                await packs.queue_pack(desk, uow, made, [desk.outbound.agents])
            await uow.commit()
    await sender.deliver()


def make_router(agent_chat_id: int | str) -> Router:
    router = Router(name=__name__)
    router.message.filter(F.chat.id == int(agent_chat_id))
    router.message.register(on_report, Command("report"))
    return router
