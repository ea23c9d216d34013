"""Transactional outbox: events are written with the business rows, in the same transaction."""

from __future__ import annotations

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
)


async def add_event(session: AsyncSession, event: Event) -> None:
    """Queues an event in the outbox, inside the caller's transaction."""
    await session.execute(
        insert(outbox_table).values(
            event_id=str(event.event_id),
            event_type=event.type,
            stream=event.STREAM,
            correlation_id=event.correlation_id,
            payload=event.model_dump_json(),
            created_at=utcnow(),
            attempts=0,
        )
    )
    mark_after_commit(session)


async def pending_count(db: Database) -> int:
    """Returns how many outbox rows wait to be published."""
    async with db.session() as session:
        result = await session.execute(
            select(func.count())
            .select_from(outbox_table)
            .where(outbox_table.c.published_at.is_(None))
        )
        return int(result.scalar_one())
