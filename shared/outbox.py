"""Transactional outbox: events are written with the business rows, in the same transaction."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    func,
    insert,
    select,
    text,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession

from shared.contracts import Event, utcnow
from shared.db import Database, mark_after_commit

# Tables every service has in its own schema/file, created by each service's first migration.
INFRA_METADATA = MetaData()

outbox_table = Table(
    "outbox",
    INFRA_METADATA,
    Column(
        "id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    ),
    Column("event_id", String(36), nullable=False, unique=True),
    Column("event_type", String(120), nullable=False),
    Column("stream", String(160), nullable=False),
    Column("correlation_id", String(64), nullable=False),
    Column("payload", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("published_at", DateTime(timezone=True), nullable=True),
    Column("attempts", Integer, nullable=False, default=0),
    # A row the relay failed to publish relay_max_attempts times is parked here, with why.
    Column("failed_at", DateTime(timezone=True), nullable=True),
    Column("last_error", Text, nullable=True),
    Index("ix_outbox_published_at", "published_at"),
    Index(
        "ix_outbox_unpublished",
        "id",
        postgresql_where=text("published_at IS NULL"),
        sqlite_where=text("published_at IS NULL"),
    ),
)

processed_events_table = Table(
    "processed_events",
    INFRA_METADATA,
    Column("consumer_group", String(120), primary_key=True),
    Column("event_id", String(36), primary_key=True),
    Column("processed_at", DateTime(timezone=True), nullable=False),
    Index("ix_processed_events_processed_at", "processed_at"),
)


_INSERT_EVENT = insert(outbox_table)  # built once; each event only binds its values

# The columns a new outbox row is written with (the rest stay at their defaults): the keys of
# `outbox_row`, and the column list of every hand-written statement that queues an event.
OUTBOX_ROW_COLUMNS = (
    "event_id", "event_type", "stream", "correlation_id", "payload", "created_at", "attempts",
)  # fmt: skip


def outbox_row(event: Event, *, created_at: datetime | None = None) -> dict[str, object]:
    """The outbox row of an event (for a statement that inserts it with other rows), keyed by
    OUTBOX_ROW_COLUMNS; `created_at` defaults to now."""
    values = (
        str(event.event_id),
        event.type,
        event.STREAM,
        event.correlation_id,
        event.model_dump_json(),
        created_at or utcnow(),
        0,
    )
    return dict(zip(OUTBOX_ROW_COLUMNS, values, strict=True))


async def add_event(session: AsyncSession, event: Event) -> None:
    """Queues an event in the outbox, inside the caller's transaction."""
    await add_events(session, [event])


async def add_events(session: AsyncSession, events: Sequence[Event]) -> None:
    """Queues events in the outbox, inside the caller's transaction (one executemany)."""
    await add_outbox_rows(session, [outbox_row(event) for event in events])


async def add_outbox_rows(session: AsyncSession, rows: Sequence[dict[str, object]]) -> None:
    """Queues outbox rows made by `outbox_row`, inside the caller's transaction."""
    if not rows:
        return
    await session.execute(_INSERT_EVENT, rows[0] if len(rows) == 1 else list(rows))
    mark_after_commit(session)


async def pending_count(db: Database) -> int:
    """Returns how many outbox rows wait to be published."""
    async with db.session() as session:
        result = await session.execute(
            select(func.count())
            .select_from(outbox_table)
            .where(outbox_table.c.published_at.is_(None), outbox_table.c.failed_at.is_(None))
        )
        return int(result.scalar_one())


PARKED_COLUMNS = ("id", "event_id", "event_type", "stream", "attempts", "failed_at", "last_error")


async def parked_rows(db: Database, limit: int = 100) -> list[dict[str, object]]:
    """Lists the rows the relay gave up on (oldest first), without their payload."""
    columns = [outbox_table.c[name] for name in PARKED_COLUMNS]
    async with db.session() as session:
        rows = await session.execute(
            select(*columns)
            .where(outbox_table.c.failed_at.is_not(None))
            .order_by(outbox_table.c.id)
            .limit(limit)
        )
        return [dict(row._mapping) for row in rows]


async def retry_parked(db: Database, ids: list[int] | None = None) -> int:
    """Puts parked rows (all, or the given ids) back in the relay's queue; returns how many."""
    query = update(outbox_table).where(outbox_table.c.failed_at.is_not(None))
    if ids:
        query = query.where(outbox_table.c.id.in_(ids))
    async with db.session() as session:
        result = await session.execute(query.values(failed_at=None, attempts=0))
        mark_after_commit(session)
    return int(getattr(result, "rowcount", 0) or 0)
