"""SMS codes through the outbox: issued in the step's transaction, sent after commit by the SMS
channel's sender to a fake Tencent Cloud SMS that checks every signature itself; a refusal fails
the row, a network failure tries again; the code is kept hashed and blanked once sent. And what
the agents see of a ticket reported before the phone was proven. Runs on SQLite and, with
TEST_DATABASE_URL, on PostgreSQL."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from bot.desk.cards import card_context
from bot.factory import build_app
from bot.settings import Settings
from bot.sms.outbox_sender import SmsOutboxSender
from bot.sms.tencent import TencentSms
from dialogs.clock import FakeClock
from dialogs.ports import TicketDraft
from storage.models import Account, OutboxMessage, SmsCode, Ticket
from storage.uow import UnitOfWork
from storage.verification_repo import code_matches, offer_sms_codes

from .fake_sms import FakeTencentSms

SECRET_ID = "AKIDtestid0000000000000000000000000"
SECRET_KEY = "testkey-never-logged-0000000000000"
PHONE, E164 = "13800000301", "+8613800000301"
NOW = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)


@pytest.fixture
async def fake():
    server = FakeTencentSms(SECRET_ID, SECRET_KEY)
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


@pytest.fixture
def clock():
    return FakeClock(NOW)


def tencent(url: str, clock, key: str = SECRET_KEY) -> TencentSms:
    return TencentSms(url, SECRET_ID, key, "1400000001", "悦居物业", "2001", clock=clock)


async def account(sm) -> int:
    async with UnitOfWork(sm) as uow:
        acc = await uow.accounts.get_or_create("wecom", "wx-owner", "wx-owner", "x", NOW)
        await uow.commit()
        return acc.id


async def issue(sm, account_id: int, at: datetime = NOW, commit: bool = True):
    async with UnitOfWork(sm) as uow:
        res = await uow.ports.verification.issue_code(account_id, PHONE, at)
        if commit:
            await uow.commit()
    return res


async def rows(sm) -> list[OutboxMessage]:
    async with UnitOfWork(sm) as uow:
        found = await uow.session.scalars(
            sa.select(OutboxMessage)
            .where(OutboxMessage.channel == "sms")
            .order_by(OutboxMessage.id)
        )
        return list(found)


async def check(sm, account_id: int, code: str, at: datetime = NOW):
    async with UnitOfWork(sm) as uow:
        res = await uow.ports.verification.check_code(account_id, PHONE, code, at)
        await uow.commit()
    return res


async def test_the_code_reaches_the_phone_after_commit_and_proves_it(sessionmaker, fake, clock):
    offer_sms_codes(sessionmaker)
    me = await account(sessionmaker)
    sender = SmsOutboxSender(sessionmaker, tencent(fake.url, clock), clock)
    # a step that is rolled back sends nothing: the code was never issued
    await issue(sessionmaker, me, commit=False)
    assert await sender.deliver() == 0 and fake.sent == {}
    assert (await issue(sessionmaker, me)).ok
    assert fake.sent == {}  # queued, not sent, by the step itself
    assert await sender.deliver() == 1
    (code,) = fake.sent[E164]
    (row,) = await rows(sessionmaker)
    assert (row.state, row.method, row.purpose) == ("sent", "send_code", "sms_code")
    assert row.payload == {"code": ""}  # not kept once sent
    assert (await check(sessionmaker, me, code)).outcome == "ok"
    assert await sender.deliver() == 0  # sent once


async def test_a_code_is_kept_only_as_a_salted_hash(sessionmaker, fake, clock):
    me = await account(sessionmaker)
    await issue(sessionmaker, me)
    await issue(sessionmaker, me, NOW + timedelta(minutes=1))
    clock.advance(minutes=1)
    await SmsOutboxSender(sessionmaker, tencent(fake.url, clock), clock).deliver()
    first, second = fake.sent[E164]
    async with UnitOfWork(sessionmaker) as uow:
        stored = list(await uow.session.scalars(sa.select(SmsCode).order_by(SmsCode.id)))
    assert [r.phone for r in stored] == [PHONE, PHONE]
    for r, code in zip(stored, (first, second), strict=True):
        assert code not in r.code_hash and r.code_hash.startswith("s1$")
        assert code_matches(r.code_hash, me, PHONE, code)
        assert not code_matches(r.code_hash, me + 1, PHONE, code)  # bound to the account
    assert stored[0].code_hash.split("$")[1] != stored[1].code_hash.split("$")[1]  # own salt


async def test_a_refused_signature_fails_the_row_for_good(sessionmaker, fake, clock, caplog):
    me = await account(sessionmaker)
    await issue(sessionmaker, me)
    sender = SmsOutboxSender(sessionmaker, tencent(fake.url, clock, key="not-the-key"), clock)
    with caplog.at_level(logging.DEBUG):
        assert await sender.deliver() == 0
    (row,) = await rows(sessionmaker)
    assert row.state == "failed" and row.error == "AuthFailure.SignatureFailure"
    assert row.payload == {"code": ""}
    assert fake.sent == {} and len(fake.requests) == 1
    clock.advance(minutes=2)
    assert await sender.deliver() == 0 and len(fake.requests) == 1  # not tried again
    assert PHONE not in caplog.text and "0301" in caplog.text


async def test_a_number_the_provider_will_not_text_fails_the_row(sessionmaker, fake, clock):
    me = await account(sessionmaker)
    await issue(sessionmaker, me)
    fake.number_status = "LimitExceeded.PhoneNumberDailyLimit"
    assert await SmsOutboxSender(sessionmaker, tencent(fake.url, clock), clock).deliver() == 0
    (row,) = await rows(sessionmaker)
    assert row.state == "failed" and row.error == "LimitExceeded.PhoneNumberDailyLimit"


async def test_a_network_failure_is_tried_again_later(sessionmaker, fake, clock, caplog):
    me = await account(sessionmaker)
    await issue(sessionmaker, me)
    down = FakeTencentSms(SECRET_ID, SECRET_KEY)
    await down.start()
    url = down.url
    await down.stop()  # nothing listens there now
    sender = SmsOutboxSender(sessionmaker, tencent(url, clock), clock)
    with caplog.at_level(logging.DEBUG):
        assert await sender.deliver() == 0
    (row,) = await rows(sessionmaker)
    assert (row.state, row.error, row.attempts) == ("pending", "network", 1)
    assert row.not_before > NOW and row.payload["code"]  # kept for the next try
    assert await sender.deliver() == 0  # not due yet
    clock.advance(seconds=30)
    sender.sms = tencent(fake.url, clock)  # the provider is back
    assert await sender.deliver_left_over() == 1
    (code,) = fake.sent[E164]
    assert (await check(sessionmaker, me, code, NOW + timedelta(seconds=30))).outcome == "ok"
    assert PHONE not in caplog.text and code not in caplog.text and SECRET_KEY not in caplog.text


async def test_a_code_not_sent_in_time_is_never_sent_late(sessionmaker, fake, clock):
    me = await account(sessionmaker)
    await issue(sessionmaker, me)
    clock.advance(minutes=5)
    assert await SmsOutboxSender(sessionmaker, tencent(fake.url, clock), clock).deliver() == 0
    (row,) = await rows(sessionmaker)
    assert row.state == "failed" and row.payload == {"code": ""}
    assert fake.requests == []


async def test_the_sender_takes_only_sms_rows_and_just_the_ids_asked(sessionmaker, fake, clock):
    me = await account(sessionmaker)
    await issue(sessionmaker, me)
    async with UnitOfWork(sessionmaker) as uow:
        other = await uow.outbox.add("42", {"text": "x"}, NOW, channel="telegram")
        await uow.commit()
    sender = SmsOutboxSender(sessionmaker, tencent(fake.url, clock), clock)
    assert await sender.deliver(ids=[other]) == 0 and fake.sent == {}
    (sms_row,) = await rows(sessionmaker)
    assert await sender.deliver(ids=[sms_row.id]) == 1
    async with UnitOfWork(sessionmaker) as uow:
        assert (await uow.session.get(OutboxMessage, other)).state == "pending"


async def test_the_card_marks_an_unproven_reporter_and_a_wechat_one(migrated_url):
    app = build_app(Settings(database_url=migrated_url), clock=FakeClock(NOW))
    try:
        cards = {}
        async with UnitOfWork(app.sessionmaker) as uow:
            for channel, proven in (("wecom", False), ("wecom", True), ("telegram", True)):
                acc = await uow.accounts.get_or_create(channel, f"{channel}{proven}", "1", "x", NOW)
                draft = TicketDraft(
                    kind="consult",
                    category=None,
                    department="客服",
                    urgent=False,
                    description="停车位怎么办理？",
                    location="",
                    reporter_account_id=acc.id,
                    owner_id=None,
                    contact_phone=PHONE,
                    unit_id=None,
                    unit_label="3栋1单元3A室",
                    unit_verified=False,
                    promised_contact_by=NOW + timedelta(hours=1),
                    promised_arrive_by=None,
                    reporter_verified=proven,
                    details={"salutation": "王女士", "identity_verified": True},
                )
                view = await uow.tickets.create(draft, NOW, "ZX-20261123")
                t = await uow.session.get(Ticket, view.id)
                ctx = await card_context(app.desk, uow, t)
                cards[(channel, proven)] = app.texts.render("agent_card", {"now": NOW, **ctx})
            await uow.commit()
    finally:
        await app.db.dispose()
    assert "身份未核实（手机号未验证）" in cards[("wecom", False)]
    assert "来自微信" in cards[("wecom", False)] and "来自微信" in cards[("wecom", True)]
    assert "身份未核实" not in cards[("wecom", True)]
    assert "身份未核实" not in cards[("telegram", True)] and "微信" not in cards[("telegram", True)]


async def test_an_account_stays_proven_only_for_the_number_it_proved(sessionmaker):
    """accounts.phone_verified follows the conversation's phone: proven by the port, kept while
    the number is the same, dropped when another number is typed (storage/account_repo.py)."""

    async def step(profile: dict, prove: bool = False) -> Account:
        async with UnitOfWork(sessionmaker) as uow:
            conv = await uow.accounts.open_conversation("wecom", "wx-1", "wx-1", "x", NOW)
            if prove:
                await uow.ports.verification.mark_verified(conv.account_id, profile["phone"], NOW)
            await uow.accounts.save_conversation(conv, {"profile": profile}, NOW)
            await uow.commit()
        async with UnitOfWork(sessionmaker) as uow:
            return await uow.accounts.account(conv.account_id)

    acc = await step({"phone": PHONE}, prove=True)
    assert (acc.phone, acc.phone_verified) == (PHONE, True)
    acc = await step({"phone": PHONE, "salutation": "王女士"})
    assert acc.phone_verified
    acc = await step({"phone": "13912345678"})  # typed, not proven
    assert (acc.phone, acc.phone_verified) == ("13912345678", False)
