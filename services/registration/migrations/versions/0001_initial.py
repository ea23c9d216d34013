"""Initial registration schema: activities, registrations, outbox, processed events.

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
        "activities",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("tenant", sa.String(64), nullable=False, index=True),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("date", sa.Date(), nullable=False),
        sa.Column("location", sa.String(200), nullable=False),
        sa.Column("capacity", sa.Integer(), nullable=True),
        sa.Column("registration_open", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(120), nullable=False),
    )
    op.create_table(
        "registrations",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column(
            "activity_id", sa.Uuid(), sa.ForeignKey("activities.id"), nullable=False, index=True
        ),
        sa.Column("tenant", sa.String(64), nullable=False, index=True),
        sa.Column("name", sa.String(120), nullable=False),
        sa.Column("school", sa.String(160), nullable=False),
        sa.Column("phone", sa.String(20), nullable=False),
        sa.Column("level", sa.String(40), nullable=False),
        sa.Column("desa", sa.String(120), nullable=True),
        sa.Column("consent", sa.Boolean(), nullable=False),
        sa.Column("correlation_id", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("activity_id", "phone", name="uq_registration_phone"),
    )


def downgrade() -> None:
    op.drop_table("registrations")
    op.drop_table("activities")
    drop_delivery_tables_v1()
