"""Writes a report to a folder: tickets.csv streamed while the report is built, one CSV per
table, the charts as PNG, and index.html with everything in it. CSV is UTF-8 with a BOM so
Excel opens the Chinese correctly."""

from __future__ import annotations

import asyncio
import base64
import csv
import gc
from contextlib import contextmanager
from datetime import datetime, tzinfo
from pathlib import Path
from typing import IO

from markupsafe import Markup
from sqlalchemy.ext.asyncio import AsyncEngine

from .build import Report, build
from .charts import charts
from .period_reads import agent_names
from .queries import Scope, TicketRow
from .stages import Stages
from .tables import (
    Table,
    local_format,
    overdue_header,
    overdue_row,
    tables,
    ticket_header,
    ticket_row,
)
from .tally import TicketList
from .ticket_export import can_export, export_tickets
from .words import Words, page_environment

CSV_ENCODING = "utf-8-sig"


def _write_csv(path: Path, table: Table) -> None:
    with open(path, "w", encoding=CSV_ENCODING, newline="") as fh:
        out = csv.writer(fh)
        out.writerow(table.header)
        out.writerows(table.rows)


async def write_report(*args, **kw) -> Report:
    """`_write`'s arguments (engine, scope, words, tz, now, out_dir), with the garbage
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
    words: Words,
    tz: tzinfo,
    now: datetime,
    out_dir: Path,
    python_csv: bool = False,
) -> Report:
    """`python_csv`: tickets.csv written by Python where the database could (the test comparing
    the two writers)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    async with engine.connect() as conn:
        names = await agent_names(conn)
    stamp = local_format(tz, scope.start.year)
    with open(out_dir / "overdue.csv", "w", encoding=CSV_ENCODING, newline="") as late_fh:  # noqa: ASYNC230
        # every broken promise written as it is found, never all of them in memory
        late = csv.writer(late_fh)
        late.writerow(overdue_header(words))

        def on_overdue(number: str, stage: str, promise: datetime) -> None:
            late.writerow(overdue_row(number, stage, promise, words, stamp))

        dialect = engine.dialect.name
        if not python_csv and can_export(dialect, tz, scope.start.year):
            # tickets.csv made by the database (ticket_export.py): on PostgreSQL beside the
            # figures' stream, the server formatting on a core of its own
            export = _export_tickets(engine, out_dir, scope, words, names, tz)
            if dialect == "postgresql":
                report, _ = await asyncio.gather(
                    build(engine, scope, tz, now, None, on_overdue), export
                )
            else:
                report = await build(engine, scope, tz, now, None, on_overdue)
                await export
        else:
            report = await _with_tickets_csv(
                engine, out_dir, scope, words, names, tz, now, stamp, on_overdue
            )
    made = tables(report, words)
    for table in made:
        if table.name != "overdue":  # written above, as the tickets streamed
            _write_csv(out_dir / f"{table.name}.csv", table)
    pngs = charts(report, words)
    for name, data in pngs.items():
        (out_dir / f"{name}.png").write_bytes(data)
    (out_dir / "index.html").write_text(page(report, words, made, pngs, tz), encoding="utf-8")
    return report


async def _with_tickets_csv(
    engine, out_dir, scope, words, names, tz, now, stamp, on_overdue
) -> Report:
    """The report, tickets.csv written row by row as the tickets stream (a local file: a
    thread hop per row costs more)."""
    fh: IO[str]
    with open(out_dir / "tickets.csv", "w", encoding=CSV_ENCODING, newline="") as fh:  # noqa: ASYNC230
        rows = csv.writer(fh)
        rows.writerow(ticket_header(words))

        def on_ticket(t: TicketRow, s: Stages) -> None:
            rows.writerow(ticket_row(t, s, words, stamp, names))

        return await build(engine, scope, tz, now, on_ticket, on_overdue)


async def _export_tickets(engine, out_dir, scope, words, names, tz) -> None:
    async with engine.connect() as conn:
        await export_tickets(
            conn, out_dir / "tickets.csv", ticket_header(words), scope, words, names, tz
        )


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
        "ticket_lists": ticket_lists(report, words),
        "kb_misses": report.kb_misses,
        "bot": report.bot,
    }
    return page_environment().get_template("manager_report_page.j2").render(context)


def ticket_lists(report: Report, words: Words) -> list[tuple[str, str, TicketList, Markup]]:
    """Every figure's tickets under a heading a manager reads, the numbers joined here: a
    template loop over tens of thousands of numbers costs seconds, this a few milliseconds."""
    names = {c.agent_id: c.name for c in report.agents}
    sep, item = Markup("、"), Markup('<span class="ticket">{}</span>')
    return [
        (key, words.list_title(key, names), lst, sep.join(item.format(n) for n in lst.numbers))
        for key, lst in sorted(report.lists.items())
    ]
