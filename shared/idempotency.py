"""Effect-once processing: which events a consumer group has already applied."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from shared.contracts import Event, utcnow
from shared.db import insert_for
from shared.outbox import processed_events_table


async def processed_ids(session: AsyncSession, group: str, events: list[Event]) -> set[str]:
    """Returns which of the events a consumer group has already processed."""
    keys = [str(e.event_id) for e in events]
    if not keys:
        return set()
    rows = await session.execute(
        select(processed_events_table.c.event_id).where(
            processed_events_table.c.consumer_group == group,
            processed_events_table.c.event_id.in_(keys),
        )
    )
    return {row[0] for row in rows}


async def claim_event_ids(
    session: AsyncSession, dialect: str, group: str, events: list[Event]
) -> set[str]:
    """Records the events as processed in one statement; returns the ids not seen before.

    The mark and the effect commit together, so a failed effect rolls the mark back too.
    """
    keys = list(dict.fromkeys(str(e.event_id) for e in events))
    if not keys:
        return set()
    now = utcnow()
    statement = (
        insert_for(dialect, processed_events_table)
        .on_conflict_do_nothing()
        .returning(processed_events_table.c.event_id)
    )
    # One cached statement sent as executemany (SQLAlchemy batches it as "insertmanyvalues"):
    # a multi-row .values() is compiled anew for every batch, which costs more than the insert.
    rows = [{"consumer_group": group, "event_id": k, "processed_at": now} for k in keys]
    return {row[0] for row in await session.execute(statement, rows)}
