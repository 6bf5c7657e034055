"""The agents' `/notice` commands in their group: `/notice` starts a guided draft
(bot/desk/notice_wizard.py), `/notice list` shows the notices in force, `/notice end N` ends one
early and `/notice extend N 20:00` moves its end; the owners told of it hear either (bot/notices.py),
and the group is told how many. Only roster members reach here (bot/routers/notice.py)."""

from __future__ import annotations

from datetime import datetime, timedelta

from dialogs.notices import context, parse_moment
from storage.notice_repo import ACTIVE, NoticesRepo
from storage.uow import UnitOfWork

from ..notices import Notices
from .context import Desk
from .notice_wizard import NoticeDesk, Refused

MAX_ID = 2**31 - 1  # a number no INTEGER column holds is no notice of ours


class NoticeCommands:
    def __init__(self, desk: Desk):
        self.desk = desk
        self.tz = desk.texts.tz
        self.notices = Notices(desk.outbound, desk.policy, self.tz)

    def now(self) -> datetime:
        return self.desk.clock.now()

    async def command(self, uow: UnitOfWork, agent, args: str) -> None:
        words = args.split(maxsplit=2)
        op = words[0].lower() if words else ""
        try:
            if not words:
                await NoticeDesk(self.desk).start(uow, agent)
            elif op == "list" and len(words) == 1:
                await self.list(uow)
            elif op in ("end", "extend") and len(words) >= 2:
                number = words[1].lstrip("#")
                if not number.isdigit() or int(number) > MAX_ID:
                    raise Refused("not_found", number=words[1])
                if op == "end" and len(words) == 2:
                    await self.end(uow, agent, int(number))
                elif op == "extend" and len(words) == 3:
                    await self.extend(uow, agent, int(number), words[2])
                else:
                    raise Refused("usage")
            else:
                raise Refused("usage")
        except Refused as r:
            await self.desk.to_agents(uow, "agent_notice_refused", r.ctx)

    async def list(self, uow: UnitOfWork) -> None:
        rows = await NoticesRepo(uow.session).list(active_only=True, now=self.now())
        notices = [{**context(r.view, self.tz), "told": r.told} for r in reversed(rows)]
        await self.desk.to_agents(uow, "agent_notice_list", {"notices": notices})

    async def end(self, uow: UnitOfWork, agent, number: int) -> None:
        repo = NoticesRepo(uow.session)
        if not await repo.end(number, self.now(), agent.name):
            raise Refused("not_found", number=number)
        reach = await self.notices.tell_change(uow, number, "ended")
        await self._changed(uow, agent, number, "ended", reach)

    async def extend(self, uow: UnitOfWork, agent, number: int, when: str) -> None:
        repo = NoticesRepo(uow.session)
        record = await repo.get(number)
        if record is None or record.state != ACTIVE:
            raise Refused("not_found", number=number)
        local = self.now().astimezone(self.tz)
        moment = parse_moment(when, local)
        new_end = moment.at if moment else None
        if moment is not None and not moment.day_given and new_end <= local:
            new_end += timedelta(days=1)  # "08:00" said at night is tomorrow morning
        if new_end is None or not await repo.extend(number, new_end, self.now(), agent.name):
            raise Refused("bad_time", value=when)
        reach = await self.notices.tell_change(uow, number, "extended", record.view.ends_at)
        await self._changed(uow, agent, number, "extended", reach)

    async def _changed(self, uow, agent, number: int, change: str, reach) -> None:
        record = await NoticesRepo(uow.session).get(number)
        ctx = {
            "notice": context(record.view, self.tz),
            "change": change,
            "agent": agent.name,
            "reach": reach.count,
            "held_until": reach.held_until,
        }
        await self.desk.to_agents(uow, "agent_notice_changed", ctx)
