"""Migration 0003 on a database that already holds registrations from the first schema."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any

import pytest
from sqlalchemy import Date, DateTime, TableClause, Uuid, column, insert, select, table

from services.registration.app import MIGRATIONS
from services.registration.models import Registration
from services.registration.settings import Settings
from shared.db import Database
from shared.migrations import upgrade

pytestmark = pytest.mark.integration
TYPES: dict[str, Any] = {
    "id": Uuid(),
    "activity_id": Uuid(),
    "date": Date(),
    "created_at": DateTime(timezone=True),
}


def first_schema_table(name: str, row: dict[str, Any]) -> TableClause:
    """A table of revision 0001 with the columns of a row (typed where the driver needs it)."""
    return table(name, *(column(key, TYPES.get(key)) for key in row))


@pytest.fixture
def settings(settings_for: Callable[..., Settings]) -> Settings:
    return settings_for(Settings)


async def test_existing_registrations_get_a_code_a_hidden_token_and_consent_v0(
    settings: Settings,
) -> None:
    await asyncio.to_thread(upgrade, settings, MIGRATIONS, "0001")
    now, activity_id = datetime.now(UTC), uuid.uuid4()
    activity = {"id": activity_id, "tenant": "mojosari", "title": "Lama", "date": date(2026, 1, 5),
                "location": "Aula", "capacity": None, "registration_open": True,
                "created_at": now, "created_by": "admin"}  # fmt: skip
    people = [
        {"id": uuid.uuid4(), "activity_id": activity_id, "tenant": "mojosari",
         "name": f"Peserta {i}", "school": "SMAN 1", "phone": f"+62812000000{i}", "level": "SMA",
         "desa": None, "consent": True, "correlation_id": "c", "created_at": now}
        for i in range(3)
    ]  # fmt: skip
    db = Database(settings)
    async with db.session() as session:
        await session.execute(insert(first_schema_table("activities", activity)).values(activity))
        await session.execute(insert(first_schema_table("registrations", people[0])), people)
    await db.dispose()
    await asyncio.to_thread(upgrade, settings, MIGRATIONS)
    db = Database(settings)
    async with db.session() as session:
        rows = list((await session.scalars(select(Registration))).all())
    await db.dispose()
    assert len(rows) == 3
    assert len({r.code for r in rows}) == 3 and all(len(r.code) == 8 for r in rows)
    assert len({r.token_hash for r in rows}) == 3
    assert {(r.status, r.consent_version, r.waitlist_position) for r in rows} == {
        ("registered", "v0", None)
    }


async def test_the_place_counts_are_backfilled_from_the_registrations_already_there(
    settings: Settings,
) -> None:
    """Migration 0006 on events that already have sign-ups: the counts match the rows, and the
    next sign-up is placed from them (no place given twice, no queue position skipped)."""
    from alembic import command

    from services.registration.app import create_app
    from services.registration.models import Activity
    from shared.migrations import alembic_config
    from tests.registration_support import create_event, participant, register
    from tests.support import running_app

    async with running_app(create_app, settings, MIGRATIONS) as (_app, client):
        event_id = await create_event(client, capacity=2)
        answers = [(await register(client, event_id, **participant())).json() for _ in range(4)]
        statuses = [a["registration"]["status"] for a in answers]
        assert statuses == ["registered"] * 2 + ["waitlisted"] * 2
    # Back to the schema without the counts (the columns dropped), then up again: the
    # upgrade alone must find 2 registered and 2 waiting.
    config = alembic_config(settings, MIGRATIONS)
    await asyncio.to_thread(command.downgrade, config, "0005")
    await asyncio.to_thread(upgrade, settings, MIGRATIONS)
    db = Database(settings)
    async with db.session() as session:
        activity = await session.get(Activity, uuid.UUID(event_id))
        assert activity is not None
        assert (activity.registered_count, activity.waitlisted_count) == (2, 2)
    await db.dispose()
    async with running_app(create_app, settings, MIGRATIONS) as (_app, client):
        fifth = (await register(client, event_id, **participant())).json()["registration"]
    assert (fifth["status"], fifth["waitlist_position"]) == ("waitlisted", 3)
