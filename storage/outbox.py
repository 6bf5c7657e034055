"""The outbox table: rows written in the step's transaction, claimed with a lease to send. Each
row names its channel; a sender claims only the rows of the channels it delivers."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from .models import OutboxMessage, UTCDateTime
from .sql_helpers import inline_sqlite, sqlite_time

# how long a claimed row is its sender's: a sender killed while holding rows delays them by at
# most this. Each request is cut off well inside it (bot/outbox_sender.py SEND_TIMEOUT), and a
# sender sends nothing whose lease is about to run out, so a live sender's row is never
# claimed a second time
LEASE = timedelta(seconds=30)


@dataclass(slots=True)
class ClaimedRow:
    id: int
    channel: str
    chat_id: str
    method: str
    payload: dict
    attempts: int
    priority: int
    purpose: str
    ticket_id: int | None
    ref: dict
    # when the claim runs out (None: read back without it); the sender sends nothing past it
    lease_until: datetime | None = None


_MARK_SENT = sa.text(
    "UPDATE outbox SET state = 'sent', sent_at = :at, claimed_until = NULL, "
    "sent_message_id = :mid WHERE id = :id"
).bindparams(sa.bindparam("at", type_=UTCDateTime()))


_ADD_SQL = (
    "INSERT INTO outbox (channel, chat_id, method, payload, priority, state, attempts, "
    "not_before, created_at, error, ticket_id, purpose, ref, claimed_until) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, '', ?, ?, ?, ?) RETURNING id"
)
_ADD = sa.insert(OutboxMessage.__table__).returning(OutboxMessage.__table__.c.id)
_UNREACHABLE_SQL = (
    "SELECT DISTINCT chat_id FROM accounts WHERE channel = :ch AND unreachable AND chat_id IN :ids"
)
_UNREACHABLE = sa.text(_UNREACHABLE_SQL).bindparams(sa.bindparam("ids", expanding=True))
_SENT_TIMES = (
    sa.text(
        "SELECT id, sent_at FROM outbox "
        "WHERE chat_id = :chat AND channel = :ch AND sent_at > :since"
    )
    .bindparams(sa.bindparam("since", type_=UTCDateTime()))
    .columns(sa.column("id", sa.Integer), sa.column("sent_at", UTCDateTime()))
)


class OutboxRepo:
    def __init__(self, session: AsyncSession):
        self.s = session
        # the rows written in this unit of work, in order: the handler that commits it wakes
        # the sender for exactly these (bot/routers/owner.py)
        self.added: list[int] = []
        # born_claimed: rows of these channels are written already claimed by the caller, who
        # sends them right after commit (an owner's step): no second transaction to claim
        # them, and a crash before they are sent delays them by the lease only
        self.born_claimed: frozenset[str] = frozenset()
        self.claimed: list[ClaimedRow] = []
        self._raw: Any = None  # the inline sqlite3 connection (False: not on one)

    async def _sqlite(self):
        """The plain sqlite3 connection under this transaction on the inline embedded default,
        looked up once per unit of work (each lookup is a hop through SQLAlchemy)."""
        if self._raw is None:
            self._raw = await inline_sqlite(self.s) or False
        return self._raw or None

    async def add(
        self,
        chat_id: str,
        payload: dict[str, Any],
        now: datetime,
        *,
        channel: str,
        method: str = "sendMessage",
        priority: int = 5,
        ticket_id: int | None = None,
        purpose: str = "owner",
        ref: dict[str, Any] | None = None,
    ) -> int:
        # every owner step writes its replies here: one plain INSERT, not an ORM flush (which
        # cost more than the rest of the step, bench/dialogs.py)
        claimed = channel in self.born_claimed
        state, attempts = ("sending", 1) if claimed else ("pending", 0)
        raw = await self._sqlite()
        if raw is not None:
            at = sqlite_time(now)
            row_id = raw.execute(
                _ADD_SQL,
                (
                    channel,
                    str(chat_id),
                    method,
                    json.dumps(payload, ensure_ascii=False),
                    priority,
                    state,
                    attempts,
                    at,
                    at,
                    ticket_id,
                    purpose,
                    json.dumps(ref or {}, ensure_ascii=False),
                    sqlite_time(now + LEASE) if claimed else None,
                ),
            ).fetchone()[0]
        else:
            conn = await self.s.connection()
            row_id = (
                await conn.execute(
                    _ADD,
                    {
                        "channel": channel,
                        "chat_id": str(chat_id),
                        "method": method,
                        "payload": payload,
                        "priority": priority,
                        "state": state,
                        "attempts": attempts,
                        "claimed_until": now + LEASE if claimed else None,
                        "not_before": now,
                        "created_at": now,
                        "error": "",
                        "ticket_id": ticket_id,
                        "purpose": purpose,
                        "ref": ref or {},
                    },
                )
            ).scalar_one()
        self.added.append(row_id)
        if claimed:
            self.claimed.append(
                ClaimedRow(
                    row_id,
                    channel,
                    str(chat_id),
                    method,
                    payload,
                    attempts,
                    priority,
                    purpose,
                    ticket_id,
                    ref or {},
                    now + LEASE,
                )
            )
        return row_id

    async def retarget(self, row_ids: Sequence[int], method: str, extra: dict[str, Any]) -> None:
        """Rows just written, to be sent another way (WeChat's greeting: send_msg_on_event with
        its welcome_code): the method changed and fields added to the payload."""
        for row in self.claimed:
            if row.id in row_ids:
                row.method, row.payload = method, {**row.payload, **extra}
        for row_id in row_ids:
            msg = await self.s.get(OutboxMessage, row_id)
            if msg is not None:
                msg.method, msg.payload = method, {**msg.payload, **extra}
        await self.s.flush()

    async def claim(
        self,
        now: datetime,
        limit: int = 20,
        ids: list[int] | None = None,
        min_age: timedelta | None = None,
        *,
        channels: Sequence[str],
    ) -> list[Any]:
        """Take due rows of `channels` under a lease: a row whose sender died is taken again
        after the lease. On PostgreSQL, SKIP LOCKED keeps two senders off the same rows; SQLite
        has one writer."""
        raw = await self._sqlite()
        if raw is not None:
            return self._claim_sqlite(raw, now, limit, ids, min_age, channels)
        t = OutboxMessage.__table__
        cond = sa.and_(
            t.c.channel.in_(list(channels)),
            t.c.not_before <= now,
            sa.or_(
                t.c.state == "pending", sa.and_(t.c.state == "sending", t.c.claimed_until < now)
            ),
        )
        if ids is not None:
            cond = sa.and_(cond, t.c.id.in_(ids))
        if min_age is not None:
            # a row held back once (not_before moved past its creation) is nobody's to send
            # at once any more: it goes as soon as it is due
            cond = sa.and_(
                cond, sa.or_(t.c.created_at <= now - min_age, t.c.not_before > t.c.created_at)
            )
        pick = sa.select(t.c.id).where(cond).order_by(t.c.priority, t.c.id).limit(limit)
        conn = await self.s.connection()
        if conn.dialect.name == "postgresql":
            picked = list(await conn.scalars(pick.with_for_update(skip_locked=True)))
            if not picked:
                return []
            chosen = t.c.id.in_(picked)
        else:
            chosen = t.c.id.in_(pick.scalar_subquery())
        stmt = (
            sa.update(t)
            .where(chosen, cond)
            .values(state="sending", claimed_until=now + LEASE, attempts=t.c.attempts + 1)
            .returning(
                t.c.id,
                t.c.channel,
                t.c.chat_id,
                t.c.method,
                t.c.payload,
                t.c.attempts,
                t.c.priority,
                t.c.purpose,
                t.c.ticket_id,
                t.c.ref,
            )
        )
        rows = [ClaimedRow(*r, lease_until=now + LEASE) for r in (await conn.execute(stmt)).all()]
        return sorted(rows, key=lambda r: (r.priority, r.id))

    def _claim_sqlite(self, raw, now, limit, ids, min_age, channels) -> list[Any]:
        """The same claim in one plain statement on the embedded database (every owner step that
        creates a ticket runs it)."""
        where = (
            "not_before <= :now AND (state = 'pending' OR "
            "(state = 'sending' AND claimed_until < :now))"
        )
        params: dict[str, Any] = {
            "now": sqlite_time(now),
            "lease": sqlite_time(now + LEASE),
            "limit": limit,
        }
        if not channels:
            return []
        params.update({f"c{n}": v for n, v in enumerate(channels)})
        where += " AND channel IN (" + ",".join(f":c{n}" for n in range(len(channels))) + ")"
        if ids is not None:
            params.update({f"i{n}": v for n, v in enumerate(ids)})
            where += " AND id IN (" + ",".join(f":i{n}" for n in range(len(ids))) + ")"
            if not ids:
                return []
        if min_age is not None:
            where += " AND (created_at <= :old OR not_before > created_at)"
            params["old"] = sqlite_time(now - min_age)
        cur = raw.execute(
            "UPDATE outbox SET state = 'sending', claimed_until = :lease, attempts = attempts + 1 "
            f"WHERE id IN (SELECT id FROM outbox WHERE {where} ORDER BY priority, id LIMIT :limit) "
            "RETURNING id, channel, chat_id, method, payload, attempts, priority, purpose, "
            "ticket_id, ref",
            params,
        )
        rows = [
            ClaimedRow(
                r[0],
                r[1],
                r[2],
                r[3],
                json.loads(r[4]),
                r[5],
                r[6],
                r[7],
                r[8],
                json.loads(r[9]) if r[9] else {},
                now + LEASE,
            )
            for r in cur.fetchall()
        ]
        return sorted(rows, key=lambda r: (r.priority, r.id))

    async def mark_sent(self, row_id: int, now: datetime, message_id: int | None = None) -> None:
        raw = await self._sqlite()
        if raw is not None:
            raw.execute(
                "UPDATE outbox SET state = 'sent', sent_at = ?, claimed_until = NULL, "
                "sent_message_id = ? WHERE id = ?",
                (sqlite_time(now), message_id, row_id),
            )
            return
        conn = await self.s.connection()
        await conn.execute(_MARK_SENT, {"id": row_id, "at": now, "mid": message_id})

    async def retry_later(
        self, row_id: int, when: datetime, error: str, *, counts: bool = True
    ) -> None:
        """Back to pending until `when`. A row held back by our own rate limits (counts=False)
        has not been tried: its claim does not count towards the attempts that end in failure."""
        values: dict[str, Any] = {
            "state": "pending",
            "not_before": when,
            "claimed_until": None,
            "error": error[:500],
        }
        if not counts:
            values["attempts"] = OutboxMessage.attempts - 1
        await self.s.execute(
            sa.update(OutboxMessage).where(OutboxMessage.id == row_id).values(**values)
        )

    async def release(self, row_ids: Sequence[int], when: datetime, error: str = "") -> None:
        """Claimed rows handed back untried (a 429 or a network error stopped the batch before
        them): pending again from `when`, the lease cleared, the claim not counted, so they are
        neither held for the lease nor brought nearer to failing."""
        if not row_ids:
            return
        await self.s.execute(
            sa.update(OutboxMessage)
            .where(OutboxMessage.id.in_(list(row_ids)), OutboxMessage.state == "sending")
            .values(
                state="pending",
                not_before=when,
                claimed_until=None,
                attempts=OutboxMessage.attempts - 1,
                error=error[:500],
            )
        )

    async def fail(self, row_id: int, error: str, *, tried: bool = True) -> None:
        """Set aside for good; `tried=False`: no request was made for it (its claim not
        counted)."""
        values: dict[str, Any] = {"state": "failed", "claimed_until": None, "error": error[:500]}
        if not tried:
            values["attempts"] = OutboxMessage.attempts - 1
        await self.s.execute(
            sa.update(OutboxMessage).where(OutboxMessage.id == row_id).values(**values)
        )

    async def unreachable_chats(self, channel: str, chat_ids: Sequence[str]) -> set[str]:
        """Which of these chats belong to an account the channel refused for good (a 403):
        nothing more is sent there until the owner writes again."""
        if not chat_ids:
            return set()
        raw = await self._sqlite()
        if raw is not None:
            marks = ",".join("?" * len(chat_ids))
            cur = raw.execute(
                _UNREACHABLE_SQL.replace(":ch", "?").replace(":ids", f"({marks})"),
                (channel, *chat_ids),
            )
            return {r[0] for r in cur.fetchall()}
        conn = await self.s.connection()
        res = await conn.execute(_UNREACHABLE, {"ch": channel, "ids": list(chat_ids)})
        return {r[0] for r in res}

    async def sent_times(
        self, channel: str, chat_id: str, since: datetime
    ) -> list[tuple[int, datetime]]:
        """The rows sent into a chat after `since`, by any sender (a group's minute)."""
        conn = await self.s.connection()
        res = await conn.execute(_SENT_TIMES, {"chat": str(chat_id), "ch": channel, "since": since})
        return [(r.id, r.sent_at) for r in res]

    async def pending_count(self) -> int:
        return int(
            await self.s.scalar(
                sa.select(sa.func.count())
                .select_from(OutboxMessage)
                .where(OutboxMessage.state.in_(("pending", "sending")))
            )
            or 0
        )

    async def pending_for_chat(
        self, channel: str, chat_id: str, purpose: str
    ) -> list[OutboxMessage]:
        return list(
            await self.s.scalars(
                sa.select(OutboxMessage)
                .where(
                    OutboxMessage.channel == channel,
                    OutboxMessage.chat_id == str(chat_id),
                    OutboxMessage.purpose == purpose,
                    OutboxMessage.state == "pending",
                )
                .order_by(OutboxMessage.id)
            )
        )

    async def set_state(self, ids: list[int], state: str) -> None:
        await self.s.execute(
            sa.update(OutboxMessage)
            .where(OutboxMessage.id.in_(ids))
            .values(state=state, claimed_until=None)
        )

    # --- messages already sent into the agents' group -------------------------------------------
    async def sent_in_chat(
        self, channel: str, chat_id: str, message_id: int
    ) -> OutboxMessage | None:
        """The row a chat message came from: an agent's reply to it tells what it was about."""
        return await self.s.scalar(
            sa.select(OutboxMessage).where(
                OutboxMessage.channel == channel,
                OutboxMessage.chat_id == str(chat_id),
                OutboxMessage.sent_message_id == message_id,
            )
        )

    async def supersede_card_edits(self, ticket_id: int) -> None:
        """Several edits of one card waiting to be sent merge into the latest (the group is a
        scarce channel)."""
        await self.s.execute(
            sa.update(OutboxMessage)
            .where(
                OutboxMessage.ticket_id == ticket_id,
                OutboxMessage.purpose == "card_edit",
                OutboxMessage.state == "pending",
            )
            .values(state="superseded")
        )
