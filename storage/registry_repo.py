"""The owner registry: units, owners, and who owns what."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from dialogs.ports import OwnerMatch
from dialogs.units import UnitRef

from .models import Owner, Unit, UnitOwner


def _sort_key(s: str) -> tuple[int, str]:
    """3 before 10, 3A before 3B: registry designators sorted the way people count."""
    digits = "".join(ch for ch in s if ch.isdigit())
    return (int(digits) if digits else 10**9, s)


class RegistryRepo:
    def __init__(self, session: AsyncSession):
        self.s = session

    async def owners_by_phone(self, phone: str) -> list[OwnerMatch]:
        rows = await self.s.execute(
            sa.select(Owner, Unit)
            .join(UnitOwner, UnitOwner.owner_id == Owner.id)
            .join(Unit, Unit.id == UnitOwner.unit_id)
            .where(Owner.phone == phone, Owner.active, UnitOwner.active)
            .order_by(Unit.community, Unit.building, Unit.unit, Unit.room)
        )
        return [
            OwnerMatch(
                o.id,
                o.surname,
                o.salutation,
                UnitRef(u.id, u.community, u.building, u.unit, u.room),
            )
            for o, u in rows
        ]

    async def communities(self) -> list[str]:
        rows = await self.s.scalars(sa.select(Unit.community).distinct())
        return sorted(rows)

    async def buildings(self, community: str) -> list[str]:
        rows = await self.s.scalars(
            sa.select(Unit.building).where(Unit.community == community).distinct()
        )
        return sorted(rows, key=_sort_key)

    async def units(self, community: str, building: str) -> list[str]:
        rows = await self.s.scalars(
            sa.select(Unit.unit)
            .where(Unit.community == community, Unit.building == building)
            .distinct()
        )
        return sorted(rows, key=_sort_key)

    async def rooms(self, community: str, building: str, unit: str) -> list[str]:
        rows = await self.s.scalars(
            sa.select(Unit.room).where(
                Unit.community == community, Unit.building == building, Unit.unit == unit
            )
        )
        return sorted(rows, key=_sort_key)

    async def find_unit(self, community: str, building: str, unit: str, room: str):
        u = await self.s.scalar(
            sa.select(Unit).where(
                Unit.community == community,
                Unit.building == building,
                Unit.unit == unit,
                Unit.room == room,
            )
        )
        if u is None:
            return None
        owner_id = await self.s.scalar(
            sa.select(UnitOwner.owner_id)
            .join(Owner, Owner.id == UnitOwner.owner_id)
            .where(UnitOwner.unit_id == u.id, UnitOwner.active, Owner.active)
            .order_by(UnitOwner.owner_id)
            .limit(1)
        )
        return UnitRef(u.id, u.community, u.building, u.unit, u.room), owner_id

    async def is_empty(self) -> bool:
        return (await self.s.scalar(sa.select(sa.func.count()).select_from(Unit))) == 0
