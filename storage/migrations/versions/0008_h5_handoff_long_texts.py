"""a handoff keeps in full the owner's words that were relayed to the group clipped

Revision ID: 0008_h5
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0008_h5"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    json = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
    with op.batch_alter_table("handoffs") as batch:
        batch.add_column(sa.Column("long_texts", json, nullable=False, server_default="[]"))


def downgrade() -> None:
    with op.batch_alter_table("handoffs") as batch:
        batch.drop_column("long_texts")
