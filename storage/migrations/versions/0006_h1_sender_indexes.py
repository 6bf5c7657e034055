"""the sender's two lookups stay cheap as the tables grow: which chats belong to an unreachable
account, and what was sent into the agents' group in the last minute

Revision ID: 0006_h1
Revises: 0005
"""

from alembic import op

revision = "0006_h1"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_accounts_channel_chat", "accounts", ["channel", "chat_id"])
    op.create_index("ix_outbox_chat_sent", "outbox", ["chat_id", "sent_at"])


def downgrade() -> None:
    op.drop_index("ix_outbox_chat_sent", table_name="outbox")
    op.drop_index("ix_accounts_channel_chat", table_name="accounts")
