"""Effect-once processing: which events a consumer group has already applied."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import DateTime, String, bindparam, select, text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

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


# The statements of both dialects, built once (built anew per call they cost a few generative
# copies and a cache-key walk per event). One mark: INSERT ... ON CONFLICT DO NOTHING RETURNING.
_ONE = {
    dialect: insert_for(dialect, processed_events_table)
    .on_conflict_do_nothing()
    .returning(processed_events_table.c.event_id)
    for dialect in ("postgresql", "sqlite")
}

# Several marks in one statement whose parameters are the group, the time and one list of ids
# (a PostgreSQL array, a JSON array on SQLite): an executemany of n rows made SQLAlchemy render
# and bind n rows, and PostgreSQL parse a new statement for every batch size.
_MANY_SQL = {
    "postgresql": """
INSERT INTO processed_events (consumer_group, event_id, processed_at)
SELECT CAST(:group AS varchar), k, CAST(:now AS timestamptz)
FROM unnest(CAST(:ids AS varchar[])) AS k
ON CONFLICT DO NOTHING
RETURNING event_id
""",
    "sqlite": """
INSERT INTO processed_events (consumer_group, event_id, processed_at)
SELECT :group, value, :now FROM json_each(:ids) WHERE true
ON CONFLICT DO NOTHING
RETURNING event_id
""",
}
_MANY = {
    dialect: text(sql).bindparams(
        bindparam("group", type_=String()), bindparam("now", type_=DateTime(timezone=True))
    )
    for dialect, sql in _MANY_SQL.items()
}


def _insert_marks(sync_session: Session, statement: Any, rows: Any) -> set[str]:
    # On the session's connection (Core), in its transaction: no ORM execute machinery.
    return {row[0] for row in sync_session.connection().execute(statement, rows)}


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
    # Run in one greenlet hop on the session's connection rather than through the ORM's
    # execute: one mark as a plain execute, several as one statement over a list of ids.
    if len(keys) == 1:
        row = {"consumer_group": group, "event_id": keys[0], "processed_at": now}
        return await session.run_sync(_insert_marks, _ONE[dialect], row)
    ids: Any = keys if dialect == "postgresql" else json.dumps(keys)
    values = {"group": group, "now": now, "ids": ids}
    return await session.run_sync(_insert_marks, _MANY[dialect], values)
