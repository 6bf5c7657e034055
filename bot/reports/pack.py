"""The report for the agents' group: a supervisor's /report (this week so far) and the weekly
pack every Monday 09:00 (a follow-up row, `report_pack`). Each run writes its own folder, then
queues the headline figures as text, the charts as photos and tickets.csv as a document; the
files stay on disk until the sender has posted them (outbox methods sendPhotoFile and
sendDocumentFile, bot/outbox_sender.py).

The report reads through its own connection: on SQLite every transaction takes the write lock
(storage/write_lock.py), so it runs before the unit of work that queues it, never inside one."""

from __future__ import annotations

import html
import shutil
import uuid
from dataclasses import dataclass
from datetime import datetime, time, timedelta, tzinfo
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.models import FollowUp
from storage.uow import UnitOfWork
from storage.write_lock import job_turn

from ..outbound import TELEGRAM, Message, Recipient
from .build import Report
from .output import write_report
from .queries import Scope
from .words import Words

KIND = "report_pack"
PACK_WEEKDAY, PACK_AT = 0, time(9, 0)  # Monday 09:00, service time
# the charts in the order they are posted (bot/reports/charts.py names them)
CHARTS = ("volume", "backlog", "timeliness", "satisfaction")
PURPOSE = "report"
PRIORITY = 3
# report folders older than this are removed when a new run starts: long since posted
KEEP_FOLDERS = timedelta(days=14)


@dataclass(frozen=True, slots=True)
class Pack:
    folder: Path
    report: Report
    start: datetime
    end: datetime
    weekly: bool


def week_start(now: datetime, tz: tzinfo) -> datetime:
    """Monday 00:00 of `now`'s week, in the service time zone."""
    local = now.astimezone(tz)
    return datetime.combine(local.date() - timedelta(days=local.weekday()), time(0), tz)


def next_pack_due(now: datetime, tz: tzinfo) -> datetime:
    """The first Monday 09:00 (service time) after `now`."""
    due = datetime.combine(week_start(now, tz).date(), PACK_AT, tz)
    while due <= now:
        due += timedelta(days=7)
    return due


def reports_root(engine: AsyncEngine) -> Path:
    """Beside the SQLite file (data/reports by default); data/reports for PostgreSQL."""
    database = engine.url.database if engine.dialect.name == "sqlite" else None
    if database and database != ":memory:":
        return Path(database).resolve().parent / "reports"
    return Path("data/reports")


def _new_folder(root: Path, kind: str, now: datetime) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    cutoff = now.timestamp() - KEEP_FOLDERS.total_seconds()
    for old in root.glob("pack-*"):
        if old.is_dir() and old.stat().st_mtime < cutoff:
            shutil.rmtree(old, ignore_errors=True)
    # a folder per run: two instances, or two supervisors in one second, never share one
    return root / f"pack-{kind}-{now:%Y%m%d-%H%M%S}-{uuid.uuid4().hex[:8]}"


async def make_pack(
    engine: AsyncEngine, desk, start: datetime, end: datetime, now: datetime, *, weekly: bool
) -> Pack:
    """Runs the report for [start, end) into a new folder (outside any unit of work)."""
    tz = desk.texts.tz
    folder = _new_folder(reports_root(engine), "week" if weekly else "now", now)
    report = await write_report(
        engine,
        Scope(start, end),
        Words(desk.policy, desk.texts),
        tz,
        now,
        folder,
    )
    return Pack(folder, report, start, end, weekly)


def _pct(hit: int, n: int) -> int | None:
    return round(hit * 100 / n) if n else None


def headline(pack: Pack, tz: tzinfo) -> dict:
    """The figures the group reads first; the rest is in the charts and the CSV."""
    r = pack.report
    f, sat = r.tickets, r.satisfaction
    promises = {}
    for stage in ("contact", "arrive", "complete"):
        met = sum(t.met for (s, _), t in f.timeliness.items() if s == stage)
        n = sum(t.met + t.late for (s, _), t in f.timeliness.items() if s == stage)
        promises[stage] = {"met": met, "n": n, "pct": _pct(met, n)}
    overall = sat.dims["overall"].mean if "overall" in sat.dims else None
    return {
        "weekly": pack.weekly,
        "start": pack.start.astimezone(tz),
        "end": min(pack.end, r.as_of).astimezone(tz),
        "created": f.created,
        "closed": f.closed,
        "backlog": sum(f.backlog.values()),
        "overdue": r.lists.count("overdue"),
        "promises": promises,
        "completed": f.completed,
        "first_fix_pct": _pct(f.first_fix, f.completed),
        "reopen_pct": _pct(f.reopened_7d, f.completed),
        "urges": f.urges,
        "escalations": f.escalations,
        "surveys_sent": sat.sent,
        "surveys_answered": sat.answered,
        "overall": None if overall is None else round(overall, 1),
        "bad_reviews": sat.bad,
        "callbacks": sat.callbacks,
        "callbacks_in_time": sat.callbacks_in_time,
        "bot_answered": r.bot.by_bot,
        "consultations": r.bot.consultations,
        "bot_pct": _pct(r.bot.by_bot, r.bot.consultations),
        # who needs help: words held by 服务禁言, 差评回访 not made in time
        "attention": [
            {"name": a.name, "held": a.held_replies, "late": a.callbacks - a.callbacks_in_time}
            for a in r.agents
            if a.held_replies or a.callbacks > a.callbacks_in_time
        ][:5],
    }


async def queue_pack(desk, uow: UnitOfWork, pack: Pack, recipients: list[Recipient]) -> list[int]:
    """The text, the charts and tickets.csv, for each recipient, in this order."""
    now = desk.clock.now()
    words = Words(desk.policy, desk.texts)
    ctx = {"figures": headline(pack, desk.texts.tz)}
    ids: list[int] = []
    for to in recipients:
        if to.channel != TELEGRAM:
            continue  # files go out through Telegram's sender only
        ids += await desk.outbound.write(
            uow, to, Message("agent_report_headline", ctx), priority=PRIORITY, purpose=PURPOSE
        )
        files = [
            ("sendPhotoFile", pack.folder / f"{name}.png", html.escape(words("chart", name)))
            for name in CHARTS
            if (pack.folder / f"{name}.png").is_file()
        ]
        csv_caption = desk.texts.render("agent_report_csv", ctx)
        files.append(("sendDocumentFile", pack.folder / "tickets.csv", csv_caption))
        for method, path, caption in files:
            payload = {"path": str(path), "caption": caption}
            ids.append(
                await uow.outbox.add(
                    to.address,
                    payload,
                    now,
                    channel=to.channel,
                    method=method,
                    priority=PRIORITY,
                    purpose=PURPOSE,
                )
            )
    return ids


async def ensure_weekly(
    uow: UnitOfWork, tz: tzinfo, now: datetime, *, turn: bool = True
) -> FollowUp | None:
    """The next Monday's pack row, unless one is already waiting (once across instances:
    PostgreSQL takes an advisory turn, SQLite's BEGIN IMMEDIATE writes one at a time). The
    pack that just ran (`turn=False`) holds its row's claim, so it needs no turn."""
    if turn and not await job_turn(uow.session, "report-pack"):
        return None
    waiting = await uow.session.scalar(
        sa.select(FollowUp.id)
        .where(FollowUp.kind == KIND, FollowUp.state.in_(("pending", "claimed")))
        .limit(1)
    )
    if waiting is not None:
        return None
    return await uow.followups.add(KIND, next_pack_due(now, tz), now)


async def already_sent(uow: UnitOfWork, f: FollowUp) -> bool:
    """A second row for the same Monday (two instances ensuring at once) sends nothing."""
    other = await uow.session.scalar(
        sa.select(FollowUp.id)
        .where(
            FollowUp.kind == KIND,
            FollowUp.state == "done",
            FollowUp.due_at == f.due_at,
            FollowUp.id != f.id,
        )
        .limit(1)
    )
    return other is not None


def weekly_period(f: FollowUp, tz: tzinfo) -> tuple[datetime, datetime]:
    """The week before the row's Monday: the pack is about the week just ended."""
    end = week_start(f.due_at, tz)
    return end - timedelta(days=7), end


async def recipients(desk, uow: UnitOfWork) -> list[Recipient]:
    """The agents' group, and each supervisor's private chat (as escalations go)."""
    out = [desk.outbound.agents] if desk.outbound.agents is not None else []
    for sup in await uow.staff.supervisors():
        out.append(desk.outbound.private_chat(sup.telegram_user_id))
    return out
