"""Tables, with portable column types (SQLite embedded, PostgreSQL for several instances)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator


class UTCDateTime(TypeDecorator):
    """Aware UTC datetimes on both databases (SQLite keeps no zone of its own)."""

    impl = sa.DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime stored")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)


JSONType = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


class Base(DeclarativeBase):
    metadata = sa.MetaData(
        naming_convention={
            "ix": "ix_%(column_0_label)s",
            "uq": "uq_%(table_name)s_%(column_0_name)s",
            "ck": "ck_%(table_name)s_%(constraint_name)s",
            "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
            "pk": "pk_%(table_name)s",
        }
    )


class Unit(Base):
    __tablename__ = "units"
    __table_args__ = (sa.UniqueConstraint("community", "building", "unit", "room"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    community: Mapped[str] = mapped_column(sa.String(64), default="")
    building: Mapped[str] = mapped_column(sa.String(32))
    unit: Mapped[str] = mapped_column(sa.String(32), default="")
    room: Mapped[str] = mapped_column(sa.String(32))


class Owner(Base):
    """A person in the owner registry. One phone may own several units, one unit several owners."""

    __tablename__ = "owners"
    __table_args__ = (sa.UniqueConstraint("phone", "name"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(64))
    surname: Mapped[str] = mapped_column(sa.String(8))
    salutation: Mapped[str] = mapped_column(sa.String(8))  # 女士 / 先生
    phone: Mapped[str] = mapped_column(sa.String(20), index=True)
    active: Mapped[bool] = mapped_column(default=True)


class UnitOwner(Base):
    __tablename__ = "unit_owners"
    # 我的工单: the units of an owner (0011_reports)
    __table_args__ = (sa.Index("ix_unit_owners_owner", "owner_id", "active"),)
    unit_id: Mapped[int] = mapped_column(sa.ForeignKey("units.id"), primary_key=True)
    owner_id: Mapped[int] = mapped_column(sa.ForeignKey("owners.id"), primary_key=True)
    active: Mapped[bool] = mapped_column(default=True)


class Account(Base):
    """A channel account (a Telegram user, a console user, later WeCom...) mapped to a person."""

    __tablename__ = "accounts"
    __table_args__ = (
        sa.UniqueConstraint("channel", "external_id"),
        # the sender asks which chats are unreachable (bot/outbox_sender.py)
        sa.Index("ix_accounts_channel_chat", "channel", "chat_id"),
        # 我的工单: the accounts that proved the same phone (0011_reports)
        sa.Index("ix_accounts_phone", "phone"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(sa.String(16))
    external_id: Mapped[str] = mapped_column(sa.String(64))
    chat_id: Mapped[str] = mapped_column(sa.String(64))
    owner_id: Mapped[int | None] = mapped_column(sa.ForeignKey("owners.id"))
    phone: Mapped[str] = mapped_column(sa.String(20), default="")
    display_name: Mapped[str] = mapped_column(sa.String(128), default="")
    unreachable: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # the phone was shown to be the person's: a Telegram contact of their own, or an SMS code
    # typed back (WeChat gives no number); until then a WeChat owner sees only this account's
    # tickets
    phone_verified: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    # WeChat's budget: at most 5 messages within 48 h of the owner's last message
    # (bot/wecom/budget.py); when that message came, and how many we sent since
    last_inbound_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    sent_since_inbound: Mapped[int] = mapped_column(default=0, server_default="0")
    # the channel's last report that a message did not reach the owner (WeCom msg_send_fail)
    last_send_fail: Mapped[str] = mapped_column(sa.String(64), default="", server_default="")
    last_send_fail_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class SmsCode(Base):
    """A 6-digit code sent by SMS to prove a typed phone number (WeChat owners): kept as a
    hash, valid 5 minutes, 5 tries; one a minute per number."""

    __tablename__ = "sms_codes"
    __table_args__ = (sa.Index("ix_sms_codes_phone_created", "phone", "created_at"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(sa.ForeignKey("accounts.id"), index=True)
    phone: Mapped[str] = mapped_column(sa.String(20))
    code_hash: Mapped[str] = mapped_column(sa.String(128))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    tries: Mapped[int] = mapped_column(default=0)
    verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class ChannelCursor(Base):
    """Where a pulled channel's stream was read up to (WeCom sync_msg's next_cursor), saved
    after every page: a restart neither reads a message twice nor skips one."""

    __tablename__ = "channel_cursors"
    channel: Mapped[str] = mapped_column(sa.String(16), primary_key=True)
    stream: Mapped[str] = mapped_column(sa.String(64), primary_key=True)  # the open_kfid
    cursor: Mapped[str] = mapped_column(sa.String(256), default="")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ChannelMessage(Base):
    """A channel's message ids already handled (WeCom msgid): each is applied once, whatever
    is delivered again."""

    __tablename__ = "channel_messages"
    channel: Mapped[str] = mapped_column(sa.String(16), primary_key=True)
    msgid: Mapped[str] = mapped_column(sa.String(128), primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)


class Conversation(Base):
    __tablename__ = "conversations"
    # the report's dialogs left mid-way, by when they were last touched (0011_reports)
    __table_args__ = (sa.Index("ix_conversations_updated_at", "updated_at"),)
    account_id: Mapped[int] = mapped_column(sa.ForeignKey("accounts.id"), primary_key=True)
    state: Mapped[dict] = mapped_column(JSONType, default=dict)
    mode: Mapped[str] = mapped_column(sa.String(16), default="bot")  # bot / human
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Ticket(Base):
    __tablename__ = "tickets"
    # the tickets a report's period touches: still open or closed within it (0011_reports)
    __table_args__ = (sa.Index("ix_tickets_closed_at", "closed_at"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(sa.String(32), unique=True)
    kind: Mapped[str] = mapped_column(sa.String(16))  # repair / complaint / consult
    category: Mapped[str | None] = mapped_column(sa.String(32))
    department: Mapped[str] = mapped_column(sa.String(32))
    urgent: Mapped[bool] = mapped_column(default=False)
    emergency: Mapped[bool] = mapped_column(default=False)
    status: Mapped[str] = mapped_column(sa.String(16), index=True, default="new")
    description: Mapped[str] = mapped_column(sa.Text, default="")
    location: Mapped[str] = mapped_column(sa.String(200), default="")
    time_slot: Mapped[str] = mapped_column(sa.String(32), default="")
    # reporter (the chat account), owner of record, contact phone and unit are kept apart
    reporter_account_id: Mapped[int] = mapped_column(sa.ForeignKey("accounts.id"), index=True)
    owner_id: Mapped[int | None] = mapped_column(sa.ForeignKey("owners.id"), index=True)
    contact_phone: Mapped[str] = mapped_column(sa.String(20), default="")
    unit_id: Mapped[int | None] = mapped_column(sa.ForeignKey("units.id"), index=True)
    unit_label: Mapped[str] = mapped_column(sa.String(128), default="")
    unit_verified: Mapped[bool] = mapped_column(default=False)
    # the reporter's phone was proven (a contact of their own, an SMS code); a WeChat owner
    # who has not typed the code back yet reports with this False: 身份未核实 on the card
    reporter_verified: Mapped[bool] = mapped_column(default=True, server_default=sa.true())
    promised_contact_by: Mapped[datetime | None] = mapped_column(UTCDateTime())
    promised_arrive_by: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # the SLA watch's completion deadline (arrival + sla_complete minutes): a repair's third
    # promise, re-planned with the arrival (延期) and moved by a paused clock like the others
    promised_complete_by: Mapped[datetime | None] = mapped_column(UTCDateTime())
    handler_name: Mapped[str] = mapped_column(sa.String(64), default="")
    # 首问责任制: the agent who took the ticket first owns it until it is closed
    handler_agent_id: Mapped[int | None] = mapped_column(sa.ForeignKey("agents.id"))
    card_message_id: Mapped[int | None] = mapped_column(sa.BigInteger)
    escalated: Mapped[bool] = mapped_column(default=False)
    last_urged_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    urge_count: Mapped[int] = mapped_column(default=0)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # the owner answered 已解决 on the completion message: the survey skips that question
    owner_confirmed: Mapped[bool] = mapped_column(default=False)
    # SLA clock paused (waiting on the owner or on parts) since this instant
    sla_paused_since: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # bumped by every change the desk makes: buttons carry it, so a double tap applies once
    version: Mapped[int] = mapped_column(default=0, server_default="0")
    # one fault, one ticket: a ticket merged by hand into another points at it
    merged_into: Mapped[int | None] = mapped_column(sa.ForeignKey("tickets.id"))
    details: Mapped[dict] = mapped_column(JSONType, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class TicketEvent(Base):
    """The ticket's history: who, when, what, note. Every state change writes one."""

    __tablename__ = "ticket_events"
    # a ticket's history in order, read without a sort by the report (0011_reports)
    __table_args__ = (sa.Index("ix_ticket_events_ticket_at", "ticket_id", "at", "id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(sa.ForeignKey("tickets.id"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    actor_kind: Mapped[str] = mapped_column(sa.String(16))  # owner / agent / system
    actor_id: Mapped[int | None] = mapped_column(sa.Integer)
    action: Mapped[str] = mapped_column(sa.String(32))
    from_status: Mapped[str | None] = mapped_column(sa.String(16))
    to_status: Mapped[str | None] = mapped_column(sa.String(16))
    note: Mapped[str] = mapped_column(sa.Text, default="")
    # the promise this event's stage was held to (first contact, arrival, completion), as it
    # stood when the stage was reached: a later 延期 does not rewrite what was promised then
    promise_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


def _stage(kind_len: int = 16):
    """A stage's instant and who reached it (actor kind, actor id)."""
    return (
        mapped_column(UTCDateTime(), nullable=True),
        mapped_column(sa.String(kind_len), nullable=True),
        mapped_column(sa.Integer, nullable=True),
    )


class TicketStage(Base):
    """Every stage of a ticket's life in one row, kept as its history is written
    (storage/stage_book.py folds each event in; backfilled from the history in 0012), so the
    managers' report reads one row per ticket instead of replaying its events."""

    __tablename__ = "ticket_stages"
    ticket_id: Mapped[int] = mapped_column(sa.ForeignKey("tickets.id"), primary_key=True)
    created_at, created_kind, created_by = _stage()
    accepted_at, accepted_kind, accepted_by = _stage()
    first_contact_at, first_contact_kind, first_contact_by = _stage()
    dispatched_at, dispatched_kind, dispatched_by = _stage()
    on_site_at, on_site_kind, on_site_by = _stage()
    completed_at, completed_kind, completed_by = _stage()
    closed_at, closed_kind, closed_by = _stage()
    reopened_at, reopened_kind, reopened_by = _stage()
    rated_at, rated_kind, rated_by = _stage()
    followup_done_at, followup_done_kind, followup_done_by = _stage()
    escalated_at, escalated_kind, escalated_by = _stage()
    # the last completion (a reopened ticket is completed again) and how often it reopened
    last_completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    reopen_count: Mapped[int] = mapped_column(default=0, server_default="0")
    # the promise each stage was held to when it was reached (None: none was made)
    contact_promise: Mapped[datetime | None] = mapped_column(UTCDateTime())
    arrive_promise: Mapped[datetime | None] = mapped_column(UTCDateTime())
    complete_promise: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # 延期: how often the arrival was re-planned
    replans: Mapped[int] = mapped_column(default=0, server_default="0")


class ReplyHold(Base):
    """An agent's words for an owner held by the polite-language checker (服务禁言): the
    report's 情绪管理 counts them per agent. The phrases, not the reply, are kept."""

    __tablename__ = "reply_holds"
    id: Mapped[int] = mapped_column(primary_key=True)
    agent_id: Mapped[int | None] = mapped_column(sa.ForeignKey("agents.id"), index=True)
    ticket_id: Mapped[int | None] = mapped_column(sa.ForeignKey("tickets.id"))
    account_id: Mapped[int | None] = mapped_column(sa.ForeignKey("accounts.id"))
    phrases: Mapped[str] = mapped_column(sa.String(200), default="")
    at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)


class KbAnswer(Base):
    """A consultation the bot answered by itself (an entry of the knowledge base, or an outage
    notice), and what the owner made of it: the report's 机器人解答 share."""

    __tablename__ = "kb_answers"
    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int | None] = mapped_column(sa.ForeignKey("accounts.id"))
    entry_id: Mapped[int | None] = mapped_column(sa.Integer)  # None: a notice answered it
    source: Mapped[str] = mapped_column(sa.String(16), default="entry")  # entry / notice
    # shown (no word back) / solved / declined (filed a consultation) / human (asked a person)
    outcome: Mapped[str] = mapped_column(sa.String(16), default="shown")
    at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)


class Attachment(Base):
    __tablename__ = "attachments"
    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(sa.ForeignKey("tickets.id"), index=True)
    kind: Mapped[str] = mapped_column(sa.String(16))  # photo / voice / other
    file_id: Mapped[str] = mapped_column(sa.String(256))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class TicketCounter(Base):
    """Per prefix and day (BX-20261123): an upsert keeps numbers unique across instances."""

    __tablename__ = "ticket_counters"
    prefix: Mapped[str] = mapped_column(sa.String(24), primary_key=True)
    last: Mapped[int] = mapped_column(default=0)


class Handoff(Base):
    __tablename__ = "handoffs"
    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(sa.ForeignKey("accounts.id"), index=True)
    ticket_id: Mapped[int | None] = mapped_column(sa.ForeignKey("tickets.id"))
    state: Mapped[str] = mapped_column(sa.String(16), default="waiting")  # waiting/active/closed
    agent_id: Mapped[int | None] = mapped_column(sa.ForeignKey("agents.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    nudged_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # the owner's words relayed to the group clipped (bot/desk/relay.py), here in full:
    # [{"at": iso time, "message_id": n, "text": ...}]
    long_texts: Mapped[list] = mapped_column(JSONType, default=list, server_default="[]")


class OutboxMessage(Base):
    """A message to send after commit. Marked sent only once its channel accepted it."""

    __tablename__ = "outbox"
    __table_args__ = (
        sa.Index("ix_outbox_pending", "state", "not_before"),
        # a group's last minute of sends, read back by the sender (bot/rate_limit.py)
        sa.Index("ix_outbox_chat_sent", "chat_id", "sent_at"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    # who receives it: the channel whose sender delivers the row, and the recipient as that
    # channel names it (a chat id on Telegram). No Python default: every writer says which.
    channel: Mapped[str] = mapped_column(sa.String(16), server_default="telegram")
    chat_id: Mapped[str] = mapped_column(sa.String(64))
    method: Mapped[str] = mapped_column(sa.String(32), default="sendMessage")
    payload: Mapped[dict] = mapped_column(JSONType)
    priority: Mapped[int] = mapped_column(default=5)
    state: Mapped[str] = mapped_column(sa.String(16), default="pending")
    attempts: Mapped[int] = mapped_column(default=0)
    not_before: Mapped[datetime] = mapped_column(UTCDateTime())
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    error: Mapped[str] = mapped_column(sa.Text, default="")
    ticket_id: Mapped[int | None] = mapped_column(sa.Integer)
    # what the message is for (owner, card, card_edit, relay, prompt, alert) and what it points at,
    # so a reply to it in the agents' group finds its conversation or ticket
    purpose: Mapped[str] = mapped_column(sa.String(16), default="owner")
    ref: Mapped[dict] = mapped_column(JSONType, default=dict)
    sent_message_id: Mapped[int | None] = mapped_column(sa.BigInteger)


class ProcessedUpdate(Base):
    """Update ids already handled: the same update delivered twice is ignored."""

    __tablename__ = "processed_updates"
    update_id: Mapped[int] = mapped_column(sa.BigInteger, primary_key=True, autoincrement=False)
    at: Mapped[datetime] = mapped_column(UTCDateTime())


class Agent(Base):
    """The roster: only its members act in the agents' group."""

    __tablename__ = "agents"
    id: Mapped[int] = mapped_column(primary_key=True)
    telegram_user_id: Mapped[str] = mapped_column(sa.String(32), unique=True)
    name: Mapped[str] = mapped_column(sa.String(64))
    role: Mapped[str] = mapped_column(sa.String(16), default="agent")  # agent / supervisor
    active: Mapped[bool] = mapped_column(default=True)
    # on duty: the one named to owners ("值班客服小林") when no handler owns their matter yet
    on_duty: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Worker(Base):
    """Who does the work, per department; most are named and phoned, not in Telegram."""

    __tablename__ = "workers"
    id: Mapped[int] = mapped_column(primary_key=True)
    department: Mapped[str] = mapped_column(sa.String(32), index=True)
    name: Mapped[str] = mapped_column(sa.String(64))
    phone: Mapped[str] = mapped_column(sa.String(20), default="")
    telegram_user_id: Mapped[str | None] = mapped_column(sa.String(32))
    active: Mapped[bool] = mapped_column(default=True)


class WorkOrder(Base):
    """One department's part of a ticket, with its worker and time (000 §04: 工程部 then 保洁)."""

    __tablename__ = "work_orders"
    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(sa.ForeignKey("tickets.id"), index=True)
    department: Mapped[str] = mapped_column(sa.String(32))
    worker_id: Mapped[int | None] = mapped_column(sa.ForeignKey("workers.id"))
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    state: Mapped[str] = mapped_column(sa.String(16), default="open")  # open / done
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_by: Mapped[int | None] = mapped_column(sa.Integer)


class FollowUp(Base):
    """A scheduled follow-up (survey, re-check, SLA reminder…), created in the same transaction
    as the event that causes it and claimed under a lease, so it is neither dropped nor doubled."""

    __tablename__ = "followups"
    __table_args__ = (sa.Index("ix_followups_due", "state", "due_at"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(sa.String(24))
    ticket_id: Mapped[int | None] = mapped_column(sa.ForeignKey("tickets.id"), index=True)
    account_id: Mapped[int | None] = mapped_column(sa.ForeignKey("accounts.id"))
    due_at: Mapped[datetime] = mapped_column(UTCDateTime())
    urgent: Mapped[bool] = mapped_column(default=False)
    state: Mapped[str] = mapped_column(
        sa.String(16), default="pending"
    )  # pending/claimed/done/cancelled
    attempts: Mapped[int] = mapped_column(default=0)
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    data: Mapped[dict] = mapped_column(JSONType, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class Survey(Base):
    """回访 answers, per ticket, with the handler, for reports."""

    __tablename__ = "surveys"
    __table_args__ = (sa.Index("ix_surveys_sent_at", "sent_at"),)  # 0011_reports
    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(sa.ForeignKey("tickets.id"), index=True)
    account_id: Mapped[int] = mapped_column(sa.ForeignKey("accounts.id"))
    kind: Mapped[str] = mapped_column(
        sa.String(16), default="survey"
    )  # survey/recheck/improvement/routine
    handler_agent_id: Mapped[int | None] = mapped_column(sa.Integer)
    handler_name: Mapped[str] = mapped_column(sa.String(64), default="")
    state: Mapped[str] = mapped_column(sa.String(16), default="open")  # open/answered/no_answer
    step: Mapped[str] = mapped_column(sa.String(16), default="overall")
    overall: Mapped[int | None] = mapped_column(sa.Integer)
    speed: Mapped[int | None] = mapped_column(sa.Integer)
    attitude: Mapped[int | None] = mapped_column(sa.Integer)
    solved: Mapped[bool | None] = mapped_column(sa.Boolean)
    comment: Mapped[str] = mapped_column(sa.Text, default="")
    mood: Mapped[str] = mapped_column(sa.String(8), default="")
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime())
    reminded_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class Task(Base):
    """Work for a person: a 差评回访 call-back, or a phone 回访 for an owner the bot cannot reach.
    Closes only when its result is recorded."""

    __tablename__ = "tasks"
    __table_args__ = (sa.Index("ix_tasks_kind_created", "kind", "created_at"),)  # 0011_reports
    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(sa.String(24))  # bad_review_callback / phone_survey
    ticket_id: Mapped[int] = mapped_column(sa.ForeignKey("tickets.id"), index=True)
    agent_id: Mapped[int | None] = mapped_column(sa.Integer)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime())
    state: Mapped[str] = mapped_column(sa.String(16), default="open")
    result: Mapped[str] = mapped_column(sa.Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


# --- issue 12: knowledge base, notices, one fault one ticket -------------------------------------
class KbEntry(Base):
    """A 常见问题 entry: the question, other ways owners ask it, the answer (plain text, escaped
    by the templates), where and when it applies, who changed it last."""

    __tablename__ = "kb_entries"
    id: Mapped[int] = mapped_column(primary_key=True)
    question: Mapped[str] = mapped_column(sa.Text)
    alternatives: Mapped[list] = mapped_column(JSONType, default=list)
    answer: Mapped[str] = mapped_column(sa.Text)
    category: Mapped[str] = mapped_column(sa.String(32), default="")
    community: Mapped[str] = mapped_column(sa.String(64), default="")
    buildings: Mapped[list] = mapped_column(JSONType, default=list)  # empty: every building
    valid_from: Mapped[date | None] = mapped_column(sa.Date)
    valid_until: Mapped[date | None] = mapped_column(sa.Date)
    active: Mapped[bool] = mapped_column(default=True)
    updated_by: Mapped[str] = mapped_column(sa.String(64), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class KbChange(Base):
    """Every change to an entry, by whom (an agent's name, "cli", "import"): before and after."""

    __tablename__ = "kb_changes"
    id: Mapped[int] = mapped_column(primary_key=True)
    entry_id: Mapped[int] = mapped_column(sa.ForeignKey("kb_entries.id"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    actor: Mapped[str] = mapped_column(sa.String(64))
    action: Mapped[str] = mapped_column(sa.String(16))  # add / edit / off / on / import
    before: Mapped[dict] = mapped_column(JSONType, default=dict)
    after: Mapped[dict] = mapped_column(JSONType, default=dict)


class KbMiss(Base):
    """An owner's question the knowledge base could not answer (or whose answer did not help):
    `/faq misses` lists the most frequent of the week."""

    __tablename__ = "kb_misses"
    id: Mapped[int] = mapped_column(primary_key=True)
    question: Mapped[str] = mapped_column(sa.Text)
    # the question folded (synonyms, simplified, no punctuation): equal asks count together
    normalized: Mapped[str] = mapped_column(sa.String(200), index=True)
    account_id: Mapped[int | None] = mapped_column(sa.ForeignKey("accounts.id"))
    reason: Mapped[str] = mapped_column(sa.String(16), default="none")  # none / declined / other
    at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)


class Notice(Base):
    """A 公告 of an outage or works: where (a community, some buildings or all), when, what."""

    __tablename__ = "notices"
    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(sa.String(16))  # water / power / gas / lift / works / other
    community: Mapped[str] = mapped_column(sa.String(64), default="")
    buildings: Mapped[list] = mapped_column(JSONType, default=list)  # empty: all of them
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime())
    text: Mapped[str] = mapped_column(sa.Text, default="")
    urgent: Mapped[bool] = mapped_column(default=False)
    state: Mapped[str] = mapped_column(sa.String(16), default="active")  # active / ended
    created_by: Mapped[str] = mapped_column(sa.String(64), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class NoticeRecipient(Base):
    """Who was told of a notice: the same owners hear when it ends early or is extended."""

    __tablename__ = "notice_recipients"
    notice_id: Mapped[int] = mapped_column(sa.ForeignKey("notices.id"), primary_key=True)
    account_id: Mapped[int] = mapped_column(sa.ForeignKey("accounts.id"), primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime())


class TicketSubscriber(Base):
    """Another owner who reported the same public fault: hears the progress, the completion and
    the survey like the reporter. `active` False: split back out by an agent."""

    __tablename__ = "ticket_subscribers"
    # 我的工单: the shared faults an account follows (0011_reports)
    __table_args__ = (sa.Index("ix_ticket_subscribers_account", "account_id", "active"),)
    ticket_id: Mapped[int] = mapped_column(sa.ForeignKey("tickets.id"), primary_key=True)
    account_id: Mapped[int] = mapped_column(sa.ForeignKey("accounts.id"), primary_key=True)
    owner_id: Mapped[int | None] = mapped_column(sa.ForeignKey("owners.id"))
    active: Mapped[bool] = mapped_column(default=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
