"""Outbound messages counted by tenant and status in a small table the database keeps current.

The metrics scrape read the whole outbound table (count by tenant and status) on every scrape;
sent and failed messages only grow. Triggers on outbound_messages keep outbound_totals
(tenants x statuses rows) exact on every insert, status change and delete, whichever code path
makes it, so the scrape reads that table plus the live queue (status = 'queued', by index).
On SQLite a later `batch_alter_table("outbound_messages")` rebuilds the table and loses its
triggers: such a migration must create them again (test_consultation_queue_metrics fails if not).

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"

_PG_FUNCTION = """
CREATE FUNCTION outbound_totals_track() RETURNS trigger LANGUAGE plpgsql
SET search_path FROM CURRENT AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        UPDATE outbound_totals SET count = count - 1
        WHERE tenant = OLD.tenant AND status = OLD.status;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        INSERT INTO outbound_totals (tenant, status, count) VALUES (NEW.tenant, NEW.status, 1)
        ON CONFLICT (tenant, status) DO UPDATE SET count = outbound_totals.count + 1;
    END IF;
    RETURN NULL;
END $$
"""
_PG_TRIGGERS = (
    "CREATE TRIGGER outbound_totals_on_insert_delete AFTER INSERT OR DELETE ON outbound_messages "
    "FOR EACH ROW EXECUTE FUNCTION outbound_totals_track()",
    "CREATE TRIGGER outbound_totals_on_status AFTER UPDATE OF status, tenant ON outbound_messages "
    "FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status OR OLD.tenant <> NEW.tenant) "
    "EXECUTE FUNCTION outbound_totals_track()",
)
# SQLite: no functions; one trigger per case (INSERT OR IGNORE then UPDATE, as its triggers allow).
_ADD = (
    "INSERT OR IGNORE INTO outbound_totals (tenant, status, count) "
    "VALUES (NEW.tenant, NEW.status, 0); "
    "UPDATE outbound_totals SET count = count + 1 "
    "WHERE tenant = NEW.tenant AND status = NEW.status;"
)
_REMOVE = "UPDATE outbound_totals SET count = count - 1 WHERE tenant = OLD.tenant AND status = OLD.status;"
_SQLITE_TRIGGERS = (
    f"CREATE TRIGGER outbound_totals_on_insert AFTER INSERT ON outbound_messages BEGIN {_ADD} END",
    "CREATE TRIGGER outbound_totals_on_status AFTER UPDATE OF status, tenant ON outbound_messages "
    "WHEN OLD.status IS NOT NEW.status OR OLD.tenant IS NOT NEW.tenant "
    f"BEGIN {_REMOVE} {_ADD} END",
    f"CREATE TRIGGER outbound_totals_on_delete AFTER DELETE ON outbound_messages BEGIN {_REMOVE} END",
)


def upgrade() -> None:
    op.create_table(
        "outbound_totals",
        sa.Column("tenant", sa.String(64), primary_key=True),
        sa.Column("status", sa.String(16), primary_key=True),
        sa.Column("count", sa.BigInteger(), nullable=False),
    )
    postgresql = op.get_bind().dialect.name == "postgresql"
    if postgresql:  # no row may change between the count and the triggers (till commit)
        op.execute("LOCK TABLE outbound_messages IN SHARE ROW EXCLUSIVE MODE")
    op.execute(
        "INSERT INTO outbound_totals (tenant, status, count) "
        "SELECT tenant, status, count(*) FROM outbound_messages GROUP BY tenant, status"
    )
    if postgresql:
        op.execute(_PG_FUNCTION)
    for statement in _PG_TRIGGERS if postgresql else _SQLITE_TRIGGERS:
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER outbound_totals_on_status ON outbound_messages")
        op.execute("DROP TRIGGER outbound_totals_on_insert_delete ON outbound_messages")
        op.execute("DROP FUNCTION outbound_totals_track()")
    else:
        for name in ("insert", "status", "delete"):
            op.execute(f"DROP TRIGGER outbound_totals_on_{name}")
    op.drop_table("outbound_totals")
