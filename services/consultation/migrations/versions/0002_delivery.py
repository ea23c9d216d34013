"""Delivery: parked outbox rows (failed_at, last_error) and indexes for retention.

Revision ID: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("outbox") as batch:
        batch.add_column(sa.Column("failed_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("last_error", sa.Text(), nullable=True))
    op.create_index("ix_outbox_published_at", "outbox", ["published_at"])
    op.create_index("ix_processed_events_processed_at", "processed_events", ["processed_at"])


def downgrade() -> None:
    op.drop_index("ix_processed_events_processed_at", table_name="processed_events")
    op.drop_index("ix_outbox_published_at", table_name="outbox")
    with op.batch_alter_table("outbox") as batch:
        batch.drop_column("last_error")
        batch.drop_column("failed_at")
