"""One fault, one ticket: the Tickets port's shared-fault half, held to one contract in memory
and in SQL (SQLite, and PostgreSQL when TEST_DATABASE_URL is set): matching an open public
repair, following it once, seeing it in 我的工单 without the reporter's home, and a shared
ticket that one owner alone cannot withdraw."""

from __future__ import annotations

from datetime import timedelta

from . import test_ports_contract as contract
from .port_worlds import NOW
from .test_ports_contract import DAY, draft

make_world = contract.make_world  # the two worlds (memory, SQL) of the ports' contract

PLACE = {"place": "public", "community": "", "pub_building": "3", "pub_spot": "楼道"}


def public(account_id: int, owner_id=None, **kw):
    details = {"reporter_role": "owner", **PLACE, **kw.pop("place", {})}
    return draft(
        account_id,
        category="lighting",
        description="楼道灯不亮",
        location="3栋5楼楼道",
        owner_id=owner_id,
        details=details,
        **kw,
    )


async def wang_id(w) -> int:
    async with w.step() as p:
        return (await p.registry.owners_by_phone("13800000301"))[0].owner_id


async def test_an_open_public_repair_is_matched_by_building_spot_and_category(make_world):
    w = await make_world()
    me = await w.account()
    async with w.step() as p:
        older = await p.tickets.create(public(me), NOW, DAY)
        await p.tickets.create(public(me), NOW + timedelta(minutes=5), DAY)
        await p.tickets.create(draft(me, category="lighting"), NOW, DAY)  # at home: never
    since = NOW - timedelta(hours=12)
    async with w.step() as p:
        found = await p.tickets.open_public_match("3", "楼道", "lighting", since)
        # the first report of the fault, without its reporter's home
        assert found is not None and found.id == older.id and found.number == older.number
        assert found.location == "3栋5楼楼道" and found.unit_label == ""
        for other in (
            ("5", "楼道", "lighting", since),
            ("3", "电梯厅", "lighting", since),
            ("3", "楼道", "elevator", since),
            ("3", "楼道", None, since),
            ("3", "楼道", "lighting", NOW + timedelta(minutes=6)),
        ):
            assert await p.tickets.open_public_match(*other) is None, other
        assert (
            await p.tickets.open_public_match(*("3", "楼道", "lighting", since), "阳光花园") is None
        )


async def test_a_ticket_no_longer_open_is_not_matched(make_world):
    w = await make_world()
    me = await w.account()
    async with w.step() as p:
        t = await p.tickets.create(public(me), NOW, DAY)
    async with w.step() as p:
        assert await p.tickets.withdraw(t.id, NOW)
    async with w.step() as p:
        assert await p.tickets.open_public_match("3", "楼道", "lighting", NOW) is None
        assert not await p.tickets.subscribe(t.id, me + 1, None, NOW)


async def test_an_owner_follows_a_ticket_once(make_world):
    w = await make_world()
    wang = await wang_id(w)
    reporter, other, same_person, third = [await w.account() for _ in range(4)]
    async with w.step() as p:
        t = await p.tickets.create(public(reporter, owner_id=wang), NOW, DAY)
    async with w.step() as p:
        assert not await p.tickets.subscribe(t.id, reporter, wang, NOW)  # its reporter
        assert not await p.tickets.subscribe(t.id, same_person, wang, NOW)  # the same owner
        assert await p.tickets.subscribe(t.id, other, None, NOW)
    async with w.step() as p:
        assert not await p.tickets.subscribe(t.id, other, None, NOW)  # once
        assert await p.tickets.subscribe(t.id, third, None, NOW)
    async with w.step() as p:
        assert await p.tickets.unsubscribe(t.id, third, NOW)
        assert not await p.tickets.unsubscribe(t.id, third, NOW)
    async with w.step() as p:
        view = await p.tickets.get_visible(t.id, reporter, None)
    assert [e.action for e in view.events] == [
        "created",
        "subscribed",
        "subscribed",
        "unsubscribed",
    ]
    async with w.step() as p:
        assert await p.tickets.subscribe(t.id, third, None, NOW)  # joined again


async def test_a_follower_sees_the_shared_ticket_without_the_reporters_home(make_world):
    w = await make_world()
    reporter, follower = await w.account(), await w.account()
    async with w.step() as p:
        t = await p.tickets.create(public(reporter), NOW, DAY)
        assert await p.tickets.visible(follower, None, 0, 10) == ([], 0)
    async with w.step() as p:
        assert await p.tickets.subscribe(t.id, follower, None, NOW)
    async with w.step() as p:
        items, total = await p.tickets.visible(follower, None, 0, 10)
        assert total == 1 and items[0].id == t.id and items[0].unit_label == ""
        seen = await p.tickets.get_visible(t.id, follower, None)
        assert seen is not None and seen.unit_label == "" and seen.location == "3栋5楼楼道"
        mine = await p.tickets.get_visible(t.id, reporter, None)
        assert mine.unit_label == "3栋1单元3A室"
    async with w.step() as p:
        assert await p.tickets.unsubscribe(t.id, follower, NOW)
    async with w.step() as p:
        assert await p.tickets.visible(follower, None, 0, 10) == ([], 0)
        assert await p.tickets.get_visible(t.id, follower, None) is None


async def test_a_shared_ticket_is_not_withdrawn_while_others_follow_it(make_world):
    w = await make_world()
    reporter, follower = await w.account(), await w.account()
    async with w.step() as p:
        t = await p.tickets.create(public(reporter), NOW, DAY)
    async with w.step() as p:
        assert await p.tickets.subscribe(t.id, follower, None, NOW)
    async with w.step() as p:
        assert not await p.tickets.withdraw(t.id, NOW)
    async with w.step() as p:
        assert await p.tickets.unsubscribe(t.id, follower, NOW)
    async with w.step() as p:
        assert await p.tickets.withdraw(t.id, NOW)
