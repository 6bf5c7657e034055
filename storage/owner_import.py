"""The owner registry from CSV: all or nothing, idempotent, every bad line named.

Header: building,unit,room,name,salutation,phone with optional community and surname (for compound
surnames such as 欧阳). UTF-8 with or without BOM; a GBK file is refused."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from dialogs.phone import mask_phone, normalize_phone
from dialogs.units import WORDS, clean_part

from .csv_lines import csv_lines
from .models import Owner, Unit, UnitOwner

REQUIRED = ("building", "unit", "room", "name", "salutation", "phone")
OPTIONAL = ("community", "surname")
SALUTATIONS = tuple(WORDS["titles"])
RETIRED_EXAMPLES = 5


@dataclass(slots=True)
class ImportRow:
    line: int
    community: str
    building: str
    unit: str
    room: str
    name: str
    surname: str
    salutation: str
    phone: str


@dataclass(slots=True)
class ImportReport:
    ok: bool
    encoding_error: bool = False
    header_error: str = ""
    errors: list[tuple[int, str, str]] = field(default_factory=list)  # line, code, value
    rows: int = 0
    units_added: int = 0
    owners_added: int = 0
    owners_updated: int = 0
    links_added: int = 0
    retired: int = 0
    # (name, masked phone) of the first few owners `--replace` retires, for the operator to see
    retired_examples: list[tuple[str, str]] = field(default_factory=list)


def parse(raw: bytes) -> tuple[list[ImportRow], ImportReport]:
    report = ImportReport(ok=False)
    lines = csv_lines(raw, REQUIRED, report)
    if lines is None:
        return [], report
    rows: list[ImportRow] = []
    for i, get in lines:
        name, sal, phone = get("name"), get("salutation"), normalize_phone(get("phone"))
        surname = get("surname") or name[:1]
        bad = None
        if not get("building"):
            bad = ("missing_building", "")
        elif not get("room"):
            bad = ("missing_room", "")
        elif not name:
            bad = ("missing_name", "")
        elif sal not in SALUTATIONS:
            bad = ("bad_salutation", sal)
        elif phone is None:  # a valid mainland China or Hong Kong number (dialogs/phone.py)
            bad = ("bad_phone", get("phone"))
        elif get("surname") and not name.startswith(get("surname")):
            bad = ("bad_surname", get("surname"))
        if bad:
            report.errors.append((i, *bad))
            continue
        rows.append(
            ImportRow(
                i,
                get("community"),
                clean_part(get("building")),
                clean_part(get("unit")),
                clean_part(get("room")),
                name,
                surname,
                sal,
                phone,
            )
        )
    report.rows = len(rows)
    report.ok = not report.errors
    return rows, report


async def import_owners(session: AsyncSession, raw: bytes, replace: bool = False) -> ImportReport:
    """Parse and apply in the caller's transaction; nothing is applied when any line is bad."""
    rows, report = parse(raw)
    if not report.ok:
        return report
    units = {
        (u.community, u.building, u.unit, u.room): u for u in await session.scalars(sa.select(Unit))
    }
    owners = {(o.phone, o.name): o for o in await session.scalars(sa.select(Owner))}
    links = {(lk.unit_id, lk.owner_id): lk for lk in await session.scalars(sa.select(UnitOwner))}
    seen_owners: set[int] = set()
    seen_links: set[tuple[int, int]] = set()
    for r in rows:
        key = (r.community, r.building, r.unit, r.room)
        unit = units.get(key)
        if unit is None:
            unit = Unit(community=r.community, building=r.building, unit=r.unit, room=r.room)
            session.add(unit)
            await session.flush()
            units[key] = unit
            report.units_added += 1
        owner = owners.get((r.phone, r.name))
        if owner is None:
            owner = Owner(
                name=r.name, surname=r.surname, salutation=r.salutation, phone=r.phone, active=True
            )
            session.add(owner)
            await session.flush()
            owners[(r.phone, r.name)] = owner
            report.owners_added += 1
        elif (owner.surname, owner.salutation, owner.active) != (r.surname, r.salutation, True):
            owner.surname, owner.salutation, owner.active = r.surname, r.salutation, True
            report.owners_updated += 1
        seen_owners.add(owner.id)
        lk = links.get((unit.id, owner.id))
        if lk is None:
            lk = UnitOwner(unit_id=unit.id, owner_id=owner.id, active=True)
            session.add(lk)
            links[(unit.id, owner.id)] = lk
            report.links_added += 1
        elif not lk.active:
            lk.active = True
            report.links_added += 1
        seen_links.add((unit.id, owner.id))
    if replace:
        # retired, not deleted: their tickets stay with them
        for o in owners.values():
            if o.id not in seen_owners and o.active:
                o.active = False
                report.retired += 1
                if len(report.retired_examples) < RETIRED_EXAMPLES:
                    report.retired_examples.append((o.name, mask_phone(o.phone)))
        for k, lk in links.items():
            if k not in seen_links and lk.active:
                lk.active = False
    await session.flush()
    return report


def read_file(path: str | Path) -> bytes:
    return Path(path).read_bytes()
