"""Partial indexes for the finisher's queue: waiting rows oldest first, and a replica's leases.

Revision ID: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"


def upgrade() -> None:
    for name, columns in (
        ("ix_certificates_waiting", ["status", "issued_at"]),
        ("ix_certificates_render_owner", ["render_owner"]),
    ):
        op.create_index(
            name,
            "certificates",
            columns,
            postgresql_where=sa.text("needs_render IS true"),
            sqlite_where=sa.text("needs_render IS true"),
        )


def downgrade() -> None:
    op.drop_index("ix_certificates_render_owner", table_name="certificates")
    op.drop_index("ix_certificates_waiting", table_name="certificates")
