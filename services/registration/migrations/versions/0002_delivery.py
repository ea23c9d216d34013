"""Delivery: parked outbox rows (failed_at, last_error) and indexes for retention.

Revision ID: 0002
"""

from shared.migration_ops import downgrade_delivery_tables_v2, upgrade_delivery_tables_v2

revision = "0002"
down_revision = "0001"


def upgrade() -> None:
    upgrade_delivery_tables_v2()


def downgrade() -> None:
    downgrade_delivery_tables_v2()
