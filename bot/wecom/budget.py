"""WeChat's budget (微信客服): at most 5 messages within 48 hours after the owner's last message
(kf/send_msg answers 95001 beyond it). The rule lives here and the count in the database
(accounts.last_inbound_at, accounts.sent_since_inbound), so every process and every restart sees
the same count.

A push that the budget cannot carry (progress, a survey, a 差评回访 notice) is not retried in a
loop: its row is 'held', which no claim takes, and the ticket's handler is told to phone the owner
(the sender's on_unreachable). The owner's next message opens the budget again (`owner_wrote`)
and puts every held row back in line ahead of that step's own reply, which the sender merges
with them into one message.

To spend less of it, one owner's rows in a batch go as few messages as WeChat's limits allow
(`plan`): texts joined with a blank line, a menu only at the end, within the renderer's byte
limits (bot/wecom/render.py)."""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from storage.models import Account, OutboxMessage
from storage.uow import UnitOfWork

from .plain_text import byte_len, split_at_line
from .render import HEAD_LIMIT, METHOD, TEXT_LIMIT, text_payload

WECOM = "wecom"
ON_EVENT = "send_msg_on_event"  # the greeting, with the enter_session event's welcome_code
BUDGET = 5
WINDOW = timedelta(hours=48)
# our window starts when the message was pulled, a little after WeChat stamped it (the puller may
# run minutes late without a callback): it is closed this much early rather than spend a request
# on a certain 95001
MARGIN = timedelta(minutes=10)
HELD = "held"
# released rows go before the step's own reply (PRIORITY_OWNER = 1, bot/desk/context.py): the
# sender takes one owner's rows in (priority, id) order and merges them in that order
FIRST = 0

# what the sender calls for a push held back: the handler phones the owner (bot/factory.py)
OnUnreachable = Callable[[UnitOfWork, Any], Awaitable[None]]


def left(account: Account | None, now: datetime) -> int:
    """How many messages WeChat will still take for this owner now (0 outside the window)."""
    if account is None or account.last_inbound_at is None:
        return 0
    if now >= account.last_inbound_at + WINDOW - MARGIN:
        return 0
    return max(0, BUDGET - (account.sent_since_inbound or 0))


async def account_for(uow: UnitOfWork, chat_id: str, *, lock: bool = False) -> Account | None:
    """The WeChat account behind a chat (its external_userid). `lock`: read under the row's lock
    on PostgreSQL, so a hold and the owner's message are never interleaved."""
    q = sa.select(Account).where(Account.channel == WECOM, Account.chat_id == str(chat_id))
    if lock:
        q = q.with_for_update()
    return await uow.session.scalar(q.limit(1))


async def owner_wrote(uow: UnitOfWork, account_id: int, now: datetime) -> None:
    """The owner wrote: a fresh budget of 5 for 48 hours, the unreachable mark cleared, and every
    held row of theirs due now, first in line. Run in the step's transaction, before the step."""
    # the account first: on PostgreSQL its row lock orders this against a sender holding rows
    # (`hold` reads the account under the same lock), so no row is held after this released
    await uow.session.execute(
        sa.update(Account)
        .where(Account.id == account_id, Account.channel == WECOM)
        .values(last_inbound_at=now, sent_since_inbound=0, unreachable=False)
    )
    chat = sa.select(Account.chat_id).where(Account.id == account_id).scalar_subquery()
    await uow.session.execute(
        sa.update(OutboxMessage)
        .where(
            OutboxMessage.channel == WECOM,
            OutboxMessage.chat_id == chat,
            OutboxMessage.state == HELD,
        )
        .values(state="pending", not_before=now, priority=FIRST, error="")
        .execution_options(synchronize_session=False)
    )


async def waiting(uow: UnitOfWork, chat_ids: Sequence[str], now: datetime) -> list[int]:
    """These owners' rows due now and not claimed (held rows just released, pushes queued
    meanwhile): the sender takes them along with a step's reply, to go first and merged."""
    if not chat_ids:
        return []
    return list(
        await uow.session.scalars(
            sa.select(OutboxMessage.id).where(
                OutboxMessage.channel == WECOM,
                OutboxMessage.chat_id.in_(list(chat_ids)),
                OutboxMessage.state == "pending",
                OutboxMessage.not_before <= now,
            )
        )
    )


async def spent(uow: UnitOfWork, chat_id: str) -> None:
    """WeChat accepted one message for this owner."""
    await uow.session.execute(
        sa.update(Account)
        .where(Account.channel == WECOM, Account.chat_id == str(chat_id))
        .values(sent_since_inbound=Account.sent_since_inbound + 1)
        .execution_options(synchronize_session=False)
    )


async def exhausted(uow: UnitOfWork, chat_id: str) -> None:
    """WeChat answered 95001 whatever our count said: nothing more is asked of it until the
    owner writes again."""
    await uow.session.execute(
        sa.update(Account)
        .where(
            Account.channel == WECOM,
            Account.chat_id == str(chat_id),
            Account.sent_since_inbound < BUDGET,
        )
        .values(sent_since_inbound=BUDGET)
        .execution_options(synchronize_session=False)
    )


async def hold(
    uow: UnitOfWork,
    rows: Sequence[Any],
    seen: datetime | None,
    now: datetime,
    why: str,
    *,
    refused: bool,
    tell: OnUnreachable | None,
) -> bool:
    """One owner's claimed rows wait for their next message, and `tell` is called once per
    ticket among them (the handler phones the owner). `refused`: WeChat answered 95001 whatever
    our count said, so nothing more is asked of it. False, and the rows back in line now, when
    the owner wrote since `seen` (the budget read before the send): their budget is fresh."""
    ids = [r.id for r in rows]
    chat = rows[0].chat_id
    acc = await account_for(uow, chat, lock=True)
    if acc is not None and acc.last_inbound_at != seen:
        await uow.outbox.release(ids, now, "the owner wrote")
        return False
    if refused:
        await exhausted(uow, chat)
    await _set_held(uow, ids, why)
    if tell is not None:
        for row in _one_per_ticket(rows):
            await tell(uow, row)
    return True


async def _set_held(uow: UnitOfWork, row_ids: Sequence[int], why: str) -> None:
    # not a try: the claim is not counted, so a held row never comes near failing
    await uow.session.execute(
        sa.update(OutboxMessage)
        .where(OutboxMessage.id.in_(list(row_ids)), OutboxMessage.state == "sending")
        .values(
            state=HELD,
            claimed_until=None,
            attempts=OutboxMessage.attempts - 1,
            error=why[:500],
        )
        .execution_options(synchronize_session=False)
    )


def _one_per_ticket(rows: list) -> list:
    """A ticket's rows first (its handler is told), then one without a ticket, if any."""
    seen: set[int | None] = set()
    out = []
    for row in sorted(rows, key=lambda r: r.ticket_id is None):
        if row.ticket_id not in seen:
            seen.add(row.ticket_id)
            out.append(row)
    return out


# --- spending less of it: one owner's rows as few messages as WeChat's limits allow -----------
@dataclass(slots=True)
class Message:
    """One request: consecutive rows of one owner, merged into one body."""

    rows: list[Any]
    method: str
    body: dict[str, Any]

    @property
    def chat(self) -> str:
        return self.rows[0].chat_id

    @property
    def msgid(self) -> str:
        """Ours, stable across retries of the same rows; a merged message names its rows' ids
        (in order), so different content never reuses a msgid WeChat may have accepted."""
        if len(self.rows) == 1:
            return f"wx{self.rows[0].id}"
        ids = ",".join(str(r.id) for r in self.rows)
        return f"wx{self.rows[-1].id}_{hashlib.sha256(ids.encode()).hexdigest()[:8]}"


def plan(rows: Iterable[Any]) -> list[Message]:
    """Each owner's rows, in their order, as few messages as WeChat's limits allow."""
    by_chat: dict[str, list[Any]] = {}
    for row in rows:
        by_chat.setdefault(row.chat_id, []).append(row)
    out: list[Message] = []
    for chat_rows in by_chat.values():
        current: Message | None = None
        for row in chat_rows:
            body = _joined(current, row) if current is not None else None
            if current is not None and body is not None:
                current.rows.append(row)
                current.body = body
            else:
                current = Message([row], row.method, row.payload)
                out.append(current)
    return out


def _joined(msg: Message, row: Any) -> dict[str, Any] | None:
    """msg with row's content after it, or None when they cannot be one message: another
    method or welcome code, a menu already at msg's end, or WeChat's byte limits."""
    if row.method != msg.method or row.method not in (METHOD, ON_EVENT):
        return None
    if msg.body.get("code") != row.payload.get("code"):
        return None
    if msg.body.get("msgtype") != "text":
        return None  # a menu ends its message: the options stay the last thing read
    merged = merge(msg.body["text"]["content"], row.payload)
    if merged is not None and "code" in row.payload:
        merged["code"] = row.payload["code"]
    return merged


def merge(text: str, payload: dict[str, Any]) -> dict[str, Any] | None:
    """`text`, a blank line, then the message `payload`; None beyond WeChat's limits (a text
    2048 bytes; a menu's head and tail 1024 each, cut at a line as the renderer cuts them)."""
    kind = payload.get("msgtype")
    if kind == "text":
        joined = f"{text}\n\n{payload['text']['content']}"
        return text_payload(joined) if byte_len(joined) <= TEXT_LIMIT else None
    if kind != "msgmenu":
        return None
    menu = dict(payload["msgmenu"])
    own = "\n".join(t for t in (menu.pop("head_content", ""), menu.pop("tail_content", "")) if t)
    joined = f"{text}\n\n{own}" if own else text
    if byte_len(joined) <= HEAD_LIMIT:
        head, tail = joined, ""
    elif (cut := split_at_line(joined, HEAD_LIMIT)) is not None:
        head, tail = cut
    else:
        return None
    menu["head_content"] = head
    if tail:
        menu["tail_content"] = tail
    return {**payload, "msgmenu": menu}
