"""Initial consultation schema: groups, invitations, outbound queue, dev messages, outbox.

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
    _create_groups_and_invitations()
    _create_message_tables()


def _create_groups_and_invitations() -> None:
    op.create_table(
        "whatsapp_groups",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("tenant", sa.String(64), nullable=False, index=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("invite_link", sa.String(300), nullable=False),
        sa.Column("seed_link", sa.String(300), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("rotated_at", sa.DateTime(timezone=True), nullable=True),
        sa.UniqueConstraint("tenant", "invite_link", name="uq_group_invite_link"),
        sa.UniqueConstraint("tenant", "seed_link", name="uq_group_seed_link"),
    )
    op.create_table(
        "invitations",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("tenant", sa.String(64), nullable=False, index=True),
        sa.Column("registration_id", sa.Uuid(), nullable=False, unique=True),
        sa.Column(
            "group_id", sa.Uuid(), sa.ForeignKey("whatsapp_groups.id"), nullable=True, index=True
        ),
        sa.Column("phone", sa.String(20), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("click_token", sa.String(64), nullable=False, unique=True),
        sa.Column("clicked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("correlation_id", sa.String(64), nullable=False),
        sa.Column("source_event_id", sa.String(36), nullable=False),
    )


def _create_message_tables() -> None:
    op.create_table(
        "outbound_messages",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("tenant", sa.String(64), nullable=False),
        sa.Column("to_phone", sa.String(20), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column(
            "invitation_id", sa.Uuid(), sa.ForeignKey("invitations.id"), nullable=True, index=True
        ),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_error", sa.String(500), nullable=True),
        sa.Column("provider_message_id", sa.String(200), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Index("ix_outbound_due", "status", "next_attempt_at"),
    )
    op.create_table(
        "dev_messages",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("to", sa.String(20), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("provider_message_id", sa.String(200), nullable=False, unique=True),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=False, index=True),
    )


def downgrade() -> None:
    op.drop_table("dev_messages")
    op.drop_table("outbound_messages")
    op.drop_table("invitations")
    op.drop_table("whatsapp_groups")
    drop_delivery_tables_v1()
