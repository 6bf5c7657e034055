"""What a pulled channel needs kept (WeCom 微信客服): where its stream was read up to, and which
of its message ids were handled already. Never commits: the unit of work does."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from .models import ChannelCursor, ChannelMessage
from .sql_helpers import upsert_insert


class ChannelRepo:
    def __init__(self, session: AsyncSession):
        self.s = session

    async def first_seen(self, channel: str, msgid: str, now: datetime) -> bool:
        """Record a message id; False when it was handled already (pulled again after a
        restart, or a callback that came twice). In the step's own transaction, so a message
        is marked handled exactly when its step is stored."""
        insert = upsert_insert(self.s)
        stmt = (
            insert(ChannelMessage)
            .values(channel=channel, msgid=msgid[:128], at=now)
            .on_conflict_do_nothing()
            .returning(ChannelMessage.msgid)
        )
        return (await self.s.execute(stmt)).first() is not None

    async def cursor(self, channel: str, stream: str) -> str:
        row = await self.s.get(ChannelCursor, (channel, stream))
        return row.cursor if row is not None else ""

    async def save_cursor(self, channel: str, stream: str, cursor: str, now: datetime) -> None:
        insert = upsert_insert(self.s)
        stmt = insert(ChannelCursor).values(
            channel=channel, stream=stream, cursor=cursor, updated_at=now
        )
        await self.s.execute(
            stmt.on_conflict_do_update(
                index_elements=[ChannelCursor.channel, ChannelCursor.stream],
                set_={"cursor": cursor, "updated_at": now},
            )
        )

    async def prune(self, before: datetime) -> int:
        """WeCom keeps messages pullable for 3 days: older ids need not be kept."""
        res = await self.s.execute(sa.delete(ChannelMessage).where(ChannelMessage.at < before))
        return res.rowcount or 0
