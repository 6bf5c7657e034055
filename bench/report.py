"""The managers' report and 我的工单 at scale, on SQLite (a temp file) and PostgreSQL.

    python bench/report.py [--tickets 100000] [--mine-tickets 1000000] [--owners 2000] [--pg]

Phase 1: a month (November 2026) of --tickets tickets with their events, surveys, reopenings,
call-backs, dialogs left mid-way, loaded in bulk (bench/report_data.py); then `write_report`
to a temp folder in a child process of its own, so its seconds and RSS are the report's alone.
Phase 2: the table topped up to --mine-tickets tickets, then 我的工单 (TicketRepo.visible, page
one, as dialogs/flows/mine.py asks it) for --owners random owners: p50/p95/p99, and the plans.
Goals (issue 13): report < 10 s on SQLite, < 5 s on PostgreSQL, memory flat; 我的工单 < 5 ms p95."""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import report_data as data  # beside this script, found after the project root
from scratch_pg import pg_database

PG_NAME = "bench_report"


def _rss_mb() -> float:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * resource.getpagesize() / 2**20


def _csv_rows(path: Path) -> int:
    with open(path, encoding="utf-8-sig") as fh:
        return sum(1 for _ in fh) - 1


async def report_child(url: str, out: str) -> dict:
    """Runs in its own process: the report alone, its wall time and memory."""
    from bot.reports.cli import scope_of
    from bot.reports.output import write_report
    from bot.reports.words import Words
    from dialogs.policy import Policy
    from storage.db import make_engine

    policy = Policy.load()
    args = argparse.Namespace(
        date_from=data.MONTH_START.date(),
        date_to=data.LAST_DAY,
        community="",
        department="",
        agent=None,
    )
    engine = make_engine(url)
    scope = scope_of(args, data.TZ)
    # fixed costs first, so the growth measured is the data's: matplotlib and the CJK font
    # (a 20 MB collection) are loaded once whatever the number of tickets
    import io

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from bot.reports.charts import cjk_font

    fig = plt.figure()
    fig.text(0.5, 0.5, "工单", family=cjk_font())
    fig.savefig(io.BytesIO(), format="png")
    plt.close(fig)
    before = _rss_mb()
    t0, cpu0 = time.perf_counter(), time.process_time()
    report = await write_report(engine, scope, Words(policy), data.TZ, data.NOW, Path(out))
    wall, cpu = time.perf_counter() - t0, time.process_time() - cpu0
    after = _rss_mb()
    await engine.dispose()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    rows = _csv_rows(Path(out) / "tickets.csv")
    return {
        "wall": wall,
        "cpu": cpu,
        "before": before,
        "after": after,
        "peak": peak,
        "created": report.tickets.created,
        "csv_rows": rows,
    }


async def backfill_stages(url: str) -> int:
    """The month was loaded as history only, as a database from before stages were kept: the
    upgrade's backfill derives their stage rows, as migration 0012 does."""
    from dialogs.policy import Policy
    from storage.db import make_engine
    from storage.stage_backfill import backfill
    from storage.stage_book import StepRules

    engine = make_engine(url)
    try:
        async with engine.begin() as conn:
            return await conn.run_sync(lambda c: backfill(c, StepRules.of(Policy.load())))
    finally:
        await engine.dispose()


async def vacuum(url: str) -> None:
    """Vacuumed and analysed, as autovacuum keeps a live PostgreSQL: tables bulk-loaded a second
    ago have no planner statistics and no hint bits yet (the first read of each row would write
    them), so a report over them measures the load, not a running database."""
    if not url.startswith("postgresql"):
        return
    import sqlalchemy as sa

    from storage.db import make_engine

    engine = make_engine(url)
    try:
        async with engine.connect() as conn:
            await conn.execution_options(isolation_level="AUTOCOMMIT")
            await conn.execute(sa.text("VACUUM (ANALYZE)"))
    finally:
        await engine.dispose()


def _report(url: str) -> dict:
    with tempfile.TemporaryDirectory() as out:
        done = subprocess.run(
            [sys.executable, __file__, "--child-report", url, "--out", out],
            capture_output=True,
            text=True,
            check=False,  # its stderr is shown instead of a bare CalledProcessError
        )
    if done.returncode != 0:
        raise SystemExit(done.stderr)
    return json.loads(done.stdout.strip().splitlines()[-1])


def pct(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(len(values) * p))] * 1000


async def mine(url: str, owners: int, seed: int) -> tuple[list[float], list[str]]:
    """我的工单 page one for random owners through TicketRepo.visible, timed per call; and the
    plan of its query (the page with its total) for one of them."""
    import sqlalchemy as sa

    from storage.db import make_engine, make_sessionmaker
    from storage.models import Account, Ticket
    from storage.ticket_repo import TicketRepo

    engine = make_engine(url)
    maker = make_sessionmaker(engine)
    rng = random.Random(seed)
    async with engine.connect() as conn:
        rows = (
            await conn.execute(
                sa.select(Account.id, Account.owner_id, Account.phone_verified, Account.phone)
            )
        ).all()
    picks = [rng.choice(rows) for _ in range(owners)]
    lat: list[float] = []
    async with maker() as s:
        repo = TicketRepo(s)
        for i, (acc, owner, proven, phone) in enumerate(picks):
            t0 = time.perf_counter()
            await repo.visible(acc, owner, 0, 5, verified_phone=phone if proven else None)
            lat.append(time.perf_counter() - t0)
            if i % 50 == 49:
                await s.rollback()  # as the bot does: one short transaction per step
        acc, owner, _, phone = next((r for r in picks if r[2]), picks[0])
        where = repo._visible_clause(acc, owner, phone)
        page = (
            sa.select(Ticket, sa.func.count().over())
            .where(where)
            .order_by(Ticket.created_at.desc(), Ticket.id.desc())
            .offset(0)
            .limit(5)
        )
        plans = []
        dialect = engine.dialect
        for q in (page,):
            sql = str(q.compile(dialect=dialect, compile_kwargs={"literal_binds": True}))
            prefix = "EXPLAIN QUERY PLAN " if dialect.name == "sqlite" else "EXPLAIN ANALYZE "
            res = await s.execute(sa.text(prefix + sql))
            lines = (
                [" | ".join(str(c) for c in r) for r in res]
                if dialect.name == "sqlite"
                else [r[0] for r in res]
            )
            plans.append(sql.replace("\n", " ") + "\n    " + "\n    ".join(lines))
    await engine.dispose()
    return lat, plans


def run(where: str, url: str, args) -> None:
    t0 = time.perf_counter()
    counts = asyncio.run(data.load_month(url, args.tickets, args.seed))
    print(f"{where}: a month loaded in {time.perf_counter() - t0:.1f} s: {counts}")
    t0 = time.perf_counter()
    folded = asyncio.run(backfill_stages(url))
    print(
        f"  stages backfilled from the history (migration 0012's step) for {folded} tickets"
        f" in {time.perf_counter() - t0:.1f} s"
    )
    asyncio.run(vacuum(url))
    r = _report(url)
    goal = 10 if where == "SQLite" else 5
    print(f"  report wall / CPU s    {r['wall']:8.2f} / {r['cpu']:.2f}   (goal < {goal} s)")
    print(f"  tickets.csv rows       {r['csv_rows']:8d}   (new in period {r['created']})")
    print(
        f"  RSS before/after/peak  {r['before']:.0f} / {r['after']:.0f} / {r['peak']:.0f} MB"
        f"   growth {r['after'] - r['before']:+.0f} MB, peak over start {r['peak'] - r['before']:+.0f} MB"
    )
    t0 = time.perf_counter()
    total = asyncio.run(data.top_up(url, args.mine_tickets, args.seed))
    asyncio.run(vacuum(url))
    print(f"  topped up to {total} tickets in {time.perf_counter() - t0:.1f} s")
    lat, plans = asyncio.run(mine(url, args.owners, args.seed))
    print(
        f"  我的工单 (visible, page 1) over {len(lat)} owners: p50/p95/p99 "
        f"{pct(lat, 0.5):.2f} / {pct(lat, 0.95):.2f} / {pct(lat, 0.99):.2f} ms   (goal p95 < 5 ms)"
    )
    for plan in plans:
        print("  " + plan)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--tickets", type=int, default=100_000)
    ap.add_argument("--mine-tickets", type=int, default=1_000_000)
    ap.add_argument("--owners", type=int, default=2000, help="random owners asking 我的工单")
    ap.add_argument("--seed", type=int, default=13)
    ap.add_argument("--pg", action="store_true", help="also on PostgreSQL (127.0.0.1:5432)")
    ap.add_argument("--no-sqlite", action="store_true")
    ap.add_argument("--child-report", default="")
    ap.add_argument("--out", default="")
    args = ap.parse_args()
    if args.child_report:
        print(json.dumps(asyncio.run(report_child(args.child_report, args.out))))
        return
    if not args.no_sqlite:
        with tempfile.TemporaryDirectory() as tmp:
            run("SQLite", f"sqlite+aiosqlite:///{tmp}/bench.sqlite3", args)
    if args.pg:
        url = asyncio.run(pg_database(PG_NAME, True))
        try:
            run("PostgreSQL", url, args)
        finally:
            asyncio.run(pg_database(PG_NAME, False))


if __name__ == "__main__":
    main()
