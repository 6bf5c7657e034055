"""Bulk data for bench/report.py: a month of tickets with their history, surveys, reopenings
and call-backs, written straight through the drivers (sqlite3 executemany in one transaction,
asyncpg COPY) after the real migrations, so a million rows load in seconds. Every column of a
row is filled from the model's own defaults, so the rows look like the bot's."""

from __future__ import annotations

import json
import random
import sqlite3
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from storage import models as m

TZ = ZoneInfo("Asia/Shanghai")
MONTH_START = datetime(2026, 11, 1, tzinfo=TZ)
LAST_DAY = date(2026, 11, 30)
NOW = datetime(2026, 12, 1, 9, tzinfo=TZ)
START = MONTH_START.astimezone(UTC).replace(tzinfo=None)  # naive UTC, as stored
SPAN = 30 * 86400
UNITS, ACCOUNTS, AGENTS = 20_000, 50_000, 30
CATEGORIES = ("water", "power", "door", "lift", "noise", "clean", "gas", "other")
KINDS = ("repair",) * 14 + ("complaint",) * 3 + ("consult",) * 3
OPEN = ("new", "accepted", "dispatched", "in_progress", "done")
BATCH = 20_000


def _defaults(table: sa.Table) -> dict:
    out = {}
    for c in table.columns:
        d = c.default
        out[c.name] = d.arg if d is not None and d.is_scalar else None
        if d is not None and d.is_callable:  # default=dict / list, wrapped to take a context
            out[c.name] = d.arg(None)
    return out


class Sink:
    """Rows by table into the database: tuples in column order, values as each driver wants."""

    def __init__(self, url: str):
        self.url, self.sqlite = url, url.startswith("sqlite")
        self.cols = {t.name: [c.name for c in t.columns] for t in m.Base.metadata.sorted_tables}
        self.base = {t.name: _defaults(t) for t in m.Base.metadata.sorted_tables}
        self.json = {
            t.name: {c.name for c in t.columns if isinstance(c.type, sa.JSON)}
            for t in m.Base.metadata.sorted_tables
        }

    async def __aenter__(self):
        if self.sqlite:
            self.conn = sqlite3.connect(self.url.split(":///", 1)[1], isolation_level=None)
            self.conn.execute("PRAGMA synchronous=OFF")
            self.conn.execute("BEGIN")
        else:
            import asyncpg

            self.conn = await asyncpg.connect(self.url.replace("+asyncpg", ""))
        return self

    async def __aexit__(self, *exc):
        if self.sqlite:
            self.conn.execute("COMMIT")
            self.conn.close()
        else:
            for t in ("tickets", "ticket_events", "surveys", "tasks", "accounts", "units"):
                await self.conn.execute(
                    f"SELECT setval(pg_get_serial_sequence('{t}', 'id'), "
                    f"(SELECT coalesce(max(id), 1) FROM {t}))"
                )
            await self.conn.execute("ANALYZE")  # what autovacuum does after a bulk load
            await self.conn.close()

    def _tuple(self, table: str, row: dict) -> tuple:
        full = {**self.base[table], **row}
        for k in self.json[table]:
            full[k] = json.dumps(full[k] if full[k] is not None else {}, ensure_ascii=False)
        if self.sqlite:
            for k, v in full.items():
                if isinstance(v, datetime):
                    full[k] = v.isoformat(" ", "microseconds")
        return tuple(full[c] for c in self.cols[table])

    async def put(self, table: str, rows: Iterator[dict]) -> int:
        n, batch = 0, []
        for row in rows:
            batch.append(self._tuple(table, row))
            if len(batch) >= BATCH:
                n += await self._flush(table, batch)
                batch = []
        return n + await self._flush(table, batch)

    async def _flush(self, table: str, batch: list[tuple]) -> int:
        if not batch:
            return 0
        cols = self.cols[table]
        if self.sqlite:
            marks = ",".join("?" * len(cols))
            self.conn.executemany(f"INSERT INTO {table} ({','.join(cols)}) VALUES ({marks})", batch)
        else:
            await self.conn.copy_records_to_table(table, records=batch, columns=cols)
        return len(batch)


def _people(rng: random.Random) -> dict[str, Iterator[dict]]:
    t0 = START - timedelta(days=400)
    return {
        "units": (
            {
                "id": u,
                "community": f"c{u % 5}",
                "building": f"B{u % 40}",
                "unit": "1",
                "room": str(u),
            }
            for u in range(1, UNITS + 1)
        ),
        "owners": (
            {
                "id": o,
                "name": f"owner{o}",
                "surname": "王",
                "salutation": "女士",
                "phone": f"139{o:08d}",
            }
            for o in range(1, ACCOUNTS + 1)
        ),
        "unit_owners": ({"unit_id": 1 + o % UNITS, "owner_id": o} for o in range(1, ACCOUNTS + 1)),
        "accounts": (
            {
                "id": a,
                "channel": "wecom" if a % 4 == 0 else "telegram",
                "external_id": str(a),
                "chat_id": str(a),
                "owner_id": a,
                "phone": f"139{a:08d}",
                "phone_verified": rng.random() < 0.6,
                "created_at": t0,
            }
            for a in range(1, ACCOUNTS + 1)
        ),
        "agents": (
            {"id": g, "telegram_user_id": str(g), "name": f"agent{g}", "created_at": t0}
            for g in range(1, AGENTS + 1)
        ),
    }


def _ticket(tid: int, created: datetime, rng: random.Random, closed: bool) -> dict:
    kind = rng.choice(KINDS)
    acc = rng.randint(1, ACCOUNTS)
    public = kind == "repair" and rng.random() < 0.1
    details = (
        {"place": "public", "pub_building": f"B{tid % 40}", "pub_spot": f"s{tid % 7}"}
        if public
        else {"place": "home"}
    )
    urgent = rng.random() < 0.1
    return {
        "id": tid,
        "number": f"BX-{tid}",
        "kind": kind,
        "category": rng.choice(CATEGORIES),
        "department": "dept_eng",
        "urgent": urgent,
        "status": "closed" if closed else rng.choice(OPEN),
        "reporter_account_id": acc,
        "owner_id": acc,
        "unit_id": None if public else 1 + acc % UNITS,
        "unit_label": "1-1-101",
        "unit_verified": True,
        "promised_contact_by": created + timedelta(minutes=30 if urgent else 120),
        "promised_arrive_by": created + timedelta(hours=1 if urgent else 24),
        "promised_complete_by": created + timedelta(hours=3 if urgent else 28),
        "handler_agent_id": rng.randint(1, AGENTS),
        "handler_name": "agent",
        "urge_count": 1 if rng.random() < 0.05 else 0,
        "details": details,
        "created_at": created,
        "updated_at": created,
    }


def _month(n: int, rng: random.Random, out: dict[str, list]) -> Iterator[dict]:
    """Tickets of the month (and a few from October still open), filling `out` with their
    events, surveys and call-backs as each ticket is made."""
    eid = sid = kid = 0
    for tid in range(1, n + 1):
        early = tid % 50 == 0
        created = START + timedelta(seconds=rng.randrange(SPAN) - (20 * 86400 if early else 0))
        closed = not early and rng.random() < 0.85
        t = _ticket(tid, created, rng, closed)
        ag, who = t["handler_agent_id"], t["reporter_account_id"]
        steps = [(0, "owner", who, "created", "new", "")]
        at = rng.randint(2, 60)
        steps += [(at, "agent", ag, "take", "accepted", "")]
        steps += [(at + rng.randint(5, 120), "agent", ag, "progress", "in_progress", "已联系业主")]
        steps += [(at + 130, "agent", ag, "dispatch", "dispatched", "x")]
        steps += [(at + rng.randint(140, 1500), "agent", ag, "progress", "in_progress", "已到场")]
        if closed:
            done = at + rng.randint(1500, 3000)
            steps += [(done, "agent", ag, "complete", "done", "")]
            if rng.random() < 0.05:
                steps += [(done + 600, "owner", who, "reopen", "in_progress", "")]
                done += 1200
                steps += [(done, "agent", ag, "complete", "done", "")]
            end = created + timedelta(minutes=done + 60)
            if rng.random() < 0.6:
                sid += 1
                score = rng.choice((5, 5, 5, 4, 4, 3, 2, 1))
                answered = rng.random() < 0.7
                sent = created + timedelta(minutes=done + 5)
                out["surveys"].append(
                    {
                        "id": sid,
                        "ticket_id": tid,
                        "account_id": who,
                        "handler_agent_id": ag,
                        "state": "answered" if answered else "no_answer",
                        "overall": score if answered else None,
                        "speed": score if answered else None,
                        "attitude": score if answered else None,
                        "solved": score > 2 if answered else None,
                        "sent_at": sent,
                        "answered_at": end if answered else None,
                    }
                )
                if answered:
                    steps += [(done + 60, "owner", who, "survey", None, f"{score}/{score}/{score}")]
                if answered and score <= 2:
                    kid += 1
                    out["tasks"].append(
                        {
                            "id": kid,
                            "kind": "bad_review_callback",
                            "ticket_id": tid,
                            "agent_id": ag,
                            "due_at": end + timedelta(days=1),
                            "done_at": end + timedelta(hours=rng.randint(1, 40)),
                            "state": "done",
                            "created_at": end,
                        }
                    )
            steps += [(done + 60, "system", None, "close", "closed", "")]
            t["closed_at"] = end
        for mins, kind, actor, action, to, note in steps:
            eid += 1
            out["ticket_events"].append(
                {
                    "id": eid,
                    "ticket_id": tid,
                    "at": created + timedelta(minutes=mins),
                    "actor_kind": kind,
                    "actor_id": actor,
                    "action": action,
                    "to_status": to,
                    "note": note,
                }
            )
        yield t


async def load_month(url: str, n: int, seed: int) -> dict[str, int]:
    from storage.db import migrate

    await migrate(url)
    rng = random.Random(seed)
    counts: dict[str, int] = {}
    async with Sink(url) as sink:
        for table, rows in _people(rng).items():
            counts[table] = await sink.put(table, rows)
        done = 0
        while done < n:  # in slices, so the events of 100,000 tickets never sit in memory
            extra: dict[str, list] = {"ticket_events": [], "surveys": [], "tasks": []}
            slice_n = min(10_000, n - done)
            tickets = list(_month(slice_n, rng, extra))
            for t in tickets:
                t["id"] += done
                t["number"] = f"BX-{t['id']}"
            off = {"ticket_events": counts.get("ticket_events", 0)}
            off |= {"surveys": counts.get("surveys", 0), "tasks": counts.get("tasks", 0)}
            for table, rows in extra.items():
                for r in rows:
                    r["id"] += off[table]
                    r["ticket_id"] += done
            counts["tickets"] = counts.get("tickets", 0) + await sink.put("tickets", iter(tickets))
            for table, rows in extra.items():
                counts[table] = counts.get(table, 0) + await sink.put(table, iter(rows))
            done += slice_n
        counts["conversations"] = await sink.put(
            "conversations",
            (
                {
                    "account_id": a,
                    "state": {"flow": rng.choice(("repair", "complaint", "menu")), "step": "s1"},
                    "updated_at": START + timedelta(seconds=rng.randrange(SPAN)),
                }
                for a in range(1, 5001)
            ),
        )
        counts["kb_answers"] = await sink.put(
            "kb_answers",
            (
                {
                    "id": i + 1,
                    "outcome": rng.choice(("shown", "solved", "declined", "human")),
                    "at": START + timedelta(seconds=s),
                }
                for i, s in enumerate(range(0, SPAN, SPAN // 20000))
            ),
        )
        counts["reply_holds"] = await sink.put(
            "reply_holds",
            (
                {"id": i + 1, "agent_id": 1 + i % AGENTS, "at": START + timedelta(seconds=s)}
                for i, s in enumerate(range(0, SPAN, SPAN // 1000))
            ),
        )
        counts["kb_misses"] = await sink.put(
            "kb_misses",
            (
                {
                    "id": i + 1,
                    "question": "q",
                    "normalized": "q",
                    "at": START + timedelta(seconds=s),
                }
                for i, s in enumerate(range(0, SPAN, SPAN // 2000))
            ),
        )
    return counts


async def top_up(url: str, total: int, seed: int) -> int:
    """More tickets, from the two years before the month, until the table holds `total`."""
    import sqlalchemy as sa_

    from storage.db import make_engine

    engine = make_engine(url)
    async with engine.connect() as conn:
        have = int(await conn.scalar(sa_.select(sa_.func.max(m.Ticket.id))) or 0)
    await engine.dispose()
    rng = random.Random(seed + 1)
    before = START - timedelta(days=730)

    def rows() -> Iterator[dict]:
        for tid in range(have + 1, total + 1):
            created = before + timedelta(seconds=rng.randrange(729 * 86400))
            t = _ticket(tid, created, rng, True)
            t["closed_at"] = created + timedelta(days=1)
            yield t

    async with Sink(url) as sink:
        added = await sink.put("tickets", rows())
    return have + added
