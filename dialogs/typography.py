"""Chinese that reads like a trained agent: full-width punctuation (GB/T 15834), the owner's
salutation opening a message rather than standing in it as a third person, no word typed twice.

Punctuation is fixed by autocorrect-py, configured so that it only converts marks (its default
also spaces "3 栋 1 单元", which 物业 text never does), then by a few data-driven rules for what it
leaves alone (parentheses, straight quotes, a mark at the end of a line or beside a digit).
The template lint reports all three kinds; an agent's reply gets its punctuation fixed silently
and a hint for the other two (bot/desk/relay.py). Word lists and patterns are data:
dialogs/data/typography.toml.
"""

from __future__ import annotations

import difflib
import json
import re
import tomllib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import autocorrect_py

from .polite import Finding

RULES_FILE = Path(__file__).parent / "data" / "typography.toml"

HAN = r"\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
# Han, CJK marks (、。「」…), full-width marks (，！？：；（）…) but not full-width letters/digits
ZH = HAN + r"\u3000-\u303f\uff01-\uff0f\uff1a-\uff20\uff3b-\uff40\uff5b-\uff65“”‘’…—"
_HAN_RE = re.compile(f"[{HAN}]")
_HAN_ONLY = re.compile(f"[{HAN}]+")
_CONTEXT = 3  # characters shown either side of a punctuation finding


@dataclass(frozen=True, slots=True)
class _Rule:
    pattern: re.Pattern[str]
    to: dict[str, str]


@dataclass(frozen=True, slots=True)
class _Rules:
    fullwidth: dict[str, str]
    autocorrect: dict[str, int]
    punctuation: tuple[_Rule, ...]
    before_salutation: tuple[str, ...]
    salutation_rewrite: str
    doubled_min: int
    doubled_max: int
    doubled_allowed: frozenset[str]
    doubled_rewrite: str


@lru_cache(maxsize=4)
def _rules(path: str) -> _Rules:
    with open(path, "rb") as fh:
        raw: dict[str, Any] = tomllib.load(fh)
    punct, sal, dbl = raw["punctuation"], raw["salutation"], raw["doubled"]
    rules = tuple(
        _Rule(
            re.compile(r["pattern"].replace("{han}", HAN).replace("{zh}", ZH)),
            dict(r.get("to", {})),
        )
        for r in punct.get("rule", [])
    )
    return _Rules(
        fullwidth=dict(punct["fullwidth"]),
        autocorrect=dict(punct["autocorrect"]),
        punctuation=rules,
        before_salutation=tuple(sal["before"]),
        salutation_rewrite=sal["rewrite"],
        doubled_min=int(dbl["min_chars"]),
        doubled_max=int(dbl["max_chars"]),
        doubled_allowed=frozenset(dbl["allowed"]),
        doubled_rewrite=dbl["rewrite"],
    )


_configured: list[str] = []


def _autocorrect(text: str, rules: _Rules) -> str:
    # autocorrect-py keeps one process-wide configuration: load ours once (again if it changed)
    config = json.dumps({"rules": rules.autocorrect}, sort_keys=True)
    if _configured != [config]:
        autocorrect_py.load_config(config)
        _configured[:] = [config]
    return autocorrect_py.format(text)


def _apply(rule: _Rule, text: str, fullwidth: dict[str, str]) -> str:
    def sub(m: re.Match[str]) -> str:
        spans = sorted(
            (m.span(g), g) for g, v in m.groupdict().items() if v is not None and m.start(g) >= 0
        )
        out, pos = [], m.start()
        for (start, end), g in spans:
            out.append(m.string[pos:start])
            if g in rule.to:
                out.append(rule.to[g])
            elif g.startswith("p"):
                out.append("".join(fullwidth.get(c, c) for c in m.group(g)))
            else:
                out.append(m.group(g))
            pos = end
        out.append(m.string[pos : m.end()])
        return "".join(out)

    return rule.pattern.sub(sub, text)


def fix_punctuation(text: str, rules_file: Path = RULES_FILE) -> str:
    """Half-width marks in Chinese sentences made full-width; numbers, times, ticket and phone
    numbers, and text without Chinese are left as they are."""
    if not _HAN_RE.search(text):
        return text
    rules = _rules(str(rules_file))
    out = _autocorrect(text, rules)
    for _ in range(4):  # a converted mark can make its neighbour convertible (好的!!!)
        before = out
        for rule in rules.punctuation:
            out = _apply(rule, out, rules.fullwidth)
        if out == before:
            break
    return out


def check_punctuation(text: str, rules_file: Path = RULES_FILE) -> list[Finding]:
    """Every place fix_punctuation would change, with a little context either side."""
    fixed = fix_punctuation(text, rules_file)
    if fixed == text:
        return []
    found = []
    changes = difflib.SequenceMatcher(None, text, fixed, autojunk=False).get_opcodes()
    spans: list[list[int]] = []  # [i1, i2, j1, j2], nearby changes merged into one finding
    for op, i1, i2, j1, j2 in changes:
        if op == "equal":
            continue
        if spans and i1 - spans[-1][1] <= 2 * _CONTEXT:
            spans[-1][1], spans[-1][3] = i2, j2
        else:
            spans.append([i1, i2, j1, j2])
    for i1, i2, j1, j2 in spans:
        a, b = max(0, i1 - _CONTEXT), min(len(text), i2 + _CONTEXT)
        c, d = max(0, j1 - _CONTEXT), min(len(fixed), j2 + _CONTEXT)
        found.append(Finding(text[a:b], fixed[c:d], i1))
    return found


def check_salutation(text: str, salutation: str, rules_file: Path = RULES_FILE) -> list[Finding]:
    """The owner's salutation used as a third person after 请问 / 为 / 帮 …: address the owner."""
    if not salutation:
        return []
    rules = _rules(str(rules_file))
    words = "|".join(re.escape(w) for w in rules.before_salutation)
    pattern = re.compile(f"({words}){re.escape(salutation)}")
    return [
        Finding(
            m.group(0),
            rules.salutation_rewrite.format(salutation=salutation, word=m.group(1)),
            m.start(),
        )
        for m in pattern.finditer(text)
    ]


def check_doubled(text: str, rules_file: Path = RULES_FILE) -> list[Finding]:
    """A Chinese word typed twice in a row (上门上门, 的的), unless it is a real reduplication."""
    rules = _rules(str(rules_file))
    found: list[Finding] = []
    i = 0
    while i < len(text):
        for n in range(rules.doubled_min, rules.doubled_max + 1):
            word = text[i : i + n]
            if (
                len(word) == n
                and text[i + n : i + 2 * n] == word
                and _HAN_ONLY.fullmatch(word)
                and word * 2 not in rules.doubled_allowed
            ):
                found.append(Finding(word * 2, rules.doubled_rewrite.format(word=word), i))
                i += 2 * n - 1
                break
        i += 1
    return found


def check_wording(text: str, salutation: str = "", rules_file: Path = RULES_FILE) -> list[Finding]:
    """The salutation as a third person and doubled words, in the order of the text."""
    found = check_salutation(text, salutation, rules_file) + check_doubled(text, rules_file)
    return sorted(found, key=lambda f: f.start)


def check_typography(
    text: str, salutation: str = "", rules_file: Path = RULES_FILE
) -> list[Finding]:
    """All three checks, in the order of the text (what the template lint runs)."""
    found = check_punctuation(text, rules_file) + check_wording(text, salutation, rules_file)
    return sorted(found, key=lambda f: f.start)
