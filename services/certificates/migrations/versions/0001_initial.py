"""Initial certificates schema: certificates, numbering counters, outbox, processed events.

Revision ID: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    # The shared delivery tables as they were at revision 0001 (frozen: later changes are
    # new revisions, never edits here).
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
    op.drop_table("processed_events")
    op.drop_index("ix_outbox_unpublished", table_name="outbox")
    op.drop_table("outbox")
