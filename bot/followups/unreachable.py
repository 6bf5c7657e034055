"""403 from Telegram (blocked, deactivated): one try, the owner marked unreachable, the handler
told; a survey that cannot reach them becomes a phone 回访 task."""

from __future__ import annotations

import sqlalchemy as sa

from dialogs.state import profile_of
from storage.models import Account, Ticket
from storage.uow import UnitOfWork

from ..desk.context import Desk


async def owner_blocked(desk: Desk, uow: UnitOfWork, row) -> None:
    acc = await uow.session.scalar(
        sa.select(Account).where(Account.channel == "telegram", Account.chat_id == str(row.chat_id))
    )
    if acc is None or acc.unreachable:
        return
    acc.unreachable = True
    ticket = await uow.session.get(Ticket, row.ticket_id) if row.ticket_id else None
    conv = await uow.accounts.conversation(acc.id)
    await desk.to_agents(
        uow,
        "agent_owner_unreachable",
        {
            "salutation": profile_of(conv.state if conv else None).salutation,
            "number": ticket.number if ticket else "",
            "handler": ticket.handler_name if ticket else "",
            "phone": (ticket.contact_phone if ticket else acc.phone),
        },
        ticket_id=ticket.id if ticket else None,
    )
    sv = await uow.followups.open_survey_for(acc.id)
    if sv is not None and ticket is not None:
        from .scheduler import phone_task

        sv.state = "no_answer"
        await phone_task(desk, uow, ticket, sv.kind)
