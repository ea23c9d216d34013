"""Open items by tenant and opening time (the open-items list and first-response times).

Revision ID: 0003
Revises: 0001 (point it at 0002 once the delivery core's 0002 exists in this service)
"""

from alembic import op

revision = "0003"
down_revision = "0002"


def upgrade() -> None:
    op.create_index("ix_open_items_tenant_opened", "open_items", ["tenant", "opened_at"])


def downgrade() -> None:
    op.drop_index("ix_open_items_tenant_opened", table_name="open_items")
