"""Each event keeps its registered and waitlisted counts on its own row.

A sign-up decides registered or waitlisted (and the waiting-list position) from these columns,
read under the event's lock, instead of counting the event's registrations every time. They are
updated in the same transaction as the registration they count. The upgrade backfills them.

Revision ID: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"

_BACKFILL = (
    "UPDATE activities SET "
    "registered_count = (SELECT count(*) FROM registrations r "
    "WHERE r.activity_id = activities.id AND r.status = 'registered'), "
    "waitlisted_count = (SELECT count(*) FROM registrations r "
    "WHERE r.activity_id = activities.id AND r.status = 'waitlisted')"
)


def upgrade() -> None:
    with op.batch_alter_table("activities") as batch:
        for name in ("registered_count", "waitlisted_count"):
            batch.add_column(
                sa.Column(name, sa.Integer(), nullable=False, server_default=sa.text("0"))
            )
    op.execute(_BACKFILL)


def downgrade() -> None:
    with op.batch_alter_table("activities") as batch:
        batch.drop_column("waitlisted_count")
        batch.drop_column("registered_count")
