"""Paper forms, resubmissions, guides, tickets: channel, submission keys, profile counts.

Revision ID: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"


def upgrade() -> None:
    with op.batch_alter_table("responses") as batch:
        batch.add_column(sa.Column("channel", sa.String(8), nullable=False, server_default="qr"))
        batch.add_column(sa.Column("guide_code", sa.String(64), nullable=True))
        batch.add_column(
            sa.Column("phone_consent", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    op.create_index("ix_responses_tenant_unit_date", "responses", ["tenant", "unit", "local_date"])
    op.create_table(
        "submission_keys",
        sa.Column("tenant", sa.String(64), primary_key=True),
        sa.Column("key", sa.String(96), primary_key=True),
        sa.Column("response_id", sa.Uuid(), nullable=False),
        sa.Column("body_hash", sa.String(40), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    # The hourly pruning of same-device keys reads by age.
    op.create_index("ix_submission_keys_created_at", "submission_keys", ["created_at"])
    _create_ticket_tables()


def _create_ticket_tables() -> None:
    op.create_table(
        "tickets",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("tenant", sa.String(64), nullable=False, index=True),
        sa.Column("unit", sa.String(64), nullable=False),
        sa.Column("response_id", sa.Uuid(), nullable=False, unique=True),
        sa.Column("local_date", sa.Date(), nullable=False),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reply", sa.Text(), nullable=True),
        sa.Column("replied_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("replied_by", sa.String(120), nullable=True),
        sa.Column("reply_sent", sa.Boolean(), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_table(
        "guides",
        sa.Column("registration_id", sa.Uuid(), primary_key=True),
        sa.Column("tenant", sa.String(64), nullable=False),
        sa.Column("code", sa.String(64), nullable=False, index=True),
    )
    op.create_table(
        "profile_counts",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("tenant", sa.String(64), nullable=False),
        sa.Column("unit", sa.String(64), nullable=False),
        sa.Column("local_date", sa.Date(), nullable=False),
        sa.Column("dimension", sa.String(16), nullable=False),
        sa.Column("value", sa.String(160), nullable=False),
        sa.Column("responses", sa.Integer(), nullable=False),
        sa.UniqueConstraint(
            "tenant", "unit", "local_date", "dimension", "value", name="uq_profile_count"
        ),
    )


def downgrade() -> None:
    op.drop_table("profile_counts")
    op.drop_table("guides")
    op.drop_table("tickets")
    op.drop_table("submission_keys")
    op.drop_index("ix_responses_tenant_unit_date", "responses")
    with op.batch_alter_table("responses") as batch:
        batch.drop_column("phone_consent")
        batch.drop_column("guide_code")
        batch.drop_column("channel")
