"""tickets carry a version: a button drawn for an older version of the card is a second tap

Revision ID: 0007
Revises: 0006_h1
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006_h1"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("tickets") as batch:
        batch.add_column(sa.Column("version", sa.Integer(), nullable=False, server_default="0"))


def downgrade() -> None:
    with op.batch_alter_table("tickets") as batch:
        batch.drop_column("version")
