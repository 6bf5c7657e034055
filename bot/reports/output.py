"""Writes a report to a folder: tickets.csv streamed while the report is built, one CSV per
table, the charts as PNG, and index.html with everything in it. CSV is UTF-8 with a BOM so
Excel opens the Chinese correctly."""

from __future__ import annotations

import base64
import csv
import gc
from contextlib import contextmanager
from datetime import datetime, tzinfo
from pathlib import Path
from typing import IO

from sqlalchemy.ext.asyncio import AsyncEngine

from .build import Report, build
from .charts import charts
from .queries import Scope, TicketRow
from .stages import StageRules, Stages
from .tables import Table, tables, ticket_header, ticket_row
from .words import Words, page_environment

CSV_ENCODING = "utf-8-sig"


def _write_csv(path: Path, table: Table) -> None:
    with open(path, "w", encoding=CSV_ENCODING, newline="") as fh:
        out = csv.writer(fh)
        out.writerow(table.header)
        out.writerows(table.rows)


async def write_report(*args, **kw) -> Report:
    """`_write`'s arguments (engine, scope, rules, words, tz, now, out_dir), with the garbage
    collector held back for the run."""
    with _few_collections():
        return await _write(*args, **kw)


@contextmanager
def _few_collections():
    """A report allocates millions of short-lived rows while it keeps a growing set of counters:
    at the default threshold the collector walks that set (and every loaded module) again and
    again, about a third of the report's time. Collections stay on, just rarer, and the
    threshold is put back afterwards."""
    old = gc.get_threshold()
    gc.set_threshold(max(old[0], 50_000), *old[1:])
    try:
        yield
    finally:
        gc.set_threshold(*old)


async def _write(
    engine: AsyncEngine,
    scope: Scope,
    rules: StageRules,
    words: Words,
    tz: tzinfo,
    now: datetime,
    out_dir: Path,
) -> Report:
    out_dir.mkdir(parents=True, exist_ok=True)
    fh: IO[str]
    # a local file written row by row as the rows stream: a thread hop per row costs more
    with open(out_dir / "tickets.csv", "w", encoding=CSV_ENCODING, newline="") as fh:  # noqa: ASYNC230
        writer = csv.writer(fh)
        writer.writerow(ticket_header(words))

        def on_ticket(t: TicketRow, s: Stages) -> None:
            writer.writerow(ticket_row(t, s, words, tz))

        report = await build(engine, scope, rules, tz, now, on_ticket)
    made = tables(report, words)
    for table in made:
        _write_csv(out_dir / f"{table.name}.csv", table)
    pngs = charts(report, words)
    for name, data in pngs.items():
        (out_dir / f"{name}.png").write_bytes(data)
    (out_dir / "index.html").write_text(page(report, words, made, pngs, tz), encoding="utf-8")
    return report


def page(report: Report, words: Words, made: list[Table], pngs: dict[str, bytes], tz) -> str:
    """One self-contained page: the charts as data: URIs, the CSS inline, every number a link
    to the list of its tickets further down the same page."""
    f, sat = report.tickets, report.satisfaction
    uris = {k: "data:image/png;base64," + base64.b64encode(v).decode() for k, v in pngs.items()}
    days = f.days()
    context = {
        "w": words,
        "period": (days[0].isoformat(), days[-1].isoformat()),
        "scope": report.scope,
        "f": f,
        "sat": sat,
        "tables": {t.name: t for t in made},
        "charts": uris,
        "lists": report.lists,
        "kb_misses": report.kb_misses,
    }
    return page_environment().get_template("manager_report_page.j2").render(context)
