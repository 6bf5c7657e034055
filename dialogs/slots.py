"""The visit time an owner chose, as a window of real time: a slot button ("明天上午") or the
owner's own words ("周六上午10点", "11月28日下午"). A promise made for that visit is kept inside
the window and read back with its date (每个承诺都有时间: DOMAIN.md).

The words are data (data/time_words.toml); the parser is small and hand-written because no kept
library reads colloquial Chinese visit times (dateparser knows 明天 but not 周六上午10点半)."""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any

WORDS_FILE = Path(__file__).parent / "data" / "time_words.toml"


@dataclass(frozen=True, slots=True)
class Window:
    start: datetime
    end: datetime
    # the part of the day as said ("上午"), and the named hour when the owner gave one
    part: str = ""
    hour: time | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "part": self.part,
            "hour": self.hour.strftime("%H:%M") if self.hour else "",
        }

    @classmethod
    def from_dict(cls, raw: dict[str, Any] | None) -> Window | None:
        if not raw:
            return None
        hour = time.fromisoformat(raw["hour"]) if raw.get("hour") else None
        return cls(
            datetime.fromisoformat(raw["start"]),
            datetime.fromisoformat(raw["end"]),
            raw.get("part", ""),
            hour,
        )


@lru_cache(maxsize=2)
def _words(path: str = str(WORDS_FILE)) -> dict[str, Any]:
    with open(path, "rb") as fh:
        return tomllib.load(fh)


def part_names() -> set[str]:
    """The parts of the day a slot button may name (the policy file is checked against them)."""
    return set(_words()["parts"])


def _part_window(day: date, part: str, tz) -> tuple[datetime, datetime]:
    p = _words()["parts"][part]
    return (
        datetime.combine(day, time.fromisoformat(p["start"]), tzinfo=tz),
        datetime.combine(day, time.fromisoformat(p["end"]), tzinfo=tz),
    )


def for_button(slot: str, local_now: datetime, slots: dict[str, Any]) -> Window | None:
    """The window behind a slot button; None for 尽快 (as soon as possible)."""
    row = slots.get(slot)
    if not row:
        return None
    day = local_now.date() + timedelta(days=int(row["day"]))
    start, end = _part_window(day, row["part"], local_now.tzinfo)
    return Window(max(start, local_now), end, row["part"])


def parse(text: str, local_now: datetime, hour_window_minutes: int = 60) -> Window | None:
    """A visit time in the owner's own words, or None when it names no day or no time of day."""
    w = _words()
    t = re.sub(r"\s+", "", text)
    day = _day(t, local_now.date(), w)
    part = next((p for p in w["parts"] if p in t), "")
    hour = _hour(t, part, w)
    if day is None and not (part or hour):
        return None
    if day is None:
        day = local_now.date()
    tz = local_now.tzinfo
    if hour is not None:
        start = datetime.combine(day, hour, tzinfo=tz)
        end = start + timedelta(minutes=hour_window_minutes)
    elif part:
        start, end = _part_window(day, part, tz)
    else:
        return None  # a day without a time of day: the agent agrees the time on the phone
    if end <= local_now:
        return None
    return Window(max(start, local_now), end, part, hour)


def _day(t: str, today: date, w: dict[str, Any]) -> date | None:
    for word in sorted(w["relative_days"], key=len, reverse=True):
        if word in t:
            return today + timedelta(days=int(w["relative_days"][word]))
    m = re.search(rf"(\d{{1,2}}){w['month_word']}(\d{{1,2}})[{''.join(w['day_words'])}]?", t)
    if m:
        month, dom = int(m.group(1)), int(m.group(2))
        try:
            d = date(today.year, month, dom)
        except ValueError:
            return None
        return d if d >= today else _next_year(d)
    m = re.search(rf"(\d{{1,2}})[{''.join(w['day_words'])}]", t)
    if m:
        dom = int(m.group(1))
        try:
            d = today.replace(day=dom)
        except ValueError:
            return None
        if d < today:
            d = (d.replace(day=1) + timedelta(days=32)).replace(day=dom)
        return d
    for prefix in sorted(w["weekday_prefixes"], key=len, reverse=True):
        i = t.find(prefix)
        if i >= 0 and i + len(prefix) < len(t):
            ch = t[i + len(prefix)]
            wd = w["weekday_names"].get(ch) or (int(ch) if ch in "1234567" else None)
            if wd is None:
                continue
            if prefix in w["next_week_prefixes"]:
                ahead = 7 - today.isoweekday() + wd  # that day of next calendar week
            else:
                ahead = (wd - today.isoweekday()) % 7
            return today + timedelta(days=ahead)
    return None


def _next_year(d: date) -> date | None:
    try:
        return d.replace(year=d.year + 1)
    except ValueError:
        return None


def _hour(t: str, part: str, w: dict[str, Any]) -> time | None:
    hw, half = w["hour_word"], w["half_word"]
    m = re.search(r"(\d{1,2})[:：](\d{2})", t)
    if m:
        h, minute = int(m.group(1)), int(m.group(2))
    else:
        numerals = re.escape(w["digits"] + w["ten"] + w["two"])
        m = re.search(rf"([\d{numerals}]{{1,3}}){hw}({half}|(\d{{1,2}}))?", t)
        if not m:
            return None
        h = _number(m.group(1), w)
        minute = 30 if m.group(2) == half else int(m.group(3) or 0)
    if h is None or not 0 <= h <= 23 or not 0 <= minute <= 59:
        return None
    if h < 12 and part and w["parts"][part]["start"] >= "12:00":
        h += 12  # 下午3点 is 15:00
    return time(h, minute)


def _number(s: str, w: dict[str, Any]) -> int | None:
    """Arabic or Chinese numerals up to 99 (十点, 十一点, 两点)."""
    if s.isdigit():
        return int(s)
    digits = {ch: i for i, ch in enumerate(w["digits"])}
    digits[w["two"]] = 2
    ten = w["ten"]
    if ten in s:
        tens, _, ones = s.partition(ten)
        return (digits.get(tens, 1) if tens else 1) * 10 + (digits.get(ones, 0) if ones else 0)
    return digits.get(s) if len(s) == 1 else None
