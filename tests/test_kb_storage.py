"""The knowledge base in the database (SQLite, and PostgreSQL when TEST_DATABASE_URL names one):
every change recorded, validity and buildings honoured, misses counted together, and a change
made in another session seen by the next question despite the per-process index."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
import sqlalchemy as sa

from dialogs.ports import KbMatch, Where
from storage.kb_repo import EntryInvalid, KnowledgeRepo
from storage.models import KbChange, KbEntry
from storage.uow import UnitOfWork

NOW = datetime(2026, 11, 23, 6, 0, tzinfo=UTC)  # 14:00 in Shanghai
FEE = "物业费怎么交？"


async def _add(sessionmaker, question=FEE, answer="请在小程序中缴纳。", **kw) -> int:
    async with UnitOfWork(sessionmaker) as uow:
        entry_id = await uow.ports.knowledge.add(question, answer, actor="小林", now=NOW, **kw)
        await uow.commit()
    return entry_id


async def _ask(sessionmaker, question, where=None, now=NOW) -> list[KbMatch]:
    async with UnitOfWork(sessionmaker) as uow:
        return await uow.ports.knowledge.ask(question, where or Where(), now)


async def test_an_entry_is_found_and_each_change_is_recorded(sessionmaker):
    entry_id = await _add(sessionmaker, alternatives=["管理费在哪交", "管理费在哪交", FEE])
    [best] = (await _ask(sessionmaker, "管理費怎麼繳"))[:1]
    assert (best.entry_id, best.question, best.answer) == (entry_id, FEE, "请在小程序中缴纳。")
    async with UnitOfWork(sessionmaker) as uow:
        repo = uow.ports.knowledge
        assert isinstance(repo, KnowledgeRepo)
        e = await repo.get(entry_id)
        assert e.alternatives == ["管理费在哪交"] and e.updated_by == "小林"
        assert await repo.edit(entry_id, actor="小王", now=NOW, answer="也可以到前台缴纳。")
        assert await repo.edit(entry_id, actor="小王", now=NOW, answer="也可以到前台缴纳。")
        assert await repo.set_active(entry_id, False, actor="小王", now=NOW)
        assert await repo.set_active(entry_id, False, actor="小王", now=NOW)  # already off
        assert await repo.set_active(entry_id, True, actor="cli", now=NOW)
        assert not await repo.edit(999, actor="小王", now=NOW, answer="x")
        assert not await repo.set_active(999, False, actor="小王", now=NOW)
        await uow.commit()
    async with UnitOfWork(sessionmaker) as uow:
        changes = list(
            await uow.session.scalars(
                sa.select(KbChange).where(KbChange.entry_id == entry_id).order_by(KbChange.id)
            )
        )
    # an edit or a switch that changes nothing is not recorded
    assert [(c.action, c.actor) for c in changes] == [
        ("add", "小林"),
        ("edit", "小王"),
        ("off", "小王"),
        ("on", "cli"),
    ]
    assert changes[0].before == {} and changes[0].after["question"] == FEE
    assert changes[1].before["answer"] == "请在小程序中缴纳。"
    assert changes[1].after["answer"] == "也可以到前台缴纳。"
    assert (changes[2].before["active"], changes[2].after["active"]) == (True, False)


async def test_an_entry_turned_off_is_not_given(sessionmaker):
    entry_id = await _add(sessionmaker)
    async with UnitOfWork(sessionmaker) as uow:
        assert (await uow.ports.knowledge.entry(entry_id)).question == FEE
        await uow.ports.knowledge.set_active(entry_id, False, actor="小王", now=NOW)
        await uow.commit()
    assert await _ask(sessionmaker, FEE) == []
    async with UnitOfWork(sessionmaker) as uow:
        assert await uow.ports.knowledge.entry(entry_id) is None
        assert await uow.ports.knowledge.entry(12345) is None


async def test_an_unusable_entry_is_refused_and_nothing_is_stored(sessionmaker):
    async with UnitOfWork(sessionmaker) as uow:
        repo = uow.ports.knowledge
        with pytest.raises(EntryInvalid) as e:
            await repo.add(FEE, "  ", actor="小林", now=NOW)
        assert e.value.problems == [("missing_answer", "")]
        entry_id = await repo.add(FEE, "答案", actor="小林", now=NOW)
        with pytest.raises(EntryInvalid):
            await repo.edit(
                entry_id,
                actor="小林",
                now=NOW,
                valid_from=date(2027, 2, 1),
                valid_until=date(2027, 1, 1),
            )
        with pytest.raises(TypeError):
            await repo.edit(entry_id, actor="小林", now=NOW, active=False)
        assert (await repo.get(entry_id)).valid_from is None
        count = await uow.session.scalar(sa.select(sa.func.count(KbEntry.id)))
    assert count == 1


async def test_only_entries_valid_on_the_local_day_are_given(sessionmaker):
    await _add(sessionmaker, "春节物业上班吗？", "节前", valid_until=date(2027, 2, 5))
    await _add(sessionmaker, "春节物业上班吗", "节后", valid_from=date(2027, 2, 6))
    # 17:00 UTC on the 5th is already the 6th in Shanghai
    late = datetime(2027, 2, 5, 17, 0, tzinfo=UTC)
    answers = [m.answer for m in await _ask(sessionmaker, "春节物业上班吗", now=late)]
    assert answers == ["节后"]
    early = late - timedelta(hours=2)
    assert [m.answer for m in await _ask(sessionmaker, "春节物业上班吗", now=early)] == ["节前"]


async def test_an_entry_for_some_buildings_is_given_only_to_their_owners(sessionmaker):
    await _add(
        sessionmaker,
        "电梯停运期间怎么上下楼？",
        "请走西侧楼梯。",
        community="阳光花园",
        buildings=["3栋", "5"],
    )
    await _add(sessionmaker, "电梯多久保养一次？", "每15天。")
    q = "电梯停运期间怎么上下楼"
    for building in ("3", "3栋", "5"):
        got = await _ask(sessionmaker, q, Where("阳光花园", building))
        assert got[0].answer == "请走西侧楼梯。", building
    for where in (Where("阳光花园", "1"), Where("翠湖苑", "3"), Where()):
        assert "请走西侧楼梯。" not in [m.answer for m in await _ask(sessionmaker, q, where)]


async def test_misses_are_counted_together_and_by_week(sessionmaker):
    async with UnitOfWork(sessionmaker) as uow:
        k = uow.ports.knowledge
        await k.log_miss("小区游泳池几点开放？", None, "none", NOW - timedelta(days=9))
        await k.log_miss("请问游泳池几点开放", None, "none", NOW - timedelta(days=1))
        await k.log_miss("遊泳池幾點開放啊", None, "declined", NOW)
        await k.log_miss("请问游泳池几点开放？", None, "none", NOW)
        await k.log_miss("健身房在哪", None, "other", NOW)
        await uow.commit()
    async with UnitOfWork(sessionmaker) as uow:
        week = await uow.ports.knowledge.misses(NOW - timedelta(days=7))
        top = await uow.ports.knowledge.misses(NOW - timedelta(days=7), limit=1)
    assert week == [("游泳池几点开放", "请问游泳池几点开放？", 3), ("健身房在哪", "健身房在哪", 1)]
    assert top == week[:1]


async def test_a_change_in_another_session_is_seen_by_the_next_question(sessionmaker):
    entry_id = await _add(sessionmaker)
    assert (await _ask(sessionmaker, FEE))[0].answer == "请在小程序中缴纳。"
    # the same `now`, the same count of entries: the change is still seen
    async with UnitOfWork(sessionmaker) as uow:
        await uow.ports.knowledge.edit(entry_id, actor="小王", now=NOW, answer="到前台缴纳。")
        await uow.commit()
    assert (await _ask(sessionmaker, FEE))[0].answer == "到前台缴纳。"
    # an entry written by another process straight into the table is seen too
    async with sessionmaker() as s:
        s.add(
            KbEntry(
                question="门禁卡怎么办理？",
                alternatives=[],
                answer="带身份证到前台。",
                category="",
                community="",
                buildings=[],
                active=True,
                updated_by="sql",
                created_at=NOW,
                updated_at=NOW,
            )
        )
        await s.commit()
    assert (await _ask(sessionmaker, "门禁卡怎么办"))[0].answer == "带身份证到前台。"


async def test_an_uncommitted_change_seen_in_its_transaction_is_forgotten_on_rollback(
    sessionmaker,
):
    await _add(sessionmaker)
    async with UnitOfWork(sessionmaker) as uow:
        await uow.ports.knowledge.add("门禁卡怎么办理？", "前台。", actor="小林", now=NOW)
        assert (await uow.ports.knowledge.ask("门禁卡怎么办理", Where(), NOW))[0].answer == "前台。"
        await uow.rollback()
    # SQLite gives the next rows the ids the rolled-back ones had: the same version, other rows
    await _add(sessionmaker, "发票怎么开？", "缴费后在小程序中申请。")
    assert all(m.answer != "前台。" for m in await _ask(sessionmaker, "门禁卡怎么办理"))
    assert (await _ask(sessionmaker, "发票怎么开"))[0].answer == "缴费后在小程序中申请。"
