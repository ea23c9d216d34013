"""A participant who cancelled may sign up again for the same event.

The unique (activity, phone) constraint becomes a partial unique index over the active
(registered or waitlisted) registrations: cancelled ones stay, at most one active per phone.

Revision ID: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"

_ACTIVE = sa.text("status <> 'cancelled'")


def upgrade() -> None:
    with op.batch_alter_table("registrations") as batch:
        batch.drop_constraint("uq_registration_phone", type_="unique")
    op.create_index(
        "uq_registrations_active_phone",
        "registrations",
        ["activity_id", "phone"],
        unique=True,
        postgresql_where=_ACTIVE,
        sqlite_where=_ACTIVE,
    )


def downgrade() -> None:
    # Only possible while no phone has a cancelled and a newer registration for one event.
    op.drop_index("uq_registrations_active_phone", table_name="registrations")
    with op.batch_alter_table("registrations") as batch:
        batch.create_unique_constraint("uq_registration_phone", ["activity_id", "phone"])
