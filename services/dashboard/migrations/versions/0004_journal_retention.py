"""The journal by time: the retention deletes the oldest entries first.

Revision ID: 0004
"""

from alembic import op

revision = "0004"
down_revision = "0003"


def upgrade() -> None:
    op.create_index("ix_journal_occurred_at", "journal", ["occurred_at"])


def downgrade() -> None:
    op.drop_index("ix_journal_occurred_at", table_name="journal")
