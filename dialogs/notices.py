"""Notices (公告) as data: their kinds, the repair categories and the owners' words each kind
answers (data/notices.toml), a notice made ready for the templates, and the times agents type
for one ("今天14:00-18:00", "2026-11-24 14:00", "20:00").

Pure: the agents' /notice, the CLI, the pushes and the owner's dialog all read notices here."""

from __future__ import annotations

import re
import tomllib
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any

from .ports import NoticeView
from .slots import WORDS_FILE as TIME_WORDS_FILE
from .units import building_label, clean_part

NOTICES_FILE = Path(__file__).parent / "data" / "notices.toml"


@dataclass(frozen=True, slots=True)
class Kind:
    key: str
    categories: tuple[str, ...]
    words: tuple[str, ...]


@lru_cache(maxsize=1)
def _data() -> dict[str, Any]:
    with open(NOTICES_FILE, "rb") as fh:
        data = tomllib.load(fh)
    with open(TIME_WORDS_FILE, "rb") as fh:
        data["time_words"] = tomllib.load(fh)
    return data


def kinds() -> dict[str, Kind]:
    """Every kind, in the order the agents' buttons show them."""
    return {
        key: Kind(key, tuple(k.get("categories", ())), tuple(k.get("words", ())))
        for key, k in _data()["kinds"].items()
    }


def kinds_for(category: str | None = None, text: str = "") -> set[str]:
    """The kinds a repair category answers, and those the owner's words mention."""
    found = set()
    bare = re.sub(r"\s+", "", text or "")
    for k in kinds().values():
        if (category and category in k.categories) or any(w in bare for w in k.words):
            found.add(k.key)
    return found


def in_force(n: NoticeView, community: str, building: str, now: datetime) -> bool:
    """The rule every Notices port keeps: in its time, in the community, in the building (a
    notice with no buildings is for all of them)."""
    return (
        n.starts_at <= now < n.ends_at
        and n.community == community
        and (not n.buildings or building in n.buildings)
    )


def context(n: NoticeView, tz) -> dict[str, Any]:
    """A notice as the templates read it (templates_zh/shared/_notice.j2)."""
    start, end = n.starts_at.astimezone(tz), n.ends_at.astimezone(tz)
    return {
        "id": n.id,
        "kind": n.kind,
        "community": n.community,
        "building_labels": [building_label(b) for b in n.buildings],
        "starts_at": n.starts_at,
        "ends_at": n.ends_at,
        "same_day": start.date() == end.date(),
        "text": n.text,
        "urgent": n.urgent,
    }


def parse_buildings(text: str) -> list[str]:
    """Buildings as typed ("3,5", "3栋、5栋", "3 5"): the bare designators, in the order given, each once."""
    out: list[str] = []
    for part in re.split(r"[\s,;/\u3001\uff0c\uff1b]+", unicodedata.normalize("NFKC", text or "")):
        bare = clean_part(part)
        if bare and bare not in out:
            out.append(bare)
    return out


# --- times as agents type them ---------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Moment:
    at: datetime
    day_given: bool


@lru_cache(maxsize=1)
def _moment_pattern() -> re.Pattern[str]:
    d, w = _data()["when"], _data()["time_words"]
    rel = "|".join(map(re.escape, sorted(w["relative_days"], key=len, reverse=True)))
    day_end = "".join(map(re.escape, w["day_words"]))
    month = re.escape(w["month_word"])
    marks = "|".join(map(re.escape, d["hour_marks"]))
    half = re.escape(d["half_hour"])
    return re.compile(
        r"\s*(?:(?P<y>\d{4})[-/.](?P<ym>\d{1,2})[-/.](?P<yd>\d{1,2})"
        rf"|(?P<m>\d{{1,2}}){month}(?P<md>\d{{1,2}})[{day_end}]?|(?P<rel>{rel}))?\s*"
        rf"(?P<h>\d{{1,2}})(?::(?P<min>\d{{2}})|(?:{marks})(?:(?P<half>{half})|(?P<pm>\d{{1,2}}))?)"
    )


def _separator() -> str:
    seps = "|".join(map(re.escape, _data()["when"]["separators"]))
    return rf"\s*(?:{seps})\s*"


def _normal(text: str) -> str:
    # full-width digits and colons (１４：００) read as plain ones
    return unicodedata.normalize("NFKC", text or "").strip()


def _moment(m: re.Match[str], local_now: datetime, default_day: date) -> Moment | None:
    g = m.groupdict()
    try:
        if g["y"]:
            day, given = date(int(g["y"]), int(g["ym"]), int(g["yd"])), True
        elif g["m"]:
            day, given = date(local_now.year, int(g["m"]), int(g["md"])), True
            if day < local_now.date() - timedelta(days=180):
                day = day.replace(year=day.year + 1)  # 1月5日 said in December
        elif g["rel"]:
            offset = _data()["time_words"]["relative_days"][g["rel"]]
            day, given = local_now.date() + timedelta(days=int(offset)), True
        else:
            day, given = default_day, False
        minute = int(g["min"] or g["pm"] or (30 if g["half"] else 0))
        at = datetime.combine(day, time(int(g["h"]), minute), tzinfo=local_now.tzinfo)
    except ValueError:
        return None  # 25:00, 2月30日
    return Moment(at, given)


def parse_moment(text: str, local_now: datetime, default_day: date | None = None) -> Moment | None:
    """One instant: "20:00", "明天8点", "11月24日14:00", "2026-11-24 14:00"; None if unclear."""
    m = _moment_pattern().fullmatch(_normal(text))
    return _moment(m, local_now, default_day or local_now.date()) if m else None


def parse_span(text: str, local_now: datetime) -> tuple[datetime, datetime] | None:
    """From and until: "今天14:00-18:00", "14点至18点", "22:00-06:00" (overnight), "明天8:00-
    明天12:00"; None when unclear, or when the end is not after the start."""
    t = _normal(text)
    pattern = _moment_pattern().pattern
    m = re.fullmatch(f"(?P<a>{_unnamed(pattern)}){_separator()}(?P<b>{_unnamed(pattern)})", t)
    if m is None:
        return None
    start = parse_moment(m.group("a"), local_now)
    if start is None:
        return None
    end = parse_moment(m.group("b"), local_now, start.at.date())
    if end is None:
        return None
    until = end.at
    if not end.day_given and until <= start.at:
        until += timedelta(days=1)  # 22:00-06:00 runs overnight
    return (start.at, until) if until > start.at else None


def _unnamed(pattern: str) -> str:
    return re.sub(r"\(\?P<\w+>", "(?:", pattern)


def quick_spans(local_now: datetime) -> list[tuple[str, dict[str, Any], datetime, datetime]]:
    """The agents' quick choices: (label key, its values, from, until)."""
    d, w = _data()["when"], _data()["time_words"]
    out = []
    start = local_now.replace(second=0, microsecond=0)
    for hours in d["hours_from_now"]:
        out.append(("notice_when_hours", {"h": hours}, start, start + timedelta(hours=hours)))
    for offset, key in ((0, "notice_when_today"), (1, "notice_when_tomorrow")):
        day = local_now.date() + timedelta(days=offset)
        for part in d["parts"]:
            p = w["parts"][part]
            a = datetime.combine(day, time.fromisoformat(p["start"]), tzinfo=local_now.tzinfo)
            b = datetime.combine(day, time.fromisoformat(p["end"]), tzinfo=local_now.tzinfo)
            if b > local_now:
                values = {"part": part, "start": p["start"], "end": p["end"]}
                out.append((key, values, a, b))
    return out
