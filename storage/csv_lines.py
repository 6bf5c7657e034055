"""The shared start of every operator CSV import (owner registry, knowledge base): UTF-8 (a BOM
is fine, anything else is refused), the required columns checked, and the non-blank lines handed
over with their line numbers as a spreadsheet shows them, so an error can name its line."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable
from typing import Protocol

Get = Callable[[str], str]


class CsvReport(Protocol):
    encoding_error: bool
    header_error: str


def csv_lines(
    raw: bytes, required: Iterable[str], report: CsvReport, *, lower: bool = False
) -> list[tuple[int, Get]] | None:
    """(line number, get(column) → stripped text) for every non-blank line; None, with the
    report's encoding_error or header_error set, when the file cannot be read as asked."""
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        report.encoding_error = True
        return None
    reader = csv.DictReader(io.StringIO(text))
    header = [h.strip().lower() if lower else h.strip() for h in (reader.fieldnames or [])]
    missing = [c for c in required if c not in header]
    if missing:
        report.header_error = ",".join(missing)
        return None
    reader.fieldnames = header
    lines: list[tuple[int, Get]] = []
    for line, rec in enumerate(reader, start=2):

        def get(k: str, rec: dict = rec) -> str:
            value = rec.get(k)
            return value.strip() if isinstance(value, str) else ""

        if any(get(k) for k in header):
            lines.append((line, get))
    return lines
