"""The knowledge base's numbers and word lists, from dialogs/data/kb.toml and kb_synonyms.toml:
files an operator reads and edits, checked when loaded so a bad edit is named, not guessed at."""

from __future__ import annotations

import tomllib
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

DATA_DIR = Path(__file__).resolve().parent.parent / "data"
SETTINGS_FILE = DATA_DIR / "kb.toml"
SYNONYMS_FILE = DATA_DIR / "kb_synonyms.toml"


class KbSettingsError(ValueError):
    """kb.toml or kb_synonyms.toml cannot be used: the file and each problem named."""

    def __init__(self, path: Path, problems: list[str]):
        super().__init__(f"{path}: " + "; ".join(problems))
        self.path = path
        self.problems = problems


@dataclass(frozen=True, slots=True)
class KbSettings:
    confident: float
    middling: float
    k1: float
    b: float
    word: float
    bigram: float
    asking: float
    fuzzy: float
    ambiguity_margin: float
    candidates: int
    common_share: float
    fillers: tuple[str, ...]
    particles: frozenset[str]
    asking_words: frozenset[str]
    stop: frozenset[str]


def _number(table: dict, key: str, low: float, high: float, problems: list[str]) -> float:
    value = table.get(key)
    if isinstance(value, bool) or not isinstance(value, int | float):
        problems.append(f"{key}: a number is needed")
        return low
    if not low <= value <= high:
        problems.append(f"{key} = {value}: must be between {low} and {high}")
    return float(value)


def _words(table: dict, key: str, problems: list[str]) -> list[str]:
    value = table.get(key, [])
    if not isinstance(value, list) or not all(isinstance(w, str) and w.strip() for w in value):
        problems.append(f"words.{key}: a list of words is needed")
        return []
    return [fold_width(w) for w in value]


def fold_width(text: str) -> str:
    """Full-width letters and digits half-width, lower case: how every text is compared."""
    return unicodedata.normalize("NFKC", text).lower().strip()


@lru_cache(maxsize=4)
def load_settings(path: Path = SETTINGS_FILE) -> KbSettings:
    with open(path, "rb") as fh:
        data = tomllib.load(fh)
    problems: list[str] = []
    th, sc, words = data.get("thresholds", {}), data.get("scoring", {}), data.get("words", {})
    confident = _number(th, "confident", 0.0, 1.0, problems)
    middling = _number(th, "middling", 0.0, 1.0, problems)
    particles = frozenset(_words(words, "particles", problems))
    if middling >= confident:
        problems.append("middling must be below confident")
    settings = KbSettings(
        confident=confident,
        middling=middling,
        k1=_number(sc, "k1", 0.0, 10.0, problems),
        b=_number(sc, "b", 0.0, 1.0, problems),
        word=_number(sc, "word", 0.0, 10.0, problems),
        bigram=_number(sc, "bigram", 0.0, 10.0, problems),
        asking=_number(sc, "asking", 0.0, 10.0, problems),
        fuzzy=_number(sc, "fuzzy", 0.0, 1.0, problems),
        ambiguity_margin=_number(sc, "ambiguity_margin", 0.0, 1.0, problems),
        candidates=int(_number(sc, "candidates", 1, 1000, problems)),
        common_share=_number(sc, "common_share", 0.0, 1.0, problems),
        # the longest first: "请问一下" goes before "请问" can leave "一下" behind
        fillers=tuple(sorted(_words(words, "fillers", problems), key=len, reverse=True)),
        particles=particles,
        asking_words=frozenset(_words(words, "asking", problems)),
        stop=frozenset(_words(words, "stop", problems)) | particles,
    )
    if problems:
        raise KbSettingsError(path, problems)
    return settings


def thresholds(path: Path = SETTINGS_FILE) -> tuple[float, float]:
    """(confident, middling): a match at or above `confident` is answered at once; at or above
    `middling` the owner is asked "您是想问"; below, a person answers."""
    s = load_settings(path)
    return s.confident, s.middling


@lru_cache(maxsize=4)
def load_synonyms(path: Path = SYNONYMS_FILE) -> dict[str, str]:
    """Every listed word (width-folded, lower case) → its group's word. A group's own word maps to
    itself, so a longer word of another group is never cut out of it."""
    with open(path, "rb") as fh:
        data = tomllib.load(fh)
    problems: list[str] = []
    fold: dict[str, str] = {}
    groups = data.get("fold", {})
    for head, variants in groups.items():
        if not isinstance(variants, list) or not all(isinstance(v, str) for v in variants):
            problems.append(f"{head}: a list of words is needed")
            continue
        head_n = fold_width(head)
        for word in (head, *variants):
            w = fold_width(word)
            if not w:
                continue
            if fold.get(w, head_n) != head_n:
                problems.append(f"{word}: in two groups ({fold[w]}, {head_n})")
            fold[w] = head_n
    if problems:
        raise KbSettingsError(path, problems)
    return fold
