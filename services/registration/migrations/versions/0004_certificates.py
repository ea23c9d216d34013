"""Registrations remember when their certificate was issued (from CertificateIssuedV1).

Revision ID: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"


def upgrade() -> None:
    with op.batch_alter_table("registrations") as batch:
        batch.add_column(sa.Column("certificate_issued_at", sa.DateTime(timezone=True)))


def downgrade() -> None:
    with op.batch_alter_table("registrations") as batch:
        batch.drop_column("certificate_issued_at")
