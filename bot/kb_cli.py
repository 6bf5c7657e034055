"""`python -m bot kb import FILE.csv [--replace] [--yes]`, `kb export [FILE]`, `kb ask ["问题"]`:
the knowledge base (常见问题) for operators, and for tests and scripts.

`kb ask` with a question prints the best three with their scores and what the bot would do with
them; without one it reads a question per line from standard input and writes one JSON line per
question, {"question": …, "top": [{"question": <the entry's main question>, "score": …}, …]}.
Nothing here imports aiogram, and jieba is loaded only by `ask`."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import datetime
from pathlib import Path
from typing import TextIO

from dialogs.clock import SystemClock
from dialogs.texts import Texts

from .cli import StartupError, database, read_csv_file, say
from .settings import Settings

# the starter file the console loads with the sample registry (README: knowledge base)
SAMPLE_FAQ = Path(__file__).resolve().parent / "samples" / "faq.csv"
TOP = 3


def add_parsers(sub) -> None:
    kb = sub.add_parser("kb", help="the knowledge base of frequent questions").add_subparsers(
        dest="op", required=True
    )
    imp = kb.add_parser("import", help="load entries from CSV (all or nothing)")
    imp.add_argument("file")
    imp.add_argument(
        "--replace",
        action="store_true",
        help="turn off the entries missing from the file; asks to confirm",
    )
    imp.add_argument("--yes", action="store_true", help="with --replace: do not ask")
    exp = kb.add_parser("export", help="write the active entries as CSV")
    exp.add_argument("file", nargs="?", default=None, help="standard output when not given")
    ask = kb.add_parser("ask", help="the best entries for a question, with their scores")
    ask.add_argument("question", nargs="?", default=None, help="read from stdin when not given")
    ask.add_argument("--community", default="")
    ask.add_argument("--building", default="")


def _confirmed(texts: Texts, stdin: TextIO) -> bool:
    sys.stdout.flush()
    answer = (stdin.readline() or "").strip().lower()
    return answer in texts.button("console_yes").split()


async def import_command(
    settings: Settings, path: str, replace: bool, yes: bool, stdin: TextIO | None = None
) -> int:
    """All or nothing. `--replace` lists first which entries it turns off and asks (y/N)."""
    from storage.kb_csv import import_entries
    from storage.uow import UnitOfWork

    stdin = stdin or sys.stdin
    texts = Texts(settings.service_tz)
    raw = read_csv_file(path)
    now = SystemClock().now()
    async with database(settings.database_url) as sessionmaker:
        if replace and not yes:
            # a dry run, rolled back: the operator sees what the file turns off first
            async with UnitOfWork(sessionmaker) as uow:
                preview = await import_entries(uow.session, raw, now, replace=True)
                await uow.rollback()
            if preview.ok and preview.retired:
                say(texts, "cli_kb_will_retire", {"kb_report": preview})
                if not stdin.isatty():
                    raise StartupError("cli_kb_confirm_needs_terminal", code=2)
                say(texts, "cli_confirm_prompt")
                if not _confirmed(texts, stdin):
                    say(texts, "cli_import_not_confirmed")
                    return 1
        async with UnitOfWork(sessionmaker) as uow:
            report = await import_entries(uow.session, raw, now, replace=replace)
            if report.ok:
                await uow.commit()
    say(texts, "cli_kb_import_report", {"kb_report": report})
    return 0 if report.ok else 1


async def load_sample_faq(sessionmaker, now: datetime) -> int:
    """The starter file into the knowledge base (the console's sample data): how many entries
    it holds. Entries already there are kept, those of the file updated to it."""
    from storage.kb_csv import import_entries
    from storage.uow import UnitOfWork

    async with UnitOfWork(sessionmaker) as uow:
        report = await import_entries(uow.session, SAMPLE_FAQ.read_bytes(), now)
        await uow.commit()
    return report.rows


async def export_command(settings: Settings, path: str | None) -> int:
    from storage.kb_csv import export_entries
    from storage.uow import UnitOfWork

    async with database(settings.database_url) as sessionmaker, UnitOfWork(sessionmaker) as uow:
        text, count = await export_entries(uow.session)
    if path is None:
        sys.stdout.write(text)
        return 0
    try:
        # with a BOM: Excel and WPS open it as UTF-8, and the import reads it either way
        Path(path).write_text(text, encoding="utf-8-sig")
    except OSError as e:
        raise StartupError("cli_kb_export_failed", code=2, path=path, error=e.strerror) from e
    say(Texts(settings.service_tz), "cli_kb_exported", {"path": path, "count": count})
    return 0


async def ask_command(
    settings: Settings,
    question: str | None,
    where_community: str = "",
    where_building: str = "",
    stdin: TextIO | None = None,
) -> int:
    from dialogs.knowledge import thresholds
    from dialogs.ports import Where
    from storage.kb_repo import KnowledgeRepo
    from storage.uow import UnitOfWork

    where = Where(where_community, where_building)
    now = SystemClock().now()
    async with database(settings.database_url) as sessionmaker, UnitOfWork(sessionmaker) as uow:
        knowledge = KnowledgeRepo(uow.session, settings.service_tz)
        if question is not None:
            matches = await knowledge.ask(question, where, now, limit=TOP)
            confident, middling = thresholds()
            say(
                Texts(settings.service_tz),
                "cli_kb_ask",
                {
                    "question": question,
                    "kb_matches": matches,
                    "kb_confident": confident,
                    "kb_middling": middling,
                },
            )
            return 0
        for line in stdin or sys.stdin:
            q = line.rstrip("\r\n")
            matches = await knowledge.ask(q, where, now, limit=TOP) if q.strip() else []
            top = [{"question": m.question, "score": m.score} for m in matches]
            print(json.dumps({"question": q, "top": top}, ensure_ascii=False), flush=True)
    return 0


async def run(settings: Settings, args: argparse.Namespace) -> int:
    if args.op == "import":
        return await import_command(settings, args.file, args.replace, args.yes)
    if args.op == "export":
        return await export_command(settings, args.file)
    return await ask_command(settings, args.question, args.community, args.building)
