"""An owner's question as the knowledge base compares it: simplified characters, half-width
letters and digits, lower case, no punctuation, and the owners' words folded into the entries'
words (dialogs/data/kb_synonyms.toml). Questions and entries go through the same folding, so
"管理費怎麼繳？" and "物业费怎么交" read the same."""

from __future__ import annotations

import re
import threading
from functools import lru_cache

from .settings import fold_width, load_settings, load_synonyms

# anything but a letter or a digit (Chinese characters are letters) separates words
_NOT_WORD = re.compile(r"[\W_]+")
_lock = threading.Lock()
_converter = None


def simplified(text: str) -> str:
    """Traditional characters as simplified (OpenCC t2s), made once per process."""
    global _converter
    if _converter is None:
        with _lock:
            if _converter is None:
                from opencc import OpenCC

                _converter = OpenCC("t2s")
    return _converter.convert(text)


def _plain(text: str) -> str:
    """Width, case, script and punctuation folded: no synonyms yet."""
    return " ".join(_NOT_WORD.sub(" ", simplified(fold_width(text or ""))).split())


@lru_cache(maxsize=1)
def _folding() -> tuple[dict[str, str], tuple[int, ...]]:
    """The synonyms with their words folded like any text (an operator may type them in
    traditional characters or full width), and the word lengths to try, longest first."""
    fold: dict[str, str] = {}
    for word, head in load_synonyms().items():
        w = _plain(word)
        if w:
            fold[w] = _plain(head)
    return fold, tuple(sorted({len(w) for w in fold}, reverse=True))


def fold_synonyms(text: str) -> str:
    """Scanning from the left, the longest listed word at each place becomes its group's word."""
    fold, lengths = _folding()
    out: list[str] = []
    i, n = 0, len(text)
    while i < n:
        for size in lengths:
            if size <= n - i:
                head = fold.get(text[i : i + size])
                if head is not None:
                    out.append(head)
                    i += size
                    break
        else:
            out.append(text[i])
            i += 1
    return "".join(out)


def normalise(text: str) -> str:
    """The question folded for matching; words stay apart where punctuation or spaces were."""
    return fold_synonyms(_plain(text))


def without_fillers(normalised: str) -> str:
    """A normalised text without what is said around a question (请问, 谢谢…)."""
    text = normalised
    for filler in load_settings().fillers:
        text = text.replace(filler, " ")
    return text


def compact(normalised: str) -> str:
    """Without fillers, particles (吗, 呢, 了…) and spaces: what the fuzzy comparison and the
    count of misses look at ("物业费怎么交啊" is "物业费怎么交")."""
    particles = load_settings().particles
    return "".join(c for c in without_fillers(normalised) if c not in particles and not c.isspace())


def miss_key(question: str) -> str:
    """Equal questions count together in the misses: "请问物業費怎麼交啊？" and "物业费怎么交"."""
    return compact(normalise(question))


def canonical_words() -> set[str]:
    """The words the entries use (each synonym group's own word), for the word cutter."""
    return set(_folding()[0].values())
