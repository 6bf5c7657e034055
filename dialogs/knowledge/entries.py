"""An entry as matching sees it, where and when it applies, and what makes one unusable: the
same checks for the CSV import, the agents' `/faq add` and the repository."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from ..clean_text import clean_text
from ..ports import Where
from ..units import clean_part
from .settings import fold_width

# an answer is one message on every channel: WeChat's 2048 bytes hold about 680 Chinese
# characters, less the greeting and the question the template wraps it in
MAX_ANSWER = 600
MAX_QUESTION = 100
MAX_CATEGORY = 32
MAX_COMMUNITY = 64
# phrasings are split on this in the CSV and in `/faq add` and `/faq edit`
SEPARATOR = "|"


@dataclass(frozen=True, slots=True)
class IndexEntry:
    id: int
    question: str
    answer: str
    category: str = ""
    alternatives: tuple[str, ...] = ()
    community: str = ""
    buildings: tuple[str, ...] = ()  # empty: every building
    valid_from: date | None = None
    valid_until: date | None = None

    @property
    def everywhere_always(self) -> bool:
        return not (self.community or self.buildings or self.valid_from or self.valid_until)


def phrasings(values: Iterable[str], question: str = "") -> tuple[str, ...]:
    """Other phrasings, each once, none equal to the question, none empty."""
    seen = {question.strip()}
    out = []
    for v in values:
        v = clean_text(v).strip()
        if v and v not in seen:
            seen.add(v)
            out.append(v)
    return tuple(out)


def buildings(values: Iterable[str]) -> tuple[str, ...]:
    """As the registry writes them: "3栋" and "3" are the same building."""
    out: list[str] = []
    for v in values:
        b = clean_part(v)
        if b and b not in out:
            out.append(b)
    return tuple(out)


def local_day(now: datetime, tz: str = "Asia/Shanghai") -> date:
    """The service's calendar day at `now`: valid_from / valid_until are days there."""
    return now.astimezone(ZoneInfo(tz)).date() if now.tzinfo else now.date()


def applies(entry: IndexEntry, where: Where, day: date | None) -> bool:
    """Valid on `day` (both ends included), and for the owner's community and building. An
    entry for one community or some buildings is not given when the owner's are not known."""
    if day is not None:
        if entry.valid_from and day < entry.valid_from:
            return False
        if entry.valid_until and day > entry.valid_until:
            return False
    if entry.community and fold_width(entry.community) != fold_width(where.community):
        return False
    return not entry.buildings or clean_part(where.building) in entry.buildings


def problems(
    question: str,
    answer: str,
    alternatives: Iterable[str] = (),
    valid_from: date | None = None,
    valid_until: date | None = None,
    category: str = "",
    community: str = "",
) -> list[tuple[str, str]]:
    """What makes an entry unusable, as (code, value): the CSV import names the line, the agents'
    command the field (templates_zh say each code in words)."""
    out: list[tuple[str, str]] = []
    question, answer = clean_text(question).strip(), clean_text(answer).strip()
    if not question:
        out.append(("missing_question", ""))
    elif len(question) > MAX_QUESTION:
        out.append(("question_too_long", str(len(question))))
    if not answer:
        out.append(("missing_answer", ""))
    elif len(answer) > MAX_ANSWER:
        out.append(("answer_too_long", str(len(answer))))
    for alt in alternatives:
        if len(alt.strip()) > MAX_QUESTION:
            out.append(("question_too_long", str(len(alt.strip()))))
    if len(category.strip()) > MAX_CATEGORY:
        out.append(("category_too_long", category.strip()))
    if len(community.strip()) > MAX_COMMUNITY:
        out.append(("community_too_long", community.strip()))
    if valid_from and valid_until and valid_from > valid_until:
        out.append(("dates_reversed", f"{valid_from.isoformat()} > {valid_until.isoformat()}"))
    return out
