"""Events with time, desa, window and certificate policy; waiting list, check-in, idempotency.

Existing registrations get a code, a (never-shown) token hash and consent version "v0".

Revision ID: 0003
"""

import secrets

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"

_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"


def _activity_columns() -> list[sa.Column]:
    return [
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("desa", sa.String(120), nullable=True),
        sa.Column("registration_opens_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("registration_closes_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "certificate_policy",
            sa.String(20),
            nullable=False,
            server_default="on_registration",
        ),
        sa.Column("whatsapp_cohort", sa.String(120), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True),
    ]


def _registration_columns() -> list[sa.Column]:
    return [
        sa.Column("status", sa.String(12), nullable=False, server_default="registered"),
        sa.Column("waitlist_position", sa.Integer(), nullable=True),
        sa.Column("code", sa.String(12), nullable=True),
        sa.Column("token_hash", sa.String(64), nullable=True),
        sa.Column("consent_version", sa.String(40), nullable=False, server_default="v0"),
        sa.Column("checked_in_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("checked_in_by", sa.String(120), nullable=True),
        sa.Column("cancelled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("cancelled_by", sa.String(120), nullable=True),
    ]


def _backfill_codes() -> None:
    bind = op.get_bind()
    ids = [row[0] for row in bind.execute(sa.text("SELECT id FROM registrations"))]
    for registration_id in ids:
        code = "".join(secrets.choice(_ALPHABET) for _ in range(8))
        bind.execute(
            sa.text("UPDATE registrations SET code = :c, token_hash = :t WHERE id = :i"),
            {"c": code, "t": secrets.token_hex(32), "i": registration_id},
        )


def upgrade() -> None:
    with op.batch_alter_table("activities") as batch:
        for column in _activity_columns():
            batch.add_column(column)
    with op.batch_alter_table("registrations") as batch:
        for column in _registration_columns():
            batch.add_column(column)
    _backfill_codes()
    with op.batch_alter_table("registrations") as batch:
        batch.alter_column("code", existing_type=sa.String(12), nullable=False)
        batch.alter_column("token_hash", existing_type=sa.String(64), nullable=False)
        batch.create_unique_constraint("uq_registrations_code", ["code"])
        batch.create_unique_constraint("uq_registrations_token_hash", ["token_hash"])
        batch.create_index("ix_registrations_activity_status", ["activity_id", "status"])
    op.create_table(
        "idempotency_keys",
        sa.Column("scope", sa.String(120), primary_key=True),
        sa.Column("key", sa.String(120), primary_key=True),
        sa.Column("request_hash", sa.String(64), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=False),
        sa.Column("response_body", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, index=True),
    )


def downgrade() -> None:
    op.drop_table("idempotency_keys")
    with op.batch_alter_table("registrations") as batch:
        batch.drop_index("ix_registrations_activity_status")
        batch.drop_constraint("uq_registrations_token_hash", type_="unique")
        batch.drop_constraint("uq_registrations_code", type_="unique")
        for column in reversed(_registration_columns()):
            batch.drop_column(column.name)
    with op.batch_alter_table("activities") as batch:
        for column in reversed(_activity_columns()):
            batch.drop_column(column.name)
