"""Units as people say them, and the nearest known units when a typed one is not in the registry.

The 3A/3E case (DOMAIN.md): letters are misheard and mistyped, so a typed unit is never trusted
as it is; it is compared with the registry and the owner picks from the nearest known units.
"""

from __future__ import annotations

import re
import tomllib
import unicodedata
from dataclasses import dataclass
from pathlib import Path

with open(Path(__file__).parent / "data" / "units.toml", "rb") as _fh:
    WORDS = tomllib.load(_fh)
_SUFFIX = re.compile("(" + "|".join(map(re.escape, WORDS["strip_suffixes"])) + ")$")
_PREFIX = re.compile("^(" + "|".join(map(re.escape, WORDS["strip_prefixes"])) + ")")


def building_label(b: str) -> str:
    return WORDS["building"].format(b)


def unit_part_label(u: str) -> str:
    return WORDS["unit"].format(u)


def room_label(r: str) -> str:
    return WORDS["room"].format(r)


def floor_label(f: str) -> str:
    return WORDS["floor"].format(f)


# Letters that sound alike or sit close on a keyboard: a swap costs less than a random edit.
_CONFUSABLE = [set("AEH"), set("BDPTEV"), set("MN"), set("01OI"), set("1L7"), set("5S"), set("8B")]


@dataclass(frozen=True, slots=True)
class UnitRef:
    unit_id: int | None
    community: str
    building: str
    unit: str
    room: str

    def label(self) -> str:
        return unit_label(self.community, self.building, self.unit, self.room)


def clean_part(text: str) -> str:
    """3栋 → 3, 1单元 → 1, 3a室 → 3A: the bare designator, upper case, full-width folded."""
    t = unicodedata.normalize("NFKC", text or "").strip().upper()
    t = re.sub(r"\s+", "", t)
    t = _PREFIX.sub("", t)
    t = _SUFFIX.sub("", t)
    return t


def unit_label(community: str, building: str, unit: str, room: str) -> str:
    parts = []
    if community:
        parts.append(community)
    parts.append(building_label(building))
    if unit:
        parts.append(unit_part_label(unit))
    parts.append(room_label(room))
    return "".join(parts)


def _sub_cost(a: str, b: str) -> float:
    if a == b:
        return 0.0
    for group in _CONFUSABLE:
        if a in group and b in group:
            return 0.5
    return 1.0


def distance(a: str, b: str) -> float:
    """Edit distance where confusable characters cost half."""
    prev = [float(j) for j in range(len(b) + 1)]
    for i, ca in enumerate(a, 1):
        cur = [float(i)]
        for j, cb in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + _sub_cost(ca, cb)))
        prev = cur
    return prev[-1]


def nearest(typed: str, known: list[str], limit: int = 4) -> list[str]:
    """Known designators closest to the typed one; only those within a plausible slip."""
    t = clean_part(typed)
    scored = sorted((distance(t, clean_part(k)), k) for k in known)
    return [k for d, k in scored if d <= max(1.0, len(t) / 2)][:limit]
