"""Channel accounts, their conversation state (the hot path of every step), and the update ids
already handled. Never commits; the unit of work does."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import flag_modified

from dialogs.state import profile_of

from .models import Account, Conversation, JSONType, ProcessedUpdate, UTCDateTime
from .sql_helpers import inline_sqlite, sqlite_time

# The three statements every dialog step runs, prepared once: building and caching a statement
# per call cost more CPU than running it (bench/dialogs.py).
_OPEN_SQL = (
    "SELECT a.id, a.owner_id, a.phone, c.account_id AS has_conv, c.state FROM accounts a "
    "LEFT JOIN conversations c ON c.account_id = a.id WHERE a.channel = :ch AND a.external_id = :ext"
)
_SAVE_SQL = "UPDATE conversations SET state = ?, updated_at = ? WHERE account_id = ?"
_FIRST_TIME_SQL = (
    "INSERT INTO processed_updates (update_id, at) VALUES (?, ?) "
    "ON CONFLICT DO NOTHING RETURNING update_id"
)


_OPEN = sa.text(
    "SELECT a.id, a.owner_id, a.phone, c.account_id AS has_conv, c.state FROM accounts a "
    "LEFT JOIN conversations c ON c.account_id = a.id WHERE a.channel = :ch AND a.external_id = :ext"
).columns(
    sa.column("id", sa.Integer),
    sa.column("owner_id", sa.Integer),
    sa.column("phone", sa.String),
    sa.column("has_conv", sa.Integer),
    sa.column("state", JSONType),
)
_SAVE = sa.text(
    "UPDATE conversations SET state = :state, updated_at = :at WHERE account_id = :aid"
).bindparams(sa.bindparam("state", type_=JSONType), sa.bindparam("at", type_=UTCDateTime()))
_NEW_CONV = sa.text(
    "INSERT INTO conversations (account_id, state, mode, updated_at) "
    "VALUES (:aid, :state, 'bot', :at)"
).bindparams(sa.bindparam("state", type_=JSONType), sa.bindparam("at", type_=UTCDateTime()))
# One owner, one step at a time, across processes (PostgreSQL): the step's transaction holds an
# advisory lock on the account's channel id until it commits. SQLite needs none: every
# transaction there takes the file's write lock at BEGIN (storage/write_lock.py).
_LOCK_OWNER = sa.text("SELECT pg_advisory_xact_lock(hashtext(:ch || ':' || :ext))")
_LOCK_ACCOUNT = sa.text(
    "SELECT pg_advisory_xact_lock(hashtext(channel || ':' || external_id)) FROM accounts "
    "WHERE id = :aid"
)
_FIRST_TIME = sa.text(
    "INSERT INTO processed_updates (update_id, at) VALUES (:uid, :at) "
    "ON CONFLICT DO NOTHING RETURNING update_id"
).bindparams(sa.bindparam("at", type_=UTCDateTime()))


@dataclass(slots=True)
class ConversationRow:
    account_id: int
    owner_id: int | None
    phone: str
    state: dict[str, Any]
    is_new: bool = False


class AccountRepo:
    def __init__(self, session: AsyncSession):
        self.s = session
        self._raw: Any = None

    async def get_or_create(
        self, channel: str, external_id: str, chat_id: str, display_name: str, now: datetime
    ) -> Account:
        acc = await self.account_by_external(channel, external_id)
        if acc is None:
            acc = Account(
                channel=channel,
                external_id=external_id,
                chat_id=chat_id,
                display_name=display_name[:128],
                created_at=now,
            )
            self.s.add(acc)
            await self.s.flush()
        return acc

    async def account(self, account_id: int) -> Account | None:
        return await self.s.get(Account, account_id)

    async def account_by_external(self, channel: str, external_id: str) -> Account | None:
        return await self.s.scalar(
            sa.select(Account).where(Account.channel == channel, Account.external_id == external_id)
        )

    async def conversation(
        self, account_id: int, *, for_update: bool = False
    ) -> Conversation | None:
        """The stored conversation row, for the desk's side (takeover, release, surveys). To
        change it (`for_update`), it is read under the owner's lock, so it never interleaves with
        the owner's own step in another process."""
        if for_update and self.s.bind.dialect.name == "postgresql":
            await self.s.execute(_LOCK_ACCOUNT, {"aid": account_id})
        return await self.s.get(Conversation, account_id)

    def save_state(self, conv: Conversation, state: dict[str, Any], now: datetime) -> None:
        conv.state = state
        flag_modified(conv, "state")  # a JSON column: SQLAlchemy does not see in-place edits
        conv.updated_at = now

    async def _sqlite(self):
        """The plain sqlite3 connection under this transaction, when we run on the inline
        embedded default: the three hot statements then skip SQLAlchemy's per-call machinery
        (most of a step's CPU, bench/dialogs.py) while staying inside the same transaction."""
        if self._raw is False:
            return None
        if self._raw is None:
            self._raw = await inline_sqlite(self.s) or False
        return self._raw or None

    async def open_conversation(
        self, channel: str, external_id: str, chat_id: str, display_name: str, now: datetime
    ) -> ConversationRow:
        """The account and its conversation state in one query (the hot path of every step)."""
        raw = await self._sqlite()
        if raw is not None:
            found = raw.execute(_OPEN_SQL, {"ch": channel, "ext": external_id}).fetchone()
            if found is not None and found[3] is not None:
                return ConversationRow(
                    found[0], found[1], found[2] or "", json.loads(found[4]) if found[4] else {}
                )
        conn = await self.s.connection()
        if conn.dialect.name == "postgresql":
            await conn.execute(_LOCK_OWNER, {"ch": channel, "ext": external_id})
        row = (await conn.execute(_OPEN, {"ch": channel, "ext": external_id})).first()
        if row is None:
            acc = await self.get_or_create(channel, external_id, chat_id, display_name, now)
            await conn.execute(_NEW_CONV, {"aid": acc.id, "state": {}, "at": now})
            return ConversationRow(acc.id, None, "", {})
        if row.has_conv is None:
            await conn.execute(_NEW_CONV, {"aid": row.id, "state": {}, "at": now})
        return ConversationRow(row.id, row.owner_id, row.phone or "", dict(row.state or {}))

    async def save_conversation(
        self, conv: ConversationRow, state: dict[str, Any], now: datetime
    ) -> None:
        raw = await self._sqlite()
        if raw is not None:
            raw.execute(_SAVE_SQL, (json.dumps(state), sqlite_time(now), conv.account_id))
        else:
            conn = await self.s.connection()
            await conn.execute(_SAVE, {"aid": conv.account_id, "state": state, "at": now})
        profile = profile_of(state)
        owner_id, phone = profile.owner_id, profile.phone or conv.phone
        if (owner_id, phone) != (conv.owner_id, conv.phone):
            # the account maps to the person once identified, for this and any later channel
            await self.s.execute(
                sa.update(Account)
                .where(Account.id == conv.account_id)
                .values(
                    owner_id=owner_id,
                    phone=phone,
                    # proven stays proven only for the same number (a phone proven in this
                    # step was written by Verification.mark_verified already); a typed other
                    # number is not
                    phone_verified=sa.case(
                        (Account.phone == phone, Account.phone_verified), else_=sa.false()
                    ),
                )
            )

    async def prune_updates(self, before: datetime) -> int:
        """Telegram redelivers an update for a day at most: older ids need not be kept."""
        res = await self.s.execute(sa.delete(ProcessedUpdate).where(ProcessedUpdate.at < before))
        return res.rowcount or 0

    async def first_time(self, update_id: int, now: datetime) -> bool:
        """Record an update id; False when it was handled already (a duplicate delivery)."""
        raw = await self._sqlite()
        if raw is not None:
            cur = raw.execute(_FIRST_TIME_SQL, (update_id, sqlite_time(now)))
            return cur.fetchone() is not None
        conn = await self.s.connection()
        return (await conn.execute(_FIRST_TIME, {"uid": update_id, "at": now})).first() is not None
