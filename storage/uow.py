"""A unit of work per update: one transaction, committed once, then the transport sends."""

from __future__ import annotations

from functools import cached_property

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from dialogs.ports import Ports

from .followups_repo import FollowUpRepo
from .kb_repo import KnowledgeRepo
from .notice_repo import NoticesRepo
from .outbox import OutboxRepo
from .repositories import (
    AccountRepo,
    CaseRepo,
    HandoffRepo,
    RegistryRepo,
    StaffRepo,
    TicketRepo,
)
from .survey_repo import SurveyRepo
from .verification_repo import VerificationRepo


class UnitOfWork:
    def __init__(self, sessionmaker: async_sessionmaker):
        self._maker = sessionmaker
        self.session: AsyncSession | None = None

    async def __aenter__(self) -> UnitOfWork:  # noqa: PYI034
        self.session = self._maker()
        return self

    # repositories are made when first used: most steps touch only two of them
    @cached_property
    def accounts(self) -> AccountRepo:
        return AccountRepo(self.session)

    @cached_property
    def registry(self) -> RegistryRepo:
        return RegistryRepo(self.session)

    @cached_property
    def tickets(self) -> TicketRepo:
        return TicketRepo(self.session)

    @cached_property
    def handoffs(self) -> HandoffRepo:
        return HandoffRepo(self.session)

    @cached_property
    def outbox(self) -> OutboxRepo:
        return OutboxRepo(self.session)

    @cached_property
    def cases(self) -> CaseRepo:
        return CaseRepo(self.session)

    @cached_property
    def staff(self) -> StaffRepo:
        return StaffRepo(self.session)

    @cached_property
    def followups(self) -> FollowUpRepo:
        return FollowUpRepo(self.session)

    @cached_property
    def ports(self) -> Ports:
        return Ports(
            registry=self.registry,
            tickets=self.tickets,
            handoffs=self.handoffs,
            surveys=SurveyRepo(self.session),
            # its SMS rows go through this unit of work's outbox, sent after its commit
            verification=VerificationRepo(self.session, self.outbox),
            notices=NoticesRepo(self.session),
            knowledge=KnowledgeRepo(self.session),
        )

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
