"""Consultations the bot answered by itself (kb_answers) in the database (SQLite, and PostgreSQL
when TEST_DATABASE_URL names one): a row when an answer is shown, its outcome set by the owner's
first word back and never by a later one. The in-memory fake the dialog tests use keeps the
same rule."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from storage.models import KbAnswer
from storage.uow import UnitOfWork

from .memory_ports import MemKnowledge

NOW = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai


async def _account(sessionmaker) -> int:
    async with UnitOfWork(sessionmaker) as uow:
        acc = await uow.accounts.get_or_create("telegram", "701", "701", "x", NOW)
        await uow.commit()
        return acc.id


async def _rows(sessionmaker) -> list[tuple]:
    async with UnitOfWork(sessionmaker) as uow:
        found = await uow.session.scalars(sa.select(KbAnswer).order_by(KbAnswer.id))
        return [(r.account_id, r.entry_id, r.source, r.outcome, r.at) for r in found]


async def test_an_answer_is_stored_shown_with_its_id(sessionmaker):
    account = await _account(sessionmaker)
    async with UnitOfWork(sessionmaker) as uow:
        kb = uow.ports.knowledge
        entry = await kb.log_answer(account, 7, "entry", NOW)
        notice = await kb.log_answer(None, None, "notice", NOW + timedelta(minutes=1))
        # flushed: the ids are there before the commit, for the dialog to keep
        assert isinstance(entry, int) and isinstance(notice, int) and entry != notice
        await uow.commit()
    assert await _rows(sessionmaker) == [
        (account, 7, "entry", "shown", NOW),
        (None, None, "notice", "shown", NOW + timedelta(minutes=1)),
    ]


async def test_the_first_outcome_counts_and_a_later_one_changes_nothing(sessionmaker):
    account = await _account(sessionmaker)
    async with UnitOfWork(sessionmaker) as uow:
        kb = uow.ports.knowledge
        solved = await kb.log_answer(account, 1, "entry", NOW)
        human = await kb.log_answer(account, 2, "entry", NOW)
        left = await kb.log_answer(account, 3, "entry", NOW)
        await uow.commit()
    async with UnitOfWork(sessionmaker) as uow:
        await uow.ports.knowledge.answer_outcome(solved, "solved")
        await uow.ports.knowledge.answer_outcome(human, "human")
        await uow.commit()
    async with UnitOfWork(sessionmaker) as uow:
        # a stale tap, a repeated one, an id that is not there: nothing changes, nothing fails
        await uow.ports.knowledge.answer_outcome(solved, "declined")
        await uow.ports.knowledge.answer_outcome(human, "solved")
        await uow.ports.knowledge.answer_outcome(left + 100, "solved")
        await uow.commit()
    assert [(r[1], r[3]) for r in await _rows(sessionmaker)] == [
        (1, "solved"),
        (2, "human"),
        (3, "shown"),  # no word back: answered without a person
    ]


async def test_nothing_is_kept_when_the_step_rolls_back(sessionmaker):
    async with UnitOfWork(sessionmaker) as uow:
        await uow.ports.knowledge.log_answer(None, 1, "entry", NOW)
        # no commit: the repository never commits by itself
    assert await _rows(sessionmaker) == []


async def test_the_memory_fake_keeps_the_same_rule():
    kb = MemKnowledge()
    first = await kb.log_answer(1, 1, "entry", NOW)
    second = await kb.log_answer(1, None, "notice", NOW)
    await kb.answer_outcome(first, "solved")
    await kb.answer_outcome(first, "declined")
    await kb.answer_outcome(second + 100, "solved")
    assert first != second
    assert kb.answers == {first: [1, 1, "entry", "solved"], second: [1, None, "notice", "shown"]}
