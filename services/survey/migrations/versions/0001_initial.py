"""Initial survey schema: units, responses, aggregates, daily counts, outbox, processed events.

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
        "units",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("tenant", sa.String(64), nullable=False),
        sa.Column("code", sa.String(64), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.UniqueConstraint("tenant", "code", name="uq_unit_tenant_code"),
    )
    op.create_table(
        "responses",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("tenant", sa.String(64), nullable=False, index=True),
        sa.Column("unit", sa.String(64), nullable=False),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("local_date", sa.Date(), nullable=False, index=True),
        sa.Column("scores", sa.JSON(), nullable=False),
        sa.Column("service_type", sa.String(160), nullable=True),
        sa.Column("gender", sa.String(1), nullable=True),
        sa.Column("age", sa.Integer(), nullable=True),
        sa.Column("education", sa.String(8), nullable=True),
        sa.Column("occupation", sa.String(20), nullable=True),
        sa.Column("suggestion", sa.Text(), nullable=True),
        sa.Column("name", sa.String(120), nullable=True),
        sa.Column("phone", sa.String(20), nullable=True),
    )
    op.create_table(
        "aggregates",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("tenant", sa.String(64), nullable=False),
        sa.Column("unit", sa.String(64), nullable=False),
        sa.Column("local_date", sa.Date(), nullable=False),
        sa.Column("unsur", sa.String(16), nullable=False),
        sa.Column("score_sum", sa.Integer(), nullable=False),
        sa.Column("answered", sa.Integer(), nullable=False),
        sa.UniqueConstraint("tenant", "unit", "local_date", "unsur", name="uq_aggregate_day_unsur"),
    )
    op.create_table(
        "daily_responses",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("tenant", sa.String(64), nullable=False),
        sa.Column("unit", sa.String(64), nullable=False),
        sa.Column("local_date", sa.Date(), nullable=False),
        sa.Column("responses", sa.Integer(), nullable=False),
        sa.UniqueConstraint("tenant", "unit", "local_date", name="uq_daily_responses_day"),
    )


def downgrade() -> None:
    op.drop_table("daily_responses")
    op.drop_table("aggregates")
    op.drop_table("responses")
    op.drop_table("units")
    drop_delivery_tables_v1()
