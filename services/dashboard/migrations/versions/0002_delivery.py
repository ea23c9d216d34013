"""Delivery: parked outbox rows and retention indexes; the steps are the frozen shared helpers.

Revision ID: 0002
"""

from shared.migration_ops import downgrade_delivery_tables_v2 as downgrade
from shared.migration_ops import upgrade_delivery_tables_v2 as upgrade

__all__ = ["downgrade", "upgrade"]

revision = "0002"
down_revision = "0001"
