"""The two worlds tests/test_ports_contract.py runs its assertions in: the in-memory ports, and
the SQL repositories behind a unit of work per step (committed, as the bot does). Each world can
open accounts, put agents on duty, say whether SMS is configured and read back the SMS codes
queued, the only set-up and looking the ports themselves do not offer."""

from __future__ import annotations

from contextlib import asynccontextmanager
from datetime import UTC, datetime

import sqlalchemy as sa

from storage.models import OutboxMessage
from storage.owner_import import import_owners
from storage.uow import UnitOfWork
from storage.verification_repo import SMS, offer_sms_codes

from .memory_ports import memory_ports

NOW = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)


class MemoryWorld:
    def __init__(self, rows):
        self.ports = memory_ports(rows)
        self._accounts = 0

    @asynccontextmanager
    async def step(self):
        yield self.ports

    async def account(self, channel: str = "telegram") -> int:
        self._accounts += 1
        return self._accounts

    async def on_duty(self, name: str, role: str) -> None:
        self.ports.handoffs.roster.append((name, role))

    def sms(self, configured: bool) -> None:
        self.ports.verification.sms = configured

    async def sent_codes(self, phone_e164: str) -> list[str]:
        return [code for to, code in self.ports.verification.sent if to == phone_e164]


class SqlWorld:
    def __init__(self, sessionmaker):
        self.sm = sessionmaker
        self._accounts = 0

    async def load(self, rows) -> None:
        lines = ["community,building,unit,room,name,surname,salutation,phone"]
        lines += [f"{c},{b},{u},{r},{sn}某,{sn},{t},{p}" for c, b, u, r, sn, t, p in rows]
        async with UnitOfWork(self.sm) as uow:
            assert (await import_owners(uow.session, "\n".join(lines).encode())).ok
            await uow.commit()

    @asynccontextmanager
    async def step(self):
        async with UnitOfWork(self.sm) as uow:
            yield uow.ports
            await uow.commit()

    async def account(self, channel: str = "telegram") -> int:
        self._accounts += 1
        async with UnitOfWork(self.sm) as uow:
            acc = await uow.accounts.get_or_create(channel, str(self._accounts), "1", "x", NOW)
            await uow.commit()
            return acc.id

    def sms(self, configured: bool) -> None:
        if configured:
            offer_sms_codes(self.sm)
        else:
            self.sm.configure(info={})

    async def sent_codes(self, phone_e164: str) -> list[str]:
        """The codes in the outbox's SMS rows to that number, oldest first."""
        async with UnitOfWork(self.sm) as uow:
            rows = await uow.session.scalars(
                sa.select(OutboxMessage)
                .where(OutboxMessage.channel == SMS, OutboxMessage.chat_id == phone_e164)
                .order_by(OutboxMessage.id)
            )
            return [r.payload["code"] for r in rows]

    async def on_duty(self, name: str, role: str) -> None:
        async with UnitOfWork(self.sm) as uow:
            tg = str(100 + len(await uow.staff.agents()))
            await uow.staff.add_agent(tg, name, role, NOW)
            assert await uow.staff.set_on_duty(tg, True)
            await uow.commit()
