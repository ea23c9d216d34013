"""Mentors, conversations, contacts and the outbound ledger's WhatsApp rule and delivery state.

Revision ID: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"

TZ = sa.DateTime(timezone=True)


def _outbound_columns() -> None:
    with op.batch_alter_table("outbound_messages") as batch:
        batch.add_column(
            sa.Column("rule", sa.String(16), nullable=False, server_default="free_form")
        )
        batch.add_column(sa.Column("template", sa.String(100), nullable=True))
        batch.add_column(sa.Column("params", sa.Text(), nullable=True))
        batch.add_column(sa.Column("document_url", sa.String(500), nullable=True))
        batch.add_column(sa.Column("conversation_id", sa.Uuid(), nullable=True))
        batch.add_column(sa.Column("dedupe_key", sa.String(120), nullable=True))
        batch.add_column(sa.Column("delivery_status", sa.String(16), nullable=True))
        batch.add_column(sa.Column("delivered_at", TZ, nullable=True))
        batch.add_column(sa.Column("read_at", TZ, nullable=True))
        batch.create_index("ix_outbound_messages_conversation_id", ["conversation_id"])
        batch.create_index("ix_outbound_messages_dedupe_key", ["dedupe_key"], unique=True)
        batch.create_index("ix_outbound_provider_id", ["provider_message_id"])
        batch.create_index("ix_outbound_to_phone", ["to_phone", "status"])


def _people() -> None:
    op.create_table(
        "registrants",
        sa.Column("registration_id", sa.Uuid(), primary_key=True),
        sa.Column("tenant", sa.String(64), nullable=False),
        sa.Column("phone", sa.String(20), nullable=False, index=True),
        sa.Column("consent", sa.Boolean(), nullable=False),
        sa.Column("first_name", sa.String(100), nullable=False),
        sa.Column("activity_title", sa.String(300), nullable=False),
        sa.Column("created_at", TZ, nullable=False),
    )
    op.create_table(
        "contacts",
        sa.Column("tenant", sa.String(64), primary_key=True),
        sa.Column("phone", sa.String(20), primary_key=True),
        sa.Column("last_inbound_at", TZ, nullable=False),
        sa.Column("offences", sa.Integer(), nullable=False),
        sa.Column("flagged", sa.Boolean(), nullable=False),
        sa.Column("rating_for", sa.Uuid(), nullable=True),
    )
    op.create_table(
        "inbound_receipts",
        sa.Column("provider_message_id", sa.String(200), primary_key=True),
        sa.Column("received_at", TZ, nullable=False),
    )
    op.create_table(
        "mentors",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("tenant", sa.String(64), nullable=False, index=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("phone", sa.String(20), nullable=False),
        sa.Column("topics", sa.Text(), nullable=False),
        sa.Column("capacity", sa.Integer(), nullable=False),
        sa.Column("duty", sa.String(8), nullable=False),
        sa.Column("rota", sa.Text(), nullable=False),
        sa.Column("open_count", sa.Integer(), nullable=False),
        sa.Column("last_assigned_at", TZ, nullable=True),
        sa.Column("created_at", TZ, nullable=False),
    )


def _conversations() -> None:
    op.create_table(
        "conversations",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("tenant", sa.String(64), nullable=False),
        sa.Column("phone", sa.String(20), nullable=False, index=True),
        sa.Column("topic", sa.String(16), nullable=False),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("mentor_id", sa.Uuid(), sa.ForeignKey("mentors.id"), nullable=True, index=True),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("queued_at", TZ, nullable=True),
        sa.Column("assigned_at", TZ, nullable=True),
        sa.Column("sla_due_at", TZ, nullable=True),
        sa.Column("first_response_at", TZ, nullable=True),
        sa.Column("closed_at", TZ, nullable=True),
        sa.Column("last_inbound_at", TZ, nullable=False),
        sa.Column("rating", sa.Integer(), nullable=True),
        sa.Column("reassignments", sa.Integer(), nullable=False),
        sa.Column("correlation_id", sa.String(64), nullable=False),
        sa.Index("ix_conversation_state", "tenant", "status", "queued_at"),
    )
    op.create_table(
        "conversation_messages",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column(
            "conversation_id",
            sa.Uuid(),
            sa.ForeignKey("conversations.id"),
            nullable=False,
            index=True,
        ),
        sa.Column("direction", sa.String(3), nullable=False),
        sa.Column("author", sa.String(8), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_at", TZ, nullable=False),
    )
    op.create_table(
        "moderation_records",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("tenant", sa.String(64), nullable=False, index=True),
        sa.Column("category", sa.String(16), nullable=False),
        sa.Column("created_at", TZ, nullable=False),
    )


def upgrade() -> None:
    _outbound_columns()
    _people()
    _conversations()


def downgrade() -> None:
    for table in (
        "moderation_records",
        "conversation_messages",
        "conversations",
        "mentors",
        "inbound_receipts",
        "contacts",
        "registrants",
    ):
        op.drop_table(table)
    with op.batch_alter_table("outbound_messages") as batch:
        for index in (
            "ix_outbound_to_phone",
            "ix_outbound_provider_id",
            "ix_outbound_messages_dedupe_key",
            "ix_outbound_messages_conversation_id",
        ):
            batch.drop_index(index)
        for column in (
            "read_at",
            "delivered_at",
            "delivery_status",
            "dedupe_key",
            "conversation_id",
            "document_url",
            "params",
            "template",
            "rule",
        ):
            batch.drop_column(column)
