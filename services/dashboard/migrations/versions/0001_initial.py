"""Initial dashboard schema: journal, daily counts, open items, outbox, processed events.

Revision ID: 0001
"""

import sqlalchemy as sa
from alembic import op

from shared.migration_ops import create_delivery_tables_v1, drop_delivery_tables_v1

revision = "0001"
down_revision = None


def upgrade() -> None:
    # The shared delivery tables as they were at revision 0001 (frozen helper: later changes
    # are new revisions, never edits there).
    create_delivery_tables_v1()
    op.create_table(
        "journal",
        sa.Column("event_id", sa.String(36), primary_key=True),
        sa.Column("tenant", sa.String(64), nullable=False, index=True),
        sa.Column("type", sa.String(120), nullable=False),
        sa.Column("source", sa.String(40), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("correlation_id", sa.String(64), nullable=False, index=True),
        sa.Column("registration_id", sa.String(36), nullable=True, index=True),
        sa.Column("phone_key", sa.String(64), nullable=True, index=True),
        sa.Column("summary", sa.JSON(), nullable=False),
    )
    op.create_table(
        "daily_counts",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("tenant", sa.String(64), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("metric", sa.String(80), nullable=False),
        sa.Column("dimension", sa.String(160), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.UniqueConstraint("tenant", "day", "metric", "dimension", name="uq_daily"),
    )
    op.create_table(
        "open_items",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("tenant", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("item_id", sa.String(64), nullable=False),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("first_response_s", sa.Integer(), nullable=True),
        sa.UniqueConstraint("kind", "item_id", name="uq_open_item"),
    )


def downgrade() -> None:
    for table in ("open_items", "daily_counts", "journal"):
        op.drop_table(table)
    drop_delivery_tables_v1()
