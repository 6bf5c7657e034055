import asyncio
import re
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa

from bot.paths import SAMPLE_OWNERS
from dialogs.ports import TicketDraft
from storage.db import downgrade, make_engine, migrate
from storage.models import Owner, Ticket, UnitOwner
from storage.owner_import import import_owners
from storage.uow import UnitOfWork

NOW = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)


async def test_migrations_up_down_up(db_url):
    await migrate(db_url)
    await downgrade(db_url, "base")
    engine = make_engine(db_url)
    async with engine.connect() as conn:
        tables = await conn.run_sync(lambda c: sa.inspect(c).get_table_names())
    await engine.dispose()
    assert "tickets" not in tables
    await migrate(db_url)
    engine = make_engine(db_url)
    async with engine.connect() as conn:
        tables = await conn.run_sync(lambda c: sa.inspect(c).get_table_names())
    await engine.dispose()
    assert {"tickets", "outbox", "conversations", "units", "owners"} <= set(tables)


def _draft(account_id: int) -> TicketDraft:
    return TicketDraft(
        kind="repair",
        category="water",
        department="工程部",
        urgent=True,
        description="漏水",
        location="厨房",
        reporter_account_id=account_id,
        owner_id=None,
        contact_phone="13800000301",
        unit_id=None,
        unit_label="3栋1单元3A室",
        unit_verified=False,
        promised_contact_by=NOW,
        promised_arrive_by=None,
    )


async def test_ticket_numbers_stay_unique_under_concurrency(sessionmaker):
    async with UnitOfWork(sessionmaker) as uow:
        acc = await uow.accounts.get_or_create("telegram", "1", "1", "x", NOW)
        await uow.commit()

    async def one():
        for attempt in range(20):
            try:
                async with UnitOfWork(sessionmaker) as uow:
                    t = await uow.tickets.create(_draft(acc.id), NOW, "BX-20261123")
                    await uow.commit()
                    return t.number
            except sa.exc.DBAPIError:  # SQLite "database is locked" under contention: try again
                await asyncio.sleep(0.05 * (attempt + 1))
        raise AssertionError("never created")

    numbers = await asyncio.gather(*(one() for _ in range(8)))
    assert len(set(numbers)) == 8
    assert min(numbers) == "BX-20261123-0001"


async def test_import_sample_is_idempotent_and_replace_retires(sessionmaker, tmp_path):
    raw = SAMPLE_OWNERS.read_bytes()
    async with UnitOfWork(sessionmaker) as uow:
        rep = await import_owners(uow.session, raw)
        await uow.commit()
    assert rep.ok and rep.units_added == 10 and rep.owners_added == 9
    async with UnitOfWork(sessionmaker) as uow:
        rep = await import_owners(uow.session, raw)
        await uow.commit()
    assert (rep.units_added, rep.owners_added, rep.owners_updated, rep.links_added) == (0, 0, 0, 0)
    # one phone, several units; a compound surname
    async with UnitOfWork(sessionmaker) as uow:
        matches = await uow.registry.owners_by_phone("13800000501")
        assert [m.unit.room for m in matches] == ["1201", "1202"]
        oy = await uow.session.scalar(sa.select(Owner).where(Owner.name == "欧阳娜娜"))
        assert oy.surname == "欧阳"
    first_two = b"\n".join(raw.split(b"\n")[:3]) + b"\n"
    async with UnitOfWork(sessionmaker) as uow:
        rep = await import_owners(uow.session, first_two, replace=True)
        await uow.commit()
    assert rep.retired == 7
    async with UnitOfWork(sessionmaker) as uow:
        active = await uow.session.scalar(
            sa.select(sa.func.count()).select_from(Owner).where(Owner.active)
        )
        assert active == 2
        assert await uow.registry.owners_by_phone("13800000301") == []


async def test_import_bad_lines_import_nothing(sessionmaker):
    raw = (
        "\ufeffbuilding,unit,room,name,salutation,phone\n"
        "3,1,3A,王芳,女士,13800000301\n"
        "3,1,3B,陈静,小姐,13800000302\n"
        "3,1,,赵磊,先生,13800000303\n"
    ).encode("utf-8")
    async with UnitOfWork(sessionmaker) as uow:
        rep = await import_owners(uow.session, raw)
        await uow.commit()
    assert not rep.ok
    assert [(line, code) for line, code, _ in rep.errors] == [
        (3, "bad_salutation"),
        (4, "missing_room"),
    ]
    async with UnitOfWork(sessionmaker) as uow:
        assert await uow.registry.is_empty()


async def test_import_refuses_gbk(sessionmaker):
    raw = "building,unit,room,name,salutation,phone\n3,1,3A,王芳,女士,13800000301\n".encode("gbk")
    async with UnitOfWork(sessionmaker) as uow:
        rep = await import_owners(uow.session, raw)
    assert rep.encoding_error and not rep.ok


async def test_visible_tickets_are_only_the_owners_own(sessionmaker):
    async with UnitOfWork(sessionmaker) as uow:
        await import_owners(uow.session, SAMPLE_OWNERS.read_bytes())
        a = await uow.accounts.get_or_create("telegram", "1", "1", "a", NOW)
        b = await uow.accounts.get_or_create("telegram", "2", "2", "b", NOW)
        ta = await uow.tickets.create(_draft(a.id), NOW, "BX-20261123")
        await uow.tickets.create(_draft(b.id), NOW, "BX-20261123")
        await uow.commit()
    async with UnitOfWork(sessionmaker) as uow:
        items, total = await uow.tickets.visible(a.id, None, 0, 10)
        assert total == 1 and items[0].id == ta.id
        assert await uow.tickets.get_visible(ta.id, b.id, None) is None
        assert await uow.tickets.withdraw(ta.id, NOW)
        assert not await uow.tickets.withdraw(ta.id, NOW)  # only once
        await uow.commit()
    async with UnitOfWork(sessionmaker) as uow:
        t = await uow.session.get(Ticket, ta.id)
        assert t.status == "withdrawn"
        links = await uow.session.scalar(sa.select(sa.func.count()).select_from(UnitOwner))
        assert links == 10


async def test_duplicate_update_id_is_seen_once(sessionmaker):
    async with UnitOfWork(sessionmaker) as uow:
        assert await uow.accounts.first_time(42, NOW)
        await uow.commit()
    async with UnitOfWork(sessionmaker) as uow:
        assert not await uow.accounts.first_time(42, NOW)
    from datetime import timedelta

    async with UnitOfWork(sessionmaker) as uow:
        assert await uow.accounts.prune_updates(NOW + timedelta(days=3)) == 1
        await uow.commit()


# --- storage by aggregate: one writer each ---------------------------------------------------------
async def test_owner_and_agent_paths_write_one_history(sessionmaker):
    """The owner's side (TicketRepo) and the agents' casework (CaseRepo) record the same history."""
    async with UnitOfWork(sessionmaker) as uow:
        acc = await uow.accounts.get_or_create("telegram", "1", "1", "a", NOW)
        agent = await uow.staff.add_agent("77", "小林", "agent", NOW)
        view = await uow.tickets.create(_draft(acc.id), NOW, "BX-20261123")
        t = await uow.cases.ticket(view.id)
        await uow.cases.move(t, "accepted", NOW, "agent", agent.id, "take")
        await uow.cases.event(t, NOW, "agent", agent.id, "note", None, None, "已电话联系")
        await uow.commit()
    async with UnitOfWork(sessionmaker) as uow:
        assert await uow.tickets.withdraw(view.id, NOW)
        await uow.commit()
    async with UnitOfWork(sessionmaker) as uow:
        rows = [
            (e.actor_kind, e.action, e.from_status, e.to_status, e.note)
            for e in await uow.cases.events(view.id)
        ]
        t = await uow.cases.ticket(view.id, lock=False)
    assert rows == [
        ("owner", "created", None, "new", ""),
        ("agent", "take", "new", "accepted", ""),
        ("agent", "note", None, None, "已电话联系"),
        ("owner", "withdrawn", "open", "withdrawn", ""),
    ]
    assert t.status == "withdrawn" and t.closed_at is not None


async def test_the_roster_retires_people_and_names_who_is_on_duty(sessionmaker):
    async with UnitOfWork(sessionmaker) as uow:
        await uow.staff.add_agent("1", "周主管", "supervisor", NOW)
        await uow.staff.add_agent("2", "小林", "agent", NOW)
        w = await uow.staff.add_worker("工程部", "张师傅", "13900000001", "9")
        assert await uow.staff.set_on_duty("1", True)
        assert not await uow.staff.set_on_duty("404", True)
        await uow.commit()
    async with UnitOfWork(sessionmaker) as uow:
        assert await uow.handoffs.duty_agent() == "周主管"
        assert [a.name for a in await uow.staff.supervisors()] == ["周主管"]
        assert (await uow.staff.worker_by_telegram(9)).id == w.id
        assert await uow.staff.remove_agent("1") and await uow.staff.remove_worker(w.id)
        assert not await uow.staff.remove_worker(w.id)
        await uow.commit()
    async with UnitOfWork(sessionmaker) as uow:
        assert await uow.handoffs.duty_agent() == ""  # retired: no longer named to owners
        assert [a.name for a in await uow.staff.agents()] == ["小林"]
        assert await uow.staff.workers("工程部") == [] and await uow.staff.worker(w.id) is None


def _python_files(*folders: str):
    root = Path(__file__).resolve().parent.parent
    for folder in folders:
        yield from (
            (p.relative_to(root).as_posix(), p.read_text("utf-8"))
            for p in (root / folder).rglob("*.py")
        )


def test_ticket_history_rows_are_made_in_one_place():
    makers = [
        path
        for path, text in _python_files("storage", "bot", "desk")
        if re.search(r"(?<!class )TicketEvent\(", text)
    ]
    assert makers == ["storage/ticket_history.py"]


def test_the_open_statuses_are_listed_once():
    listed = re.compile(r"\(\s*\"new\",\s*\"accepted\",\s*\"dispatched\",\s*\"in_progress\"\s*\)")
    places = [
        path
        for path, text in _python_files("storage", "bot", "desk", "dialogs", "tests")
        if listed.search(text) and path != "tests/test_ticket_machine.py"
    ]
    assert places == ["dialogs/ports.py"]
