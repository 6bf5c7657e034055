"""A channel refusing an owner for good (Telegram: 403, blocked or deactivated): one try, the
owner marked unreachable, the handler told; a survey that cannot reach them becomes a phone 回访
task (desk/surveys.py decides). Nothing more is sent to that chat (bot/outbox_sender.py) until
the owner writes again: any update from the account clears the mark (`owner_wrote`)."""

from __future__ import annotations

import sqlalchemy as sa

from desk import surveys
from dialogs.state import profile_of
from storage.models import Account
from storage.sql_helpers import inline_sqlite
from storage.uow import UnitOfWork

from ..desk.apply import apply
from ..desk.casefile import case_of
from ..desk.context import Desk
from ..desk.service import rules


async def owner_blocked(desk: Desk, uow: UnitOfWork, row) -> None:
    acc = await uow.session.scalar(
        sa.select(Account).where(
            Account.channel == row.channel, Account.chat_id == str(row.chat_id)
        )
    )
    if acc is None or acc.unreachable:
        return
    ticket = await uow.cases.ticket(row.ticket_id) if row.ticket_id else None
    conv = await uow.accounts.conversation(acc.id)
    sv = await uow.followups.open_survey_for(acc.id)
    effects = surveys.unreachable(
        await case_of(uow, ticket) if ticket else None,
        acc.id,
        profile_of(conv.state if conv else None).salutation,
        acc.phone,
        (sv.id, sv.kind) if sv is not None else None,
        rules(desk),
        # WeChat refuses beyond its budget, not because the owner blocked anyone
        why="budget" if row.channel == "wecom" else "blocked",
    )
    await apply(desk, uow, ticket, effects)


# every owner step runs it: one statement, prepared once, that changes nothing for an account
# that was never refused
_REACHABLE_SQL = "UPDATE accounts SET unreachable = false WHERE id = :aid AND unreachable"
_REACHABLE = sa.text(_REACHABLE_SQL)


async def owner_wrote(uow: UnitOfWork, account_id: int) -> None:
    """An update from the owner (a message, a tap): they unblocked the bot, so the chat is open."""
    raw = await inline_sqlite(uow.session)
    if raw is not None:
        raw.execute(_REACHABLE_SQL.replace(":aid", "?"), (account_id,))
        return
    await uow.session.execute(_REACHABLE, {"aid": account_id})
