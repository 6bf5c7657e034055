"""A unit of work per update: one transaction, committed once, then the transport sends."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from dialogs.ports import Ports

from .desk_repo import DeskRepo
from .followups_repo import FollowUpRepo
from .outbox import OutboxRepo
from .repositories import AccountRepo, HandoffRepo, RegistryRepo, TicketRepo


class UnitOfWork:
    def __init__(self, sessionmaker: async_sessionmaker):
        self._maker = sessionmaker
        self.session: AsyncSession | None = None

    async def __aenter__(self) -> UnitOfWork:
        self.session = self._maker()
        s = self.session
        self.accounts = AccountRepo(s)
        self.registry = RegistryRepo(s)
        self.tickets = TicketRepo(s)
        self.handoffs = HandoffRepo(s)
        self.outbox = OutboxRepo(s)
        self.desk = DeskRepo(s)
        self.followups = FollowUpRepo(s)
        self.ports = Ports(registry=self.registry, tickets=self.tickets, handoffs=self.handoffs)
        return self

    async def commit(self) -> None:
        assert self.session is not None
        await self.session.commit()

    async def rollback(self) -> None:
        assert self.session is not None
        await self.session.rollback()

    async def __aexit__(self, exc_type, exc, tb) -> None:
        assert self.session is not None
        if exc_type is not None:
            await self.session.rollback()
        await self.session.close()
