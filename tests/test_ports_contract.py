"""One contract, two implementations: the same assertions over the in-memory ports the dialog
tests use and over the SQL repositories that run (SQLite, and PostgreSQL when TEST_DATABASE_URL
is set). A dialog test is only worth as much as its memory port is faithful."""

from __future__ import annotations

from datetime import timedelta

import pytest

from dialogs.ports import CODE_TRIES, Checked, TicketDraft
from storage.db import make_engine, make_sessionmaker, migrate

from .conftest import BACKENDS, _create_pg_database, _drop_pg_database
from .port_worlds import NOW, MemoryWorld, SqlWorld

DAY = "BX-20261123"

# (community, building, unit, room, surname, salutation, phone): 周 owns two units; building 10
# shows the registry's order (3 before 10)
ROWS = [
    ("", "3", "1", "3A", "王", "女士", "13800000301"),
    ("", "3", "1", "3B", "陈", "女士", "13800000302"),
    ("", "5", "1", "1201", "周", "女士", "13800000501"),
    ("", "5", "1", "1202", "周", "女士", "13800000501"),
    ("", "10", "2", "201", "欧阳", "女士", "13800000201"),
]


@pytest.fixture(params=["memory", *BACKENDS])
async def make_world(request, tmp_path):
    """world(rows) → a fresh world holding that owner registry, on the parametrized backend."""
    if request.param == "memory":

        async def memory(rows=ROWS):
            return MemoryWorld(rows)

        yield memory
        return
    pg_name = None
    if request.param == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path / 'contract.sqlite3'}"
    else:
        pg_name, url = await _create_pg_database()
    engine = None
    try:
        await migrate(url)
        engine = make_engine(url)

        async def sql(rows=ROWS):
            w = SqlWorld(make_sessionmaker(engine))
            if rows:
                await w.load(rows)
            return w

        yield sql
    finally:
        if engine is not None:
            await engine.dispose()
        if pg_name:
            await _drop_pg_database(pg_name)


def draft(account_id: int, **kw) -> TicketDraft:
    base = {
        "kind": "repair",
        "category": "water",
        "department": "工程部",
        "urgent": False,
        "description": "厨房漏水",
        "location": "厨房",
        "reporter_account_id": account_id,
        "owner_id": None,
        "contact_phone": "13800000301",
        "unit_id": None,
        "unit_label": "3栋1单元3A室",
        "unit_verified": False,
        "promised_contact_by": NOW + timedelta(hours=1),
        "promised_arrive_by": None,
    }
    return TicketDraft(**{**base, **kw})


async def actions(w, ticket_id: int, account_id: int) -> list[str]:
    async with w.step() as p:
        view = await p.tickets.get_visible(ticket_id, account_id, None)
    return [e.action for e in view.events]


# --- Registry --------------------------------------------------------------------------------------
async def test_registry_lists_and_finds_units_in_the_registrys_order(make_world):
    w = await make_world()
    async with w.step() as p:
        r = p.registry
        assert not await r.is_empty()
        assert await r.communities() == [""]
        assert await r.buildings("") == ["3", "5", "10"]
        assert await r.units("", "3") == ["1"]
        assert await r.rooms("", "5", "1") == ["1201", "1202"]
        found = await r.find_unit("", "3", "1", "3B")
        assert found is not None and found[0].room == "3B" and found[1] is not None
        assert await r.find_unit("", "3", "1", "9Z") is None


async def test_one_person_with_two_units_is_one_owner(make_world):
    w = await make_world()
    async with w.step() as p:
        matches = await p.registry.owners_by_phone("13800000501")
        assert [m.unit.room for m in matches] == ["1201", "1202"]
        assert len({m.owner_id for m in matches}) == 1
        assert {(m.surname, m.salutation) for m in matches} == {("周", "女士")}
        assert await p.registry.owners_by_phone("13900000000") == []
        unit, owner_id = await p.registry.find_unit("", "5", "1", "1202")
        assert owner_id == matches[0].owner_id and unit.unit_id == matches[1].unit.unit_id


async def test_an_empty_registry_says_so(make_world):
    w = await make_world([])
    async with w.step() as p:
        assert await p.registry.is_empty()
        assert await p.registry.communities() == []


# --- Tickets ---------------------------------------------------------------------------------------
async def test_a_ticket_is_seen_by_its_reporter_and_nobody_else(make_world):
    w = await make_world()
    me, other = await w.account(), await w.account()
    async with w.step() as p:
        t = await p.tickets.create(draft(me), NOW, DAY)
        t2 = await p.tickets.create(draft(me, description="门锁坏了"), NOW, DAY)
    assert (t.number, t2.number) == (f"{DAY}-0001", f"{DAY}-0002")
    assert t.status == "new" and t.description == "厨房漏水" and t.unit_label == "3栋1单元3A室"
    async with w.step() as p:
        items, total = await p.tickets.visible(me, None, 0, 10)
        assert total == 2 and [v.id for v in items] == [t2.id, t.id]  # newest first
        assert items[0].events == []  # a list carries no history
        page, total = await p.tickets.visible(me, None, 1, 1)
        assert total == 2 and [v.id for v in page] == [t.id]
        assert await p.tickets.visible(other, None, 0, 10) == ([], 0)
        assert await p.tickets.get_visible(t.id, other, None) is None
        seen = await p.tickets.get_visible(t.id, me, None)
        assert seen.number == t.number and [e.action for e in seen.events] == ["created"]


async def test_the_owner_sees_tickets_filed_for_them_or_for_their_verified_unit(make_world):
    w = await make_world()
    reporter, owner_acc = await w.account(), await w.account()
    async with w.step() as p:
        (zhou, *_) = await p.registry.owners_by_phone("13800000501")
        other_unit = await p.registry.find_unit("", "5", "1", "1202")
        for_owner = await p.tickets.create(draft(reporter, owner_id=zhou.owner_id), NOW, DAY)
        verified = await p.tickets.create(
            draft(reporter, unit_id=other_unit[0].unit_id, unit_verified=True), NOW, DAY
        )
        unverified = await p.tickets.create(
            draft(reporter, unit_id=zhou.unit.unit_id, unit_verified=False), NOW, DAY
        )
    async with w.step() as p:
        items, total = await p.tickets.visible(owner_acc, zhou.owner_id, 0, 10)
        assert total == 2 and {v.id for v in items} == {for_owner.id, verified.id}
        assert await p.tickets.get_visible(unverified.id, owner_acc, zhou.owner_id) is None
        assert await p.tickets.visible(owner_acc, None, 0, 10) == ([], 0)


async def test_details_add_photos_and_a_history_line(make_world):
    w = await make_world()
    me = await w.account()
    photo = {"kind": "photo", "file_id": "f1"}
    async with w.step() as p:
        t = await p.tickets.create(draft(me, attachments=[photo]), NOW, DAY)
    assert t.attachments == 1
    async with w.step() as p:
        await p.tickets.add_details(t.id, "水越来越多", [photo, photo], NOW + timedelta(minutes=5))
    async with w.step() as p:
        seen = await p.tickets.get_visible(t.id, me, None)
    assert seen.attachments == 3
    assert [(e.action, e.note) for e in seen.events] == [
        ("created", ""),
        ("details_added", "水越来越多"),
    ]


async def test_withdraw_once_and_then_it_is_closed_for_urging(make_world):
    w = await make_world()
    me = await w.account()
    async with w.step() as p:
        t = await p.tickets.create(draft(me), NOW, DAY)
    async with w.step() as p:
        assert await p.tickets.withdraw(t.id, NOW)
    async with w.step() as p:
        assert not await p.tickets.withdraw(t.id, NOW)  # only once
        seen = await p.tickets.get_visible(t.id, me, None)
        assert seen.status == "withdrawn"
        urged = await p.tickets.urge(t.id, NOW, 30)
        assert (urged.outcome, urged.number) == ("closed", t.number)
    assert await actions(w, t.id, me) == ["created", "withdrawn"]


async def test_urge_too_soon_then_sent_then_escalated_when_overdue(make_world):
    w = await make_world()
    me = await w.account()
    async with w.step() as p:
        t = await p.tickets.create(draft(me), NOW, DAY)  # contact promised within the hour
    async with w.step() as p:
        first = await p.tickets.urge(t.id, NOW, 30)
    assert (first.outcome, first.overdue) == ("sent", False)
    async with w.step() as p:
        soon = await p.tickets.urge(t.id, NOW + timedelta(minutes=10), 30)
    assert (soon.outcome, soon.wait_minutes) == ("too_soon", 21)
    async with w.step() as p:
        late = await p.tickets.urge(t.id, NOW + timedelta(hours=2), 30)
    assert (late.outcome, late.overdue, late.number) == ("escalated", True, t.number)
    assert await actions(w, t.id, me) == ["created", "urge", "urge_escalated"]


async def test_an_emergency_is_completed_and_an_identity_attached_later(make_world):
    w = await make_world()
    me, owner_acc = await w.account(), await w.account()
    bare = draft(me, category=None, description="", location="", unit_label="", urgent=True)
    async with w.step() as p:
        t = await p.tickets.create(bare, NOW, DAY)
    full = draft(me, category="lift", description="电梯困人", location="5栋电梯")
    full.attachments = [{"kind": "photo", "file_id": "p"}]
    async with w.step() as p:
        done = await p.tickets.complete_emergency(t.id, full, NOW)
        assert (done.description, done.location, done.category) == ("电梯困人", "5栋电梯", "lift")
        (zhou, *_) = await p.registry.owners_by_phone("13800000501")
        who = draft(
            me,
            owner_id=zhou.owner_id,
            unit_id=zhou.unit.unit_id,
            unit_label="5栋1单元1201室",
            unit_verified=True,
        )
        after = await p.tickets.attach_identity(t.id, who, NOW)
        assert after.unit_label == "5栋1单元1201室"
        assert await p.tickets.complete_emergency(9999, full, NOW) is None
    async with w.step() as p:
        # the owner now sees it from another account: filed for them, on their verified unit
        items, total = await p.tickets.visible(owner_acc, zhou.owner_id, 0, 10)
        assert total == 1 and items[0].attachments == 1
    assert await actions(w, t.id, me) == ["created", "emergency_completed", "identity_added"]


async def test_an_unknown_ticket_is_neither_shown_nor_changed(make_world):
    w = await make_world()
    me = await w.account()
    async with w.step() as p:
        assert await p.tickets.get_visible(9999, me, None) is None
        assert not await p.tickets.withdraw(9999, NOW)
        assert (await p.tickets.urge(9999, NOW, 30)).outcome == "closed"


# --- Handoffs --------------------------------------------------------------------------------------
async def test_one_open_handoff_per_owner_until_it_is_closed(make_world):
    w = await make_world()
    me, other = await w.account(), await w.account()
    async with w.step() as p:
        h = await p.handoffs.request(me, None, NOW)
        assert await p.handoffs.request(me, None, NOW) == h  # asking again: the same one
        assert await p.handoffs.request(other, None, NOW) != h
    async with w.step() as p:
        await p.handoffs.close(h, NOW)
        await p.handoffs.close(h, NOW)  # closing twice is harmless
    async with w.step() as p:
        again = await p.handoffs.request(me, None, NOW)
    assert again != h


async def test_the_duty_agent_is_a_real_person_on_duty_or_nobody(make_world):
    w = await make_world()
    async with w.step() as p:
        assert await p.handoffs.duty_agent() == ""
    await w.on_duty("周主管", "supervisor")
    async with w.step() as p:
        assert await p.handoffs.duty_agent() == "周主管"
    await w.on_duty("小林", "agent")
    async with w.step() as p:
        assert await p.handoffs.duty_agent() == "小林"  # agents answer before supervisors


# --- Verification (SMS codes) ----------------------------------------------------------------------
X, X_E164 = "13800000301", "+8613800000301"


def other(code: str) -> str:
    """A code that is surely not `code`."""
    return f"{(int(code) + 1) % 10**6:06d}"


async def issue(w, account_id: int, phone: str = X, at=NOW):
    async with w.step() as p:
        return await p.verification.issue_code(account_id, phone, at)


async def check(w, account_id: int, code: str, phone: str = X, at=NOW) -> Checked:
    async with w.step() as p:
        return await p.verification.check_code(account_id, phone, code, at)


async def test_codes_can_be_sent_only_when_sms_is_configured(make_world):
    w = await make_world([])
    w.sms(False)
    async with w.step() as p:
        assert not await p.verification.available()
    w.sms(True)
    async with w.step() as p:
        assert await p.verification.available()


async def test_one_code_a_minute_per_number_whoever_asks_and_each_is_queued_by_sms(make_world):
    w = await make_world([])
    a, b = await w.account("wecom"), await w.account("wecom")
    first = await issue(w, a)
    assert first.ok and first.expires_at == NOW + timedelta(minutes=5)
    codes = await w.sent_codes(X_E164)
    assert len(codes) == 1 and len(codes[0]) == 6 and codes[0].isdigit()
    soon = await issue(w, b, at=NOW + timedelta(seconds=30))
    assert (soon.ok, soon.next_at) == (False, NOW + timedelta(minutes=1))
    assert (await issue(w, a, "13912345678", NOW + timedelta(seconds=30))).ok  # another number
    assert (await issue(w, b, at=NOW + timedelta(minutes=1))).ok
    assert len(await w.sent_codes(X_E164)) == 2
    assert len(await w.sent_codes("+8613912345678")) == 1


async def test_the_right_code_proves_the_phone_once(make_world):
    w = await make_world([])
    me = await w.account("wecom")
    await issue(w, me)
    (code,) = await w.sent_codes(X_E164)
    assert await check(w, me, other(code)) == Checked("wrong", CODE_TRIES - 1)
    assert await check(w, me, code, at=NOW + timedelta(minutes=4)) == Checked("ok")
    assert (await check(w, me, code)).outcome == "expired"  # used: it proves nothing twice


async def test_five_wrong_tries_end_a_code(make_world):
    w = await make_world([])
    me = await w.account("wecom")
    await issue(w, me)
    (code,) = await w.sent_codes(X_E164)
    for left in range(CODE_TRIES - 1, 0, -1):
        assert await check(w, me, other(code)) == Checked("wrong", left)
    assert (await check(w, me, other(code))).outcome == "exhausted"
    assert (await check(w, me, code)).outcome == "exhausted"


async def test_a_code_expires_after_five_minutes(make_world):
    w = await make_world([])
    me = await w.account("wecom")
    await issue(w, me)
    (code,) = await w.sent_codes(X_E164)
    assert (await check(w, me, code, at=NOW + timedelta(minutes=5))).outcome == "expired"


async def test_only_the_newest_code_counts_and_only_for_the_account_that_asked(make_world):
    w = await make_world([])
    me, stranger = await w.account("wecom"), await w.account("wecom")
    later = NOW + timedelta(minutes=1)
    await issue(w, me)
    await issue(w, me, at=later)
    old, new = await w.sent_codes(X_E164)
    if old != new:
        assert (await check(w, me, old, at=later)).outcome == "wrong"
    assert (await check(w, stranger, new, at=later)).outcome == "expired"  # none for them
    assert (await check(w, me, new, "13912345678", later)).outcome == "expired"  # other number
    assert (await check(w, me, new, at=later)).outcome == "ok"


async def test_a_proven_phone_links_one_persons_tickets_across_channels(make_world):
    w = await make_world()
    tg, wx, stranger = await w.account("telegram"), await w.account("wecom"), await w.account()
    async with w.step() as p:
        await p.verification.mark_verified(tg, X, NOW)
        t1 = await p.tickets.create(draft(tg), NOW, DAY)
        t2 = await p.tickets.create(draft(wx, reporter_verified=False), NOW, DAY)
        t3 = await p.tickets.create(draft(stranger), NOW, DAY)

    async def seen(account_id):
        async with w.step() as p:
            items, total = await p.tickets.visible(account_id, None, 0, 10, verified_phone=X)
        assert total == len(items)
        return {v.id for v in items}

    assert await seen(wx) == {t2.id}  # claimed, not proven: its own only
    assert await seen(stranger) == {t3.id}
    async with w.step() as p:
        await p.verification.mark_verified(wx, X, NOW)
    assert await seen(wx) == {t1.id, t2.id}
    assert await seen(tg) == {t1.id, t2.id}
    async with w.step() as p:
        assert (await p.tickets.get_visible(t1.id, wx, None, verified_phone=X)).id == t1.id
        assert await p.tickets.get_visible(t1.id, wx, None) is None  # not asked as that person
        assert await p.tickets.get_visible(t3.id, wx, None, verified_phone=X) is None


async def test_a_ticket_reported_unproven_says_so_until_the_identity_is_attached(make_world):
    w = await make_world()
    me = await w.account("wecom")
    async with w.step() as p:
        t = await p.tickets.create(draft(me, reporter_verified=False, urgent=True), NOW, DAY)
        proven = await p.tickets.create(draft(me), NOW, DAY)
    assert t.reporter_verified is False and proven.reporter_verified is True
    async with w.step() as p:
        assert (await p.tickets.get_visible(t.id, me, None)).reporter_verified is False
        after = await p.tickets.attach_identity(t.id, draft(me, reporter_verified=True), NOW)
    assert after.reporter_verified is True
    async with w.step() as p:
        unproven_again = draft(me, reporter_verified=False)
        assert (await p.tickets.attach_identity(t.id, unproven_again, NOW)).reporter_verified
