"""WeChat (微信客服) as an owner channel: a proven phone, SMS codes, the pulled stream's cursor,
handled message ids, the 5-in-48-hours budget, the channel's delivery failures

Revision ID: 0009_wecom
Revises: 0008_h5
"""

import sqlalchemy as sa
from alembic import op

revision = "0009_wecom"
down_revision = "0008_h5"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("accounts") as batch:
        batch.add_column(
            sa.Column("phone_verified", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch.add_column(sa.Column("last_inbound_at", sa.DateTime(), nullable=True))
        batch.add_column(
            sa.Column("sent_since_inbound", sa.Integer(), nullable=False, server_default="0")
        )
        batch.add_column(
            sa.Column("last_send_fail", sa.String(64), nullable=False, server_default="")
        )
        batch.add_column(sa.Column("last_send_fail_at", sa.DateTime(), nullable=True))
    with op.batch_alter_table("tickets") as batch:
        batch.add_column(
            sa.Column("reporter_verified", sa.Boolean(), nullable=False, server_default=sa.true())
        )
    # Telegram accounts whose phone is the registry's own for their owner came from a contact
    # of their own (a typed number is never matched to the registry): proven already
    op.execute(
        "UPDATE accounts SET phone_verified = true WHERE channel = 'telegram' AND phone <> '' "
        "AND owner_id IS NOT NULL "
        "AND phone = (SELECT o.phone FROM owners o WHERE o.id = accounts.owner_id)"
    )
    op.create_table(
        "sms_codes",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("account_id", sa.Integer(), sa.ForeignKey("accounts.id"), nullable=False),
        sa.Column("phone", sa.String(20), nullable=False),
        sa.Column("code_hash", sa.String(128), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.Column("tries", sa.Integer(), nullable=False),
        sa.Column("verified_at", sa.DateTime(), nullable=True),
    )
    op.create_index("ix_sms_codes_account_id", "sms_codes", ["account_id"])
    op.create_index("ix_sms_codes_phone_created", "sms_codes", ["phone", "created_at"])
    op.create_table(
        "channel_cursors",
        sa.Column("channel", sa.String(16), primary_key=True),
        sa.Column("stream", sa.String(64), primary_key=True),
        sa.Column("cursor", sa.String(256), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
    )
    op.create_table(
        "channel_messages",
        sa.Column("channel", sa.String(16), primary_key=True),
        sa.Column("msgid", sa.String(128), primary_key=True),
        sa.Column("at", sa.DateTime(), nullable=False),
    )
    op.create_index("ix_channel_messages_at", "channel_messages", ["at"])


def downgrade() -> None:
    op.drop_index("ix_channel_messages_at", "channel_messages")
    op.drop_table("channel_messages")
    op.drop_table("channel_cursors")
    op.drop_index("ix_sms_codes_phone_created", "sms_codes")
    op.drop_index("ix_sms_codes_account_id", "sms_codes")
    op.drop_table("sms_codes")
    with op.batch_alter_table("tickets") as batch:
        batch.drop_column("reporter_verified")
    with op.batch_alter_table("accounts") as batch:
        for col in (
            "last_send_fail_at",
            "last_send_fail",
            "sent_since_inbound",
            "last_inbound_at",
            "phone_verified",
        ):
            batch.drop_column(col)
