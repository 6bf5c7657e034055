"""`python -m bot report --from 2026-11-01 --to 2026-11-30 [--community …] [--department …]
[--agent ID] [--out DIR]`: the manager's report for a period, both dates included, in the
service time zone."""

from __future__ import annotations

import argparse
import asyncio
import sys
from datetime import date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from dialogs.clock import SystemClock
from dialogs.policy import Policy

from .queries import Scope
from .words import Words, page_environment


def add_parsers(sub) -> None:
    p = sub.add_parser("report", help="service figures, charts and CSV for a period")
    p.add_argument("--from", dest="date_from", type=date.fromisoformat, required=True)
    p.add_argument("--to", dest="date_to", type=date.fromisoformat, required=True)
    p.add_argument("--community", default="")
    p.add_argument("--department", default="")
    p.add_argument("--agent", type=int, default=None, help="an agent's id (agents list)")
    p.add_argument("--out", default="", help="folder (default: data/reports/FROM_TO)")


def scope_of(args: argparse.Namespace, tz: ZoneInfo) -> Scope:
    start = datetime.combine(args.date_from, time(0), tz)
    end = datetime.combine(args.date_to + timedelta(days=1), time(0), tz)
    return Scope(start, end, args.community, args.department, args.agent)


def _say(name: str, out=None, **context) -> None:
    text = page_environment().get_template(f"{name}.j2").render(context).strip()
    print(text, file=out or sys.stderr)


def report_command(settings, args: argparse.Namespace) -> int:
    from storage.db import make_engine

    from .charts import NoCjkFont, cjk_font
    from .output import write_report

    if args.date_from > args.date_to:
        _say("manager_report_bad_period", start=args.date_from, end=args.date_to)
        return 2
    try:
        cjk_font()  # before an hour of work, not after it
    except NoCjkFont:
        _say("manager_report_no_font")
        return 2
    tz = ZoneInfo(settings.service_tz)
    policy = Policy.load(settings.policy_file or None)
    out = Path(args.out or f"data/reports/{args.date_from}_{args.date_to}")

    async def run():
        from ..cli import migrate_database

        # a database a release behind is brought up to date first, as every command does
        await migrate_database(settings.database_url)
        engine = make_engine(settings.database_url)
        try:
            return await write_report(
                engine,
                scope_of(args, tz),
                Words(policy),
                tz,
                SystemClock().now(),
                out,
            )
        finally:
            await engine.dispose()

    report = asyncio.run(run())
    path = out / "index.html"
    f = report.tickets
    _say("manager_report_done", sys.stdout, path=path, created=f.created, closed=f.closed)
    return 0
