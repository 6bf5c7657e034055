"""Notices in the database (SQLite, and PostgreSQL when TEST_DATABASE_URL names one): the port's
`active`, what agents and the CLI do with a notice, who was told, and who counts as a verified
owner of the affected units. The in-memory port keeps the same rule for `active`."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from bot.paths import SAMPLE_OWNERS
from dialogs.ports import Where
from storage.models import UnitOwner
from storage.notice_repo import NoticesRepo
from storage.owner_import import import_owners
from storage.uow import UnitOfWork

from .memory_ports import MemNotices

NOW = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)  # Monday 10:00 in Shanghai
C = "阳光花园"


async def load_owners(sm) -> None:
    async with UnitOfWork(sm) as uow:
        assert (await import_owners(uow.session, SAMPLE_OWNERS.read_bytes())).ok
        await uow.commit()


async def account(sm, ext: str, phone: str = "", verified: bool = False, channel="telegram"):
    async with UnitOfWork(sm) as uow:
        acc = await uow.accounts.get_or_create(channel, ext, ext, "x", NOW)
        acc.phone, acc.phone_verified = phone, verified
        await uow.commit()
        return acc.id


async def test_create_end_extend_and_list(sessionmaker):
    async with UnitOfWork(sessionmaker) as uow:
        repo = uow.ports.notices
        a = await repo.create(
            "water", C, ["3", "5", "3"], NOW, NOW + timedelta(hours=4), "储水", False, "小林", NOW
        )
        b = await repo.create("lift", C, [], NOW, NOW + timedelta(hours=1), "", True, "cli", NOW)
        await uow.commit()
    async with UnitOfWork(sessionmaker) as uow:
        repo = NoticesRepo(uow.session)
        got = await repo.get(a)
        assert got.view.buildings == ("3", "5") and got.view.text == "储水" and not got.view.urgent
        assert got.state == "active" and got.created_by == "小林" and got.told == 0
        assert await repo.end(b, NOW + timedelta(minutes=30), "小林")
        assert not await repo.end(b, NOW + timedelta(minutes=31), "小林")  # once
        assert not await repo.extend(b, NOW + timedelta(hours=5), NOW, "小林")  # ended
        assert not await repo.extend(a, NOW - timedelta(minutes=1), NOW, "小林")  # the past
        assert not await repo.extend(999, NOW + timedelta(hours=5), NOW, "小林")
        assert await repo.extend(a, NOW + timedelta(hours=6), NOW, "小林")
        await uow.commit()
    async with UnitOfWork(sessionmaker) as uow:
        repo = NoticesRepo(uow.session)
        assert (await repo.get(a)).view.ends_at == NOW + timedelta(hours=6)
        ended = await repo.get(b)
        assert ended.state == "ended" and ended.ended_at == NOW + timedelta(minutes=30)
        assert [r.view.id for r in await repo.list()] == [a]
        assert [r.view.id for r in await repo.list(active_only=False)] == [b, a]
        assert await repo.list(active_only=True, now=NOW + timedelta(hours=7)) == []
        assert await repo.get(12345) is None


CASES = [
    # (kind, community, buildings, start offset h, end offset h)
    ("water", C, ["3"], -1, 3),
    ("power", C, [], -1, 3),  # every building
    ("gas", C, ["5"], -1, 3),  # another building
    ("lift", "别的小区", ["3"], -1, 3),  # another community
    ("works", C, ["3"], -5, -1),  # over
    ("other", C, ["3"], 1, 3),  # not yet
]


async def test_active_is_the_same_rule_in_memory_and_in_the_database(sessionmaker):
    mem = MemNotices()
    async with UnitOfWork(sessionmaker) as uow:
        for kind, c, bs, a, z in CASES:
            start, end = NOW + timedelta(hours=a), NOW + timedelta(hours=z)
            await uow.ports.notices.create(kind, c, bs, start, end, "", False, "t", NOW)
            mem.add(kind, c, bs, start, end)
        ended = await uow.ports.notices.create(
            "water", C, [], NOW, NOW + timedelta(hours=1), "", False, "t", NOW
        )
        await uow.ports.notices.end(ended, NOW, "t")
        await uow.commit()
    for where, expected in (
        (Where(C, "3"), ["water", "power"]),
        (Where(C, "5"), ["power", "gas"]),
        (Where("别的小区", "3"), ["lift"]),
        (Where("", "3"), []),
    ):
        async with UnitOfWork(sessionmaker) as uow:
            sql = [n.kind for n in await uow.ports.notices.active(where, NOW)]
        assert sql == expected, where
        assert [n.kind for n in await mem.active(where, NOW)] == expected, where


async def test_recipients_are_recorded_once(sessionmaker):
    one, two = await account(sessionmaker, "1"), await account(sessionmaker, "2")
    async with UnitOfWork(sessionmaker) as uow:
        repo = NoticesRepo(uow.session)
        nid = await repo.create("water", C, [], NOW, NOW + timedelta(hours=1), "", False, "t", NOW)
        await repo.add_recipients(nid, [two, one, two], NOW)
        await repo.add_recipients(nid, [one], NOW)
        await uow.commit()
    async with UnitOfWork(sessionmaker) as uow:
        repo = NoticesRepo(uow.session)
        assert await repo.recipients(nid) == sorted([one, two])
        assert (await repo.get(nid)).told == 2


async def test_the_audience_is_the_verified_owners_of_the_affected_units(sessionmaker):
    await load_owners(sessionmaker)
    wang = await account(sessionmaker, "wang", "13800000301", verified=True)  # 3栋
    wang_wechat = await account(sessionmaker, "wx", "13800000301", True, channel="wecom")
    await account(sessionmaker, "typed", "13800000302", verified=False)  # 3栋, not proven
    await account(sessionmaker, "tenant", "13911112222", verified=True)  # not in the registry
    zhou = await account(sessionmaker, "zhou", "13800000501", verified=True)  # 5栋, two units
    await account(sessionmaker, "noone", "", verified=True)
    async with UnitOfWork(sessionmaker) as uow:
        repo = NoticesRepo(uow.session)
        three = await repo.audience(C, ["3"])
        assert [x.account_id for x in three] == [wang, wang_wechat]
        assert {x.salutation for x in three} == {"王女士"}
        assert {x.channel for x in three} == {"telegram", "wecom"}
        both = await repo.audience(C, ["3", "5"])
        assert [x.account_id for x in both] == [wang, wang_wechat, zhou]  # 周女士 once
        assert [x.account_id for x in await repo.audience(C, [])] == [wang, wang_wechat, zhou]
        assert await repo.audience("别的小区", []) == []
        # an owner who left the unit is not told any more
        await uow.session.execute(sa.update(UnitOwner).values(active=False))
        assert await repo.audience(C, []) == []
        # those told are told again by account, wherever they live now
        again = await repo.listeners([zhou, wang])
        assert [(x.account_id, x.salutation) for x in again] == [(wang, "王女士"), (zhou, "周女士")]
