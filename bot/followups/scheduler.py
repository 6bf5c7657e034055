"""Claims due follow-ups and carries them out, each in its own transaction with the messages it
causes (outbox). A restart neither drops nor repeats a row; rows overdue at start-up are due at
once, still subject to quiet hours. On SQLite only one scheduler may run per database file."""

from __future__ import annotations

import fcntl
import logging
import os

from desk import due, surveys
from storage.models import FollowUp
from storage.uow import UnitOfWork

from ..desk.apply import apply
from ..desk.casefile import case_of, staff_of
from ..desk.context import Desk, owner_accounts
from ..desk.service import rules
from ..reports import pack as packs

log = logging.getLogger(__name__)


class SchedulerLocked(RuntimeError):
    pass


class SqliteSchedulerLock:
    """A second scheduler on the same SQLite file refuses to start (an OS lock beside the file,
    released by the kernel if the process dies)."""

    def __init__(self, database_url: str):
        path = database_url.split(":///", 1)[-1]
        self.path = f"{path}.scheduler.lock"
        self.fh = None

    def acquire(self) -> None:
        os.makedirs(os.path.dirname(os.path.abspath(self.path)), exist_ok=True)
        self.fh = open(self.path, "w")  # noqa: SIM115  (held open: the lock lives with it)
        try:
            fcntl.flock(self.fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self.fh.close()
            self.fh = None
            raise SchedulerLocked(
                f"another scheduler is already running on this SQLite database ({self.path}); "
                "run one instance per SQLite file, or use PostgreSQL for several"
            ) from None
        self.fh.write(str(os.getpid()))
        self.fh.flush()

    def release(self) -> None:
        if self.fh is not None:
            fcntl.flock(self.fh, fcntl.LOCK_UN)
            self.fh.close()
            self.fh = None


class Scheduler:
    def __init__(self, sessionmaker, desk: Desk, *, wake_sender=None, poll_seconds: float = 15.0):
        self.sessionmaker = sessionmaker
        self.desk = desk
        self.clock = desk.clock
        self.wake_sender = wake_sender
        self.poll_seconds = poll_seconds  # how often tick runs (bot/jobs.py)
        self._pack_ensured = False
        self._packs: dict[int, packs.Pack] = {}  # report_pack rows' reports, made before their tx

    async def tick(self) -> int:
        """Carry out every due follow-up; returns how many were handled."""
        handled = 0
        if not self._pack_ensured:
            # the Monday pack has a row waiting from the first tick on
            async with UnitOfWork(self.sessionmaker) as uow:
                await packs.ensure_weekly(uow, self.desk.texts.tz, self.clock.now())
                await uow.commit()
            self._pack_ensured = True
        while True:
            async with UnitOfWork(self.sessionmaker) as uow:
                rows = await uow.followups.claim(self.clock.now())
                await uow.commit()
            if not rows:
                break
            for f in rows:
                try:
                    if f.kind == packs.KIND:
                        await self._make_pack(f)
                    async with UnitOfWork(self.sessionmaker) as uow:
                        fresh = await uow.followups.get(f.id)
                        if fresh is not None and fresh.state == "claimed":
                            await self._one(uow, fresh)
                        await uow.commit()
                    handled += 1
                except Exception:
                    # the lease runs out and the row is tried again; one bad row stops nothing
                    log.exception("follow-up %s failed", f.id)
                finally:
                    self._packs.pop(f.id, None)
        if handled and self.wake_sender:
            self.wake_sender()
        return handled

    async def _one(self, uow: UnitOfWork, f: FollowUp) -> None:
        desk, now = self.desk, self.clock.now()
        fp = desk.policy.followups
        local = now.astimezone(desk.texts.tz)
        later = fp.defer_quiet(local, urgent=f.urgent)
        if later > local:
            # quiet hours (21:00–08:00): nothing but urgent matters; the rest waits for morning
            uow.followups.reschedule(f, later)
            return
        if f.kind == packs.KIND:
            await self._report_pack(uow, f)
            return
        t = await uow.cases.ticket(f.ticket_id) if f.ticket_id else None
        handler = HANDLERS.get(f.kind)
        if handler is not None and t is not None:
            try:
                await handler(self, uow, f, t)
            except _Rescheduled:
                return  # the SLA clock is paused: looked at again later
        uow.followups.done(f, now)

    # --- kinds ----------------------------------------------------------------------------------
    async def _survey(self, uow, f, t) -> None:
        # the ticket's 回访 reaches every owner who reported it (one fault, one ticket)
        reporter = t.reporter_account_id
        whom = await owner_accounts(uow, t) if f.account_id in (None, reporter) else [f.account_id]
        kind = (f.data or {}).get("kind", "survey")
        case = await case_of(uow, t)
        for account_id in whom:
            account = await uow.accounts.account(account_id)
            if account is None:
                continue
            # the owner's channel must be able to carry the survey; otherwise a phone 回访, for
            # the reporter (whose phone the ticket has): one call speaks for the ticket
            reachable = not account.unreachable and self.desk.outbound.reaches(account.channel)
            if not reachable and account_id != reporter:
                continue
            effects = surveys.due(case, kind, account.id, reachable, rules(self.desk))
            await apply(self.desk, uow, t, effects)

    async def _reminder(self, uow, f, t) -> None:
        sv = await uow.followups.survey((f.data or {}).get("survey_id", 0))
        still_open = sv is not None and sv.state == "open"
        effects = surveys.remind(sv.id if sv else 0, still_open, rules(self.desk))
        await apply(self.desk, uow, t, effects)

    async def _expire(self, uow, f, t) -> None:
        sv = await uow.followups.survey((f.data or {}).get("survey_id", 0))
        still_open = sv is not None and sv.state == "open"
        await apply(self.desk, uow, t, surveys.expire(sv.id if sv else 0, still_open))

    async def _due(self, uow, f, t, decide) -> None:
        """An SLA or task row decided by the core (desk/due.py), carried out by the writer."""
        case = await case_of(uow, t)
        try:
            effects = decide(case, f.data or {}, await staff_of(uow), rules(self.desk))
        except due.Paused:
            # the SLA clock is paused (等待配件): looked at again later
            uow.followups.reschedule(f, self.clock.now() + due.Paused.retry_after)
            raise _Rescheduled from None
        await apply(self.desk, uow, t, effects)

    async def _sla_warn(self, uow, f, t) -> None:
        await self._due(uow, f, t, due.sla_warn)

    async def _sla_overdue(self, uow, f, t) -> None:
        await self._due(uow, f, t, due.sla_overdue)

    async def _task_deadline(self, uow, f, t) -> None:
        task = await uow.followups.task((f.data or {}).get("task_id", 0))
        if task is None or task.state != "open":
            return
        effects = due.task_overdue(await case_of(uow, t), task.id, await staff_of(uow))
        await apply(self.desk, uow, t, effects)

    # --- the Monday pack (bot/reports/pack.py) -------------------------------------------------
    async def _make_pack(self, f: FollowUp) -> None:
        """The report runs before the row's transaction: on SQLite its reads would wait for the
        write lock that transaction holds."""
        start, end = packs.weekly_period(f, self.desk.texts.tz)
        engine = self.sessionmaker.kw["bind"]
        now = self.clock.now()
        self._packs[f.id] = await packs.make_pack(engine, self.desk, start, end, now, weekly=True)

    async def _report_pack(self, uow: UnitOfWork, f: FollowUp) -> None:
        made = self._packs.get(f.id)
        if made is not None and not await packs.already_sent(uow, f):
            await packs.queue_pack(self.desk, uow, made, await packs.recipients(self.desk, uow))
        uow.followups.done(f, self.clock.now())
        await packs.ensure_weekly(uow, self.desk.texts.tz, self.clock.now(), turn=False)


class _Rescheduled(Exception):
    pass


HANDLERS = {
    "survey": Scheduler._survey,
    "survey_reminder": Scheduler._reminder,
    "survey_expire": Scheduler._expire,
    "sla_warn": Scheduler._sla_warn,
    "sla_overdue": Scheduler._sla_overdue,
    "task_deadline": Scheduler._task_deadline,
}
