"""The knowledge base (常见问题) without a database: questions folded and cut into terms, entries
ranked for a question, thresholds for answering. storage/kb_repo.py keeps the entries and caches
the index; the 咨询 flow asks it through dialogs.ports.Knowledge."""

from .entries import (
    MAX_ANSWER,
    MAX_QUESTION,
    SEPARATOR,
    IndexEntry,
    applies,
    buildings,
    local_day,
    phrasings,
    problems,
)
from .index import Hit, KbIndex
from .settings import KbSettings, KbSettingsError, load_settings, thresholds
from .text import miss_key, normalise


def warm_up() -> None:
    """Load jieba's dictionary and OpenCC now (about half a second, once per process) rather
    than on the first owner's question; a process that answers questions may call it at start,
    in a thread."""
    from .terms import cutter

    cutter()
    normalise("")


__all__ = [
    "MAX_ANSWER",
    "MAX_QUESTION",
    "SEPARATOR",
    "Hit",
    "IndexEntry",
    "KbIndex",
    "KbSettings",
    "KbSettingsError",
    "applies",
    "buildings",
    "load_settings",
    "local_day",
    "miss_key",
    "normalise",
    "phrasings",
    "problems",
    "thresholds",
    "warm_up",
]
