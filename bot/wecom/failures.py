"""WeChat's msg_send_fail event: a message WeChat had accepted did not reach the owner after all
(refused by the owner, the session closed, the budget spent on WeChat's side...).

The report is kept on the owner's account (last_send_fail, last_send_fail_at), and where the
event's msgid is ours (wx<row id>, bot/wecom/sender.py) the rows of that message are marked
failed and each ticket they were about gets a "send_failed" event with the fail_type, so the
handler reading the ticket's history sees that the owner was not told."""

from __future__ import annotations

import logging
import re
from datetime import datetime

import sqlalchemy as sa

from storage.models import OutboxMessage
from storage.ticket_history import record_event
from storage.uow import UnitOfWork

from .budget import WECOM

log = logging.getLogger(__name__)

# wx<row id>, or wx<last row id>_<hash> for a merged message (WeComSender's Message.msgid)
_OURS = re.compile(r"wx(\d{1,18})(?:_[0-9a-f]+)?")


def row_key(msgid: str) -> int | None:
    """The row id our msgid names (every row of a merged message keeps it as its
    sent_message_id), or None for a msgid that is not ours."""
    m = _OURS.fullmatch(msgid or "")
    return int(m.group(1)) if m else None


async def record_send_fail(
    uow: UnitOfWork, external_userid: str, msgid: str, fail_type: int, now: datetime
) -> None:
    acc = await uow.accounts.account_by_external(WECOM, external_userid)
    if acc is not None:
        acc.last_send_fail = str(fail_type)[:64]
        acc.last_send_fail_at = now
    key = row_key(msgid)
    if key is None:
        log.info("wecom msg_send_fail (fail_type %s) for a message not ours", fail_type)
        return
    # only this owner's rows: a msgid from the event never reaches another owner's message
    rows = list(
        await uow.session.scalars(
            sa.select(OutboxMessage)
            .where(
                OutboxMessage.channel == WECOM,
                OutboxMessage.chat_id == str(external_userid),
                sa.or_(OutboxMessage.id == key, OutboxMessage.sent_message_id == key),
            )
            .order_by(OutboxMessage.id)
        )
    )
    tickets: list[int] = []
    for row in rows:
        await uow.outbox.fail(row.id, f"msg_send_fail fail_type={fail_type}")
        if row.ticket_id is not None and row.ticket_id not in tickets:
            tickets.append(row.ticket_id)
    for ticket_id in tickets:
        await record_event(
            uow.session,
            ticket_id,
            now,
            "system",
            None,
            "send_failed",
            note=f"fail_type={fail_type}",
        )
    log.info(
        "wecom msg_send_fail (fail_type %s): rows %s, tickets %s",
        fail_type,
        [r.id for r in rows],
        tickets,
    )
