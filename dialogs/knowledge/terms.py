"""The terms a normalised question is matched on: jieba's words, and pairs of neighbouring
Chinese characters. The pairs make matching robust where jieba cuts a sentence differently than
an entry (SQLite's trigram search, by contrast, never sees a two-character word such as 停水).

jieba's dictionary takes about half a second to load: it is loaded once per process, on the first
question, quietly (its progress lines would fill the operator's terminal and the bot's log), and
importing this module costs nothing, so commands that never match start at once."""

from __future__ import annotations

import itertools
import logging
import threading
import warnings
from typing import Any

from .settings import load_settings
from .text import canonical_words

WORD = "w:"
PAIR = "b:"

_lock = threading.Lock()
_cutter: Any = None


def _is_han(ch: str) -> bool:
    """A Chinese character (the unified ideographs and their extension A)."""
    code = ord(ch)
    return 0x4E00 <= code <= 0x9FFF or 0x3400 <= code <= 0x4DBF


def cutter() -> Any:
    """jieba's word cutter, loaded once, knowing the entries' own words (物业费, 门禁卡…)."""
    global _cutter
    if _cutter is None:
        with _lock:
            if _cutter is None:
                with warnings.catch_warnings():
                    # jieba 0.42 imports pkg_resources, which warns that it is deprecated
                    warnings.simplefilter("ignore")
                    import jieba
                jieba.setLogLevel(logging.WARNING)
                made = jieba.Tokenizer()
                made.initialize()
                for word in sorted(canonical_words()):
                    if len(word) > 1 and " " not in word:
                        made.add_word(word)
                _cutter = made
    return _cutter


def terms(normalised: str) -> list[str]:
    """The question's terms, repeated as often as they occur (BM25 counts them)."""
    settings = load_settings()
    stop, particles = settings.stop, settings.particles
    out = [WORD + w for w in cutter().lcut(normalised, HMM=True) if w.strip() and w not in stop]
    for chunk in normalised.split():
        chars = [c for c in chunk if c not in particles]
        for a, b in itertools.pairwise(chars):
            if _is_han(a) and _is_han(b):
                out.append(PAIR + a + b)
    return out
