"""every stage of a ticket kept as it happens, with who reached it and the promise it was held
to (ticket_stages, ticket_events.promise_at, tickets.promised_complete_by), backfilled from the
history of tickets filed before; the agents' replies held by the polite-language checker and
the consultations the bot answered by itself, for the managers' report

Revision ID: 0012_stages
Revises: 0011_reports
"""

import sqlalchemy as sa
from alembic import op

revision = "0012_stages"
down_revision = "0011_reports"
branch_labels = None
depends_on = None

STAGES = (
    "created",
    "accepted",
    "first_contact",
    "dispatched",
    "on_site",
    "completed",
    "closed",
    "reopened",
    "rated",
    "followup_done",
    "escalated",
)


def upgrade() -> None:
    with op.batch_alter_table("tickets") as batch:
        batch.add_column(sa.Column("promised_complete_by", sa.DateTime(), nullable=True))
    with op.batch_alter_table("ticket_events") as batch:
        batch.add_column(sa.Column("promise_at", sa.DateTime(), nullable=True))
    columns = []
    for stage in STAGES:
        columns += [
            sa.Column(f"{stage}_at", sa.DateTime(), nullable=True),
            sa.Column(f"{stage}_kind", sa.String(16), nullable=True),
            sa.Column(f"{stage}_by", sa.Integer(), nullable=True),
        ]
    op.create_table(
        "ticket_stages",
        sa.Column("ticket_id", sa.Integer(), sa.ForeignKey("tickets.id"), primary_key=True),
        *columns,
        sa.Column("last_completed_at", sa.DateTime(), nullable=True),
        sa.Column("reopen_count", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("contact_promise", sa.DateTime(), nullable=True),
        sa.Column("arrive_promise", sa.DateTime(), nullable=True),
        sa.Column("complete_promise", sa.DateTime(), nullable=True),
        sa.Column("replans", sa.Integer(), nullable=False, server_default="0"),
    )
    op.create_table(
        "reply_holds",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("agent_id", sa.Integer(), sa.ForeignKey("agents.id"), nullable=True),
        sa.Column("ticket_id", sa.Integer(), sa.ForeignKey("tickets.id"), nullable=True),
        sa.Column("account_id", sa.Integer(), sa.ForeignKey("accounts.id"), nullable=True),
        sa.Column("phrases", sa.String(200), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
    )
    op.create_index("ix_reply_holds_agent_id", "reply_holds", ["agent_id"])
    op.create_index("ix_reply_holds_at", "reply_holds", ["at"])
    op.create_table(
        "kb_answers",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("account_id", sa.Integer(), sa.ForeignKey("accounts.id"), nullable=True),
        sa.Column("entry_id", sa.Integer(), nullable=True),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
    )
    op.create_index("ix_kb_answers_at", "kb_answers", ["at"])
    # the stages of every ticket filed so far, from its history (the same fold the bot runs
    # on each new event), under the policy the bot runs with
    from storage.stage_backfill import backfill, policy_rules

    backfill(op.get_bind(), policy_rules())


def downgrade() -> None:
    op.drop_index("ix_kb_answers_at", table_name="kb_answers")
    op.drop_table("kb_answers")
    op.drop_index("ix_reply_holds_at", table_name="reply_holds")
    op.drop_index("ix_reply_holds_agent_id", table_name="reply_holds")
    op.drop_table("reply_holds")
    op.drop_table("ticket_stages")
    with op.batch_alter_table("ticket_events") as batch:
        batch.drop_column("promise_at")
    with op.batch_alter_table("tickets") as batch:
        batch.drop_column("promised_complete_by")
