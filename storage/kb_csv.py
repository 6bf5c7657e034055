"""The knowledge base from and to CSV: all or nothing, every bad line named, like the owner
registry (storage/owner_import.py).

Header: question,alternatives,answer,category,community,buildings,valid_from,valid_until. Only
question and answer must have a value; alternatives and buildings are separated by `|`; dates are
YYYY-MM-DD (Excel's 2026/1/5 is read too). UTF-8 with or without BOM; a GBK file is refused.
A line is the entry of the same question (folded as matching folds it: "物業費怎麼交?" is
"物业费怎么交？"): changed if it differs, added if there is none; `replace` turns off the active
entries the file does not have. Every change is recorded (KbChange, actor "import")."""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from dialogs.knowledge import SEPARATOR, buildings, miss_key, phrasings, problems

from .csv_lines import csv_lines
from .kb_repo import EDITABLE, KnowledgeRepo, snapshot
from .models import KbEntry

HEADER = (
    "question",
    "alternatives",
    "answer",
    "category",
    "community",
    "buildings",
    "valid_from",
    "valid_until",
)
REQUIRED = ("question", "answer")
RETIRED_SHOWN = 20
_DATE = re.compile(r"^(\d{4})[-/](\d{1,2})[-/](\d{1,2})$")


@dataclass(slots=True)
class KbRow:
    line: int
    question: str
    alternatives: tuple[str, ...]
    answer: str
    category: str
    community: str
    buildings: tuple[str, ...]
    valid_from: date | None
    valid_until: date | None

    def fields(self) -> dict:
        return {k: getattr(self, k) for k in EDITABLE}


@dataclass(slots=True)
class KbImportReport:
    ok: bool
    encoding_error: bool = False
    header_error: str = ""
    errors: list[tuple[int, str, str]] = field(default_factory=list)  # line, code, value
    rows: int = 0
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    retired: int = 0
    # (id, question) of the entries `replace` turns off, the first RETIRED_SHOWN of them
    retired_examples: list[tuple[int, str]] = field(default_factory=list)


def _date(text: str) -> date | None:
    m = _DATE.match(text)
    if not m:
        raise ValueError(text)
    return date(int(m[1]), int(m[2]), int(m[3]))


def _split(text: str) -> list[str]:
    return [p.strip() for p in text.split(SEPARATOR) if p.strip()]


def parse(raw: bytes) -> tuple[list[KbRow], KbImportReport]:
    report = KbImportReport(ok=False)
    lines = csv_lines(raw, REQUIRED, report, lower=True)
    if lines is None:
        return [], report
    rows: list[KbRow] = []
    first_line: dict[str, int] = {}
    for line, get in lines:
        bad: list[tuple[str, str]] = []
        dates: dict[str, date | None] = {}
        for k in ("valid_from", "valid_until"):
            try:
                dates[k] = _date(get(k)) if get(k) else None
            except ValueError:
                bad.append(("bad_date", get(k)))
                dates[k] = None
        question = get("question")
        alternatives = phrasings(_split(get("alternatives")), question)
        bad += problems(
            question,
            get("answer"),
            alternatives,
            dates["valid_from"],
            dates["valid_until"],
            get("category"),
            get("community"),
        )
        key = miss_key(question) or question
        if question and key in first_line:
            bad.append(("duplicate_question", str(first_line[key])))
        first_line.setdefault(key, line)
        report.errors += [(line, code, value) for code, value in bad]
        if not bad:
            rows.append(
                KbRow(
                    line,
                    question,
                    alternatives,
                    get("answer"),
                    get("category"),
                    get("community"),
                    buildings(_split(get("buildings"))),
                    dates["valid_from"],
                    dates["valid_until"],
                )
            )
    report.rows = len(rows)
    report.ok = not report.errors
    return rows, report


async def import_entries(
    session: AsyncSession,
    raw: bytes,
    now: datetime,
    replace: bool = False,
    actor: str = "import",
) -> KbImportReport:
    """Parse and apply in the caller's transaction; nothing is applied when any line is bad."""
    rows, report = parse(raw)
    if not report.ok:
        return report
    repo = KnowledgeRepo(session)
    existing: dict[str, KbEntry] = {}
    # an active entry first, then the oldest: the one a line of the file stands for
    for e in sorted(await repo.entries(active_only=False), key=lambda e: (not e.active, e.id)):
        existing.setdefault(miss_key(e.question) or e.question, e)
    kept: set[int] = set()
    for r in rows:
        e = existing.get(miss_key(r.question) or r.question)
        if e is None:
            entry_id = await repo.add(r.question, r.answer, actor=actor, now=now, **_extra(r))
            kept.add(entry_id)
            report.added += 1
            continue
        kept.add(e.id)
        before = snapshot(e)
        await repo.edit(e.id, actor=actor, now=now, **r.fields())
        await repo.set_active(e.id, True, actor=actor, now=now)
        if snapshot(e) == before:
            report.unchanged += 1
        else:
            report.updated += 1
    if replace:
        for e in await repo.entries():
            if e.id not in kept:
                await repo.set_active(e.id, False, actor=actor, now=now)
                report.retired += 1
                if len(report.retired_examples) < RETIRED_SHOWN:
                    report.retired_examples.append((e.id, e.question))
    return report


def _extra(r: KbRow) -> dict:
    return {k: v for k, v in r.fields().items() if k not in ("question", "answer")}


async def export_entries(session: AsyncSession) -> tuple[str, int]:
    """The active entries as CSV text in the import's format (no BOM), and how many."""
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow(HEADER)
    entries = await KnowledgeRepo(session).entries()
    for e in entries:
        w.writerow(
            [
                e.question,
                SEPARATOR.join(e.alternatives or []),
                e.answer,
                e.category,
                e.community,
                SEPARATOR.join(e.buildings or []),
                e.valid_from.isoformat() if e.valid_from else "",
                e.valid_until.isoformat() if e.valid_until else "",
            ]
        )
    return out.getvalue(), len(entries)
