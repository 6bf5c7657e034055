"""The knowledge base (常见问题) in the database: entries, every change to them, the questions it
could not answer, the consultations it did answer (kb_answers). Implements
dialogs.ports.Knowledge. Never commits.

Matching runs in Python over an index built from the active entries (dialogs/knowledge), the same
on SQLite and PostgreSQL. The index is kept per process and per database, under a version read
with one cheap query (the latest entry and the latest recorded change): a change made by another
process, or another session of this one, is seen by the next question. (An entry changed by hand
in SQL, without a KbChange row, is seen after the next change or a restart.)"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from dialogs.clean_text import clean_text
from dialogs.knowledge import (
    IndexEntry,
    KbIndex,
    buildings,
    local_day,
    miss_key,
    phrasings,
    problems,
)
from dialogs.ports import KbMatch, Where

from .models import KbAnswer, KbChange, KbEntry, KbMiss

EDITABLE = (
    "question",
    "alternatives",
    "answer",
    "category",
    "community",
    "buildings",
    "valid_from",
    "valid_until",
)
# per process: database → (version, index); a new version builds a new index from the old one
_INDEXES: dict[str, tuple[tuple, KbIndex]] = {}
# set on a session that changed entries: its index is its own (it may yet roll back)
_CHANGED = "kb_changed"


class EntryInvalid(ValueError):
    """An entry that cannot be stored: `problems` as dialogs.knowledge.problems() names them."""

    def __init__(self, found: list[tuple[str, str]]):
        super().__init__(", ".join(code for code, _ in found))
        self.problems = found


def _check(values: dict[str, Any]) -> None:
    found = problems(**{k: v for k, v in values.items() if k != "buildings"})
    if found:
        raise EntryInvalid(found)


def snapshot(e: KbEntry) -> dict[str, Any]:
    """An entry as a KbChange stores it (JSON: dates as YYYY-MM-DD)."""
    out: dict[str, Any] = {k: getattr(e, k) for k in EDITABLE}
    out["alternatives"] = list(e.alternatives or [])
    out["buildings"] = list(e.buildings or [])
    for k in ("valid_from", "valid_until"):
        out[k] = out[k].isoformat() if out[k] else None
    out["active"] = bool(e.active)
    return out


def to_index_entry(e: KbEntry) -> IndexEntry:
    return IndexEntry(
        id=e.id,
        question=e.question,
        answer=e.answer,
        category=e.category or "",
        alternatives=tuple(e.alternatives or ()),
        community=e.community or "",
        buildings=tuple(e.buildings or ()),
        valid_from=e.valid_from,
        valid_until=e.valid_until,
    )


def _clean(field: str, value: Any) -> Any:
    """A field as stored: text cleaned and stripped, lists without repeats, buildings as the
    registry writes them."""
    if field in ("question", "answer", "category", "community"):
        return clean_text(value or "").strip()
    if field == "alternatives":
        return list(phrasings(value or ()))
    if field == "buildings":
        return list(buildings(value or ()))
    if value is not None and not isinstance(value, date):
        raise TypeError(f"{field}: a date or None")
    return value


class KnowledgeRepo:
    def __init__(self, session: AsyncSession, tz: str = "Asia/Shanghai"):
        self.s = session
        self.tz = tz

    # --- answering (dialogs.ports.Knowledge) -------------------------------------------------
    async def ask(
        self, question: str, where: Where, now: datetime, limit: int = 3
    ) -> list[KbMatch]:
        index = await self.index()
        hits = index.search(question, where=where, day=local_day(now, self.tz), limit=limit)
        return [
            KbMatch(h.entry.id, h.entry.question, h.entry.answer, h.entry.category, h.score)
            for h in hits
        ]

    async def entry(self, entry_id: int) -> KbMatch | None:
        e = await self.get(entry_id)
        if e is None or not e.active:
            return None
        return KbMatch(e.id, e.question, e.answer, e.category, 1.0)

    async def log_miss(
        self, question: str, account_id: int | None, reason: str, now: datetime
    ) -> None:
        question = clean_text(question).strip()
        key = miss_key(question) or question
        self.s.add(
            KbMiss(
                question=question[:1000],
                normalized=key[:200],
                account_id=account_id,
                reason=reason[:16],
                at=now,
            )
        )
        await self.s.flush()

    async def log_answer(
        self, account_id: int | None, entry_id: int | None, source: str, now: datetime
    ) -> int:
        row = KbAnswer(
            account_id=account_id, entry_id=entry_id, source=source, outcome="shown", at=now
        )
        self.s.add(row)
        await self.s.flush()  # the id, for the outcome the owner's next tap sets
        return row.id

    async def answer_outcome(self, answer_id: int, outcome: str) -> None:
        # guarded in SQL: a stale or repeated tap never overwrites the first word back
        await self.s.execute(
            sa.update(KbAnswer)
            .where(KbAnswer.id == answer_id, KbAnswer.outcome == "shown")
            .values(outcome=outcome)
        )

    async def misses(self, since: datetime, limit: int = 10) -> list[tuple[str, str, int]]:
        """The most asked unanswered questions since `since`: (folded, the latest asked, count)."""
        count = sa.func.count(KbMiss.id).label("n")
        latest = sa.func.max(KbMiss.id).label("latest")
        rows = (
            await self.s.execute(
                sa.select(KbMiss.normalized, count, latest)
                .where(KbMiss.at >= since)
                .group_by(KbMiss.normalized)
                .order_by(count.desc(), latest.desc())
                .limit(limit)
            )
        ).all()
        if not rows:
            return []
        ids = [r.latest for r in rows]
        found = await self.s.execute(
            sa.select(KbMiss.id, KbMiss.question).where(KbMiss.id.in_(ids))
        )
        examples = {r.id: r.question for r in found}
        return [(r.normalized, examples[r.latest], r.n) for r in rows]

    # --- keeping it ---------------------------------------------------------------------------
    async def get(self, entry_id: int) -> KbEntry | None:
        return await self.s.get(KbEntry, entry_id)

    async def add(
        self,
        question: str,
        answer: str,
        *,
        actor: str,
        now: datetime,
        alternatives: Iterable[str] = (),
        category: str = "",
        community: str = "",
        buildings: Iterable[str] = (),
        valid_from: date | None = None,
        valid_until: date | None = None,
    ) -> int:
        """The new entry's id; EntryInvalid (nothing stored) when it cannot be stored."""
        fields = {
            "question": question,
            "alternatives": alternatives,
            "answer": answer,
            "category": category,
            "community": community,
            "buildings": buildings,
            "valid_from": valid_from,
            "valid_until": valid_until,
        }
        values = {k: _clean(k, v) for k, v in fields.items()}
        values["alternatives"] = list(phrasings(values["alternatives"], values["question"]))
        _check(values)
        e = KbEntry(**values, active=True, updated_by=actor[:64], created_at=now, updated_at=now)
        self.s.add(e)
        await self.s.flush()
        await self._record(e, "add", {}, actor, now)
        return e.id

    async def edit(self, entry_id: int, *, actor: str, now: datetime, **fields: Any) -> bool:
        """False when there is no such entry. A change that changes nothing records nothing.
        EntryInvalid (nothing changed) when the result cannot be stored."""
        unknown = set(fields) - set(EDITABLE)
        if unknown:
            raise TypeError(f"not an entry's field: {', '.join(sorted(unknown))}")
        e = await self.get(entry_id)
        if e is None:
            return False
        values = {k: _clean(k, v) for k, v in fields.items()}
        if "alternatives" in values or "question" in values:
            question = values.get("question", e.question)
            alts = values.get("alternatives", e.alternatives or [])
            values["alternatives"] = list(phrasings(alts, question))
        _check({k: values.get(k, getattr(e, k)) for k in EDITABLE})
        before = snapshot(e)
        for k, v in values.items():
            setattr(e, k, v)
        if snapshot(e) == before:
            return True
        e.updated_by, e.updated_at = actor[:64], now
        await self.s.flush()
        await self._record(e, "edit", before, actor, now)
        return True

    async def set_active(self, entry_id: int, active: bool, *, actor: str, now: datetime) -> bool:
        """False when there is no such entry; already so: True, nothing recorded."""
        e = await self.get(entry_id)
        if e is None:
            return False
        if bool(e.active) == active:
            return True
        before = snapshot(e)
        e.active, e.updated_by, e.updated_at = active, actor[:64], now
        await self.s.flush()
        await self._record(e, "on" if active else "off", before, actor, now)
        return True

    async def entries(self, active_only: bool = True) -> list[KbEntry]:
        q = sa.select(KbEntry).order_by(KbEntry.id)
        if active_only:
            q = q.where(KbEntry.active)
        return list(await self.s.scalars(q))

    async def _record(
        self, e: KbEntry, action: str, before: dict, actor: str, now: datetime
    ) -> None:
        self.s.add(
            KbChange(
                entry_id=e.id,
                at=now,
                actor=actor[:64],
                action=action,
                before=before,
                after=snapshot(e),
            )
        )
        await self.s.flush()
        # this transaction's own changes are not the database's until it commits
        self.s.info[_CHANGED] = True

    # --- the cached index ---------------------------------------------------------------------
    async def _version(self) -> tuple:
        """Changes whenever an entry is added, changed or turned off or on, by any process:
        each such change adds a KbChange row, and an entry inserted by hand has a new id. Both
        are primary keys, so this stays cheap with many entries (a count, or the latest
        updated_at, would read the whole table each time)."""
        row = (
            await self.s.execute(
                sa.select(
                    sa.select(sa.func.max(KbEntry.id)).scalar_subquery(),
                    sa.select(sa.func.max(KbChange.id)).scalar_subquery(),
                )
            )
        ).one()
        return tuple(row)

    async def index(self) -> KbIndex:
        """The ranked index of the active entries, rebuilt only when they changed."""
        bind = self.s.bind
        where = str(getattr(bind, "url", id(bind)))
        cached = _INDEXES.get(where)
        if self.s.info.get(_CHANGED):
            # never shared: a rolled-back entry must not be given to anyone else
            return await self._build(cached and cached[1])
        version = await self._version()
        if cached is not None and cached[0] == version:
            return cached[1]
        index = await self._build(cached and cached[1])
        _INDEXES[where] = (version, index)
        return index

    async def _build(self, previous: KbIndex | None) -> KbIndex:
        entries = [to_index_entry(e) for e in await self.entries()]
        # cutting words is CPU work (jieba's first load, a large base): off the event loop
        return await asyncio.to_thread(KbIndex, entries, None, previous)
