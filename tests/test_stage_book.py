"""A ticket's stages kept as its history is written (storage/stage_book.py): the fold on its
own, and the row the bot keeps live through the desk equal to the one the upgrade's backfill
derives from the same history."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from dialogs.policy import Policy
from storage.models import Ticket, TicketEvent, TicketStage
from storage.stage_backfill import backfill
from storage.stage_book import STAGES, Book, StepRules, fold
from storage.uow import UnitOfWork

from .e2e_support import AGENTS, env, texts  # noqa: F401
from .test_e2e_desk import LIN, group_user, owner_with_repair, roster

T0 = datetime(2026, 11, 3, 2, 0, tzinfo=UTC)
RULES = StepRules(frozenset({"已联系业主"}), frozenset({"已到场", "正在维修"}))


def at(minutes: int) -> datetime:
    return T0 + timedelta(minutes=minutes)


def test_a_stage_keeps_its_first_time_who_and_the_promise_in_force_then():
    book = Book(1)
    promises = (at(30), at(120), at(360))
    fold(book, at(0), "owner", 9, "created", "new", "", RULES, promises)
    fold(book, at(5), "agent", 1, "take", "accepted", "", RULES, promises)
    assert book.first_contact_at is None  # a take alone is not a contact
    held = fold(book, at(20), "agent", 1, "progress", "in_progress", "已联系业主", RULES, promises)
    assert (book.first_contact_at, book.first_contact_by, held) == (at(20), 1, at(30))
    # 延期: the arrival is re-planned to 3 h; the arrival is held to the promise it then had
    fold(book, at(60), "agent", 1, "delay", "in_progress", "11:00", RULES, promises)
    later = (at(30), at(180), at(420))
    held = fold(book, at(150), "agent", 2, "progress", "in_progress", "已到场 x", RULES, later)
    assert (book.on_site_at, book.on_site_by, book.arrive_promise, held) == (
        at(150),
        2,
        at(180),
        at(180),
    )
    assert book.contact_promise == at(30) and book.replans == 1
    fold(book, at(200), "agent", 1, "complete", "done", "", RULES, later)
    fold(book, at(210), "system", None, "close", "closed", "", RULES, later)
    assert (book.completed_at, book.complete_promise, book.closed_at) == (at(200), at(420), at(210))
    # reopened: open again, the first completion kept, the last one moves
    fold(book, at(300), "owner", 9, "reopen", "in_progress", "", RULES, later)
    assert book.closed_at is None and book.reopen_count == 1
    fold(book, at(400), "agent", 1, "complete", "done", "", RULES, later)
    assert (book.completed_at, book.last_completed_at) == (at(200), at(400))


def test_completion_without_an_arrival_step_is_the_arrival():
    book = Book(1)
    held = fold(book, at(50), "agent", 1, "complete", "done", "", RULES, (at(30), at(40), at(90)))
    # completion first: it is a contact too, and held to the completion promise
    assert (book.arrive_promise, book.complete_promise, held) == (at(40), at(90), at(90))
    assert book.first_contact_at == at(50)


async def _rows(env) -> tuple[dict, list]:
    async with UnitOfWork(env.app.sessionmaker) as uow:
        stage = await uow.session.scalar(sa.select(TicketStage))
        row = {c.key: getattr(stage, c.key) for c in TicketStage.__table__.columns}
        promised = (
            await uow.session.execute(
                sa.select(TicketEvent.action, TicketEvent.promise_at).order_by(TicketEvent.id)
            )
        ).all()
    return row, promised


async def test_the_live_stage_row_is_the_one_the_backfill_derives(env):
    """Through the real desk: taken, contacted, dispatched, 延期, on site, completed, solved.
    Then the row is dropped and the backfill (migration 0012's) derives it again from the
    history: the same row, the same promise on each event."""
    await roster(env)
    owner = await owner_with_repair(env)
    lin = group_user(env, LIN, "小林")
    await lin.tap(data_prefix="d:take:")
    await lin.tap(data_prefix="d:prog:")
    await lin.tap("已联系业主")
    await lin.tap(data_prefix="d:disp:")
    await lin.tap("工程部")
    await lin.tap("张师傅")
    await lin.tap("60分钟内")
    env.clock.advance(minutes=20)
    await lin.tap(data_prefix="d:prog:")
    await lin.tap("延期")
    await lin.tap("延期2小时")
    env.clock.advance(minutes=90)
    await lin.tap(data_prefix="d:prog:")
    await lin.tap("已到场")
    env.clock.advance(minutes=40)
    await lin.tap(data_prefix="d:done:")
    prompt = env.api.sent_to(AGENTS)[-1]
    await lin.reply_to(prompt["_message_id"], "已更换接头，试水无渗漏")
    assert "已关闭" in texts(await owner.tap("已解决"))

    live, live_promises = await _rows(env)
    async with UnitOfWork(env.app.sessionmaker) as uow:
        t = await uow.session.scalar(sa.select(Ticket))
    assert live["replans"] == 1 and live["reopen_count"] == 0
    for stage in ("created", "accepted", "first_contact", "dispatched", "on_site", "completed"):
        assert live[f"{stage}_at"] is not None, stage
    assert live["closed_at"] == t.closed_at and live["accepted_kind"] == "agent"
    # the arrival was held to the re-planned time, which the ticket holds now
    assert live["arrive_promise"] == t.promised_arrive_by
    assert t.promised_complete_by is not None  # the SLA watch's completion deadline
    assert live["complete_promise"] == t.promised_complete_by
    assert [a for a, p in live_promises if p is not None] == ["progress", "progress", "complete"]

    async with UnitOfWork(env.app.sessionmaker) as uow:
        await uow.session.execute(sa.delete(TicketStage))
        await uow.session.execute(sa.update(TicketEvent).values(promise_at=None))
        # a ticket filed before the completion promise was kept: the SLA watch's follow-up has it
        await uow.session.execute(sa.update(Ticket).values(promised_complete_by=None))
        conn = await uow.session.connection()
        folded = await conn.run_sync(lambda c: backfill(c, StepRules.of(Policy.load())))
        await uow.commit()
    derived, derived_promises = await _rows(env)
    assert folded == 1
    async with UnitOfWork(env.app.sessionmaker) as uow:
        again = await uow.session.scalar(sa.select(Ticket))
    assert again.promised_complete_by == t.promised_complete_by  # the re-planned deadline
    assert derived == live
    assert derived_promises == live_promises
    assert {f"{s}_at" for s in STAGES} <= set(derived)
