"""Frozen migration steps that every service's history shares: the delivery tables.

Each service keeps an outbox and a processed-events table in its own schema; its revisions 0001
and 0002 create them through these functions. They are history, like the revisions that call
them: never edit one (an applied migration would no longer say what it did). A change to the
delivery tables is a new function here, with the next version in its name, called by a new
revision of every service. They spell the tables out; they never read `shared.outbox`'s
models, which describe today's tables and will move on.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


def create_delivery_tables_v1() -> None:
    """Revision 0001: `outbox` (with its unpublished-rows index) and `processed_events`."""
    op.create_table(
        "outbox",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            primary_key=True,
            autoincrement=True,
        ),
        sa.Column("event_id", sa.String(36), nullable=False, unique=True),
        sa.Column("event_type", sa.String(120), nullable=False),
        sa.Column("stream", sa.String(160), nullable=False),
        sa.Column("correlation_id", sa.String(64), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
    )
    op.create_index(
        "ix_outbox_unpublished",
        "outbox",
        ["id"],
        postgresql_where=sa.text("published_at IS NULL"),
        sqlite_where=sa.text("published_at IS NULL"),
    )
    op.create_table(
        "processed_events",
        sa.Column("consumer_group", sa.String(120), primary_key=True),
        sa.Column("event_id", sa.String(36), primary_key=True),
        sa.Column("processed_at", sa.DateTime(timezone=True), nullable=False),
    )


def drop_delivery_tables_v1() -> None:
    """Undoes create_delivery_tables_v1."""
    op.drop_table("processed_events")
    op.drop_index("ix_outbox_unpublished", table_name="outbox")
    op.drop_table("outbox")


def upgrade_delivery_tables_v2() -> None:
    """Revision 0002: parked outbox rows (failed_at, last_error) and the retention indexes."""
    with op.batch_alter_table("outbox") as batch:
        batch.add_column(sa.Column("failed_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("last_error", sa.Text(), nullable=True))
    op.create_index("ix_outbox_published_at", "outbox", ["published_at"])
    op.create_index("ix_processed_events_processed_at", "processed_events", ["processed_at"])


def downgrade_delivery_tables_v2() -> None:
    """Undoes upgrade_delivery_tables_v2."""
    op.drop_index("ix_processed_events_processed_at", table_name="processed_events")
    op.drop_index("ix_outbox_published_at", table_name="outbox")
    with op.batch_alter_table("outbox") as batch:
        batch.drop_column("last_error")
        batch.drop_column("failed_at")
