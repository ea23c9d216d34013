"""Initial certificates schema: certificates, numbering counters, outbox, processed events.

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
        "certificates",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("tenant", sa.String(64), nullable=False, index=True),
        sa.Column("registration_id", sa.Uuid(), nullable=False),
        sa.Column("number", sa.String(80), nullable=False),
        sa.Column("participant_name", sa.String(200), nullable=False),
        sa.Column("school", sa.String(200), nullable=False),
        sa.Column("level", sa.String(60), nullable=False),
        sa.Column("activity_title", sa.String(300), nullable=False),
        sa.Column("activity_date", sa.Date(), nullable=False),
        sa.Column("activity_location", sa.String(300), nullable=False),
        sa.Column("pdf", sa.LargeBinary(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoke_reason", sa.String(500), nullable=True),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False, index=True),
        sa.Column("correlation_id", sa.String(64), nullable=False),
        sa.UniqueConstraint("registration_id", name="uq_certificate_registration"),
        sa.UniqueConstraint("tenant", "number", name="uq_certificate_number"),
    )
    op.create_table(
        "certificate_counters",
        sa.Column("tenant", sa.String(64), primary_key=True),
        sa.Column("year", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("last_number", sa.Integer(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("certificate_counters")
    op.drop_table("certificates")
    drop_delivery_tables_v1()
