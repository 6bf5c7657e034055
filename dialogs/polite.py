"""服务禁言 as code: finds forbidden phrases and 你 addressed to an owner, with the rewrite.

Applies to what we write (templates, agent replies), never to the owner's own words quoted back
(DOMAIN.md). The word list is data: dialogs/data/polite_rules.toml.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

RULES_FILE = Path(__file__).parent / "data" / "polite_rules.toml"


@dataclass(frozen=True, slots=True)
class Finding:
    phrase: str
    rewrite: str
    start: int


@lru_cache(maxsize=4)
def _rules(path: str) -> list[tuple[re.Pattern[str], str]]:
    with open(path, "rb") as fh:
        raw = tomllib.load(fh)
    return [(re.compile(r["pattern"]), r["rewrite"]) for r in raw["rule"]]


def check(text: str, rules_file: Path = RULES_FILE) -> list[Finding]:
    """Every forbidden phrase in `text`; overlapping hits of later, broader rules are dropped."""
    findings: list[Finding] = []
    taken: list[range] = []
    for pattern, rewrite in _rules(str(rules_file)):
        for m in pattern.finditer(text):
            if any(m.start() in r for r in taken):
                continue
            taken.append(range(m.start(), max(m.end(), m.start() + 1)))
            findings.append(Finding(m.group(0), rewrite, m.start()))
    return sorted(findings, key=lambda f: f.start)
