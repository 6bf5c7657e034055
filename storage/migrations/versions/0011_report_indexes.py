"""the managers' report and 我的工单 stay fast as the tables grow (bench/report.py measures both):
a ticket's history read in order, the tickets a period touches, the surveys sent and dialogs
touched within it; and the owner's list, whose every branch (followed tickets, own units, the
same proven phone) must start from an index rather than a scan of its table

Revision ID: 0011_reports
Revises: 0010_kb
"""

from alembic import op

revision = "0011_reports"
down_revision = "0010_kb"
branch_labels = None
depends_on = None

INDEXES = (
    ("ix_ticket_events_ticket_at", "ticket_events", ["ticket_id", "at", "id"]),
    ("ix_tickets_closed_at", "tickets", ["closed_at"]),
    ("ix_surveys_sent_at", "surveys", ["sent_at"]),
    ("ix_tasks_kind_created", "tasks", ["kind", "created_at"]),
    ("ix_conversations_updated_at", "conversations", ["updated_at"]),
    ("ix_ticket_subscribers_account", "ticket_subscribers", ["account_id", "active"]),
    ("ix_unit_owners_owner", "unit_owners", ["owner_id", "active"]),
    ("ix_accounts_phone", "accounts", ["phone"]),
)


def upgrade() -> None:
    for name, table, columns in INDEXES:
        op.create_index(name, table, columns)


def downgrade() -> None:
    for name, table, _ in reversed(INDEXES):
        op.drop_index(name, table_name=table)
