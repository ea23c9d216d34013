"""The sign-up at once, on an event the process has counted a sign-up on before.

A process's first sign-up on an event takes the statement-by-statement path and remembers the
event; later ones write the count, the registration, its event and the key's answer at once
(PostgreSQL: one statement outside a transaction; SQLite: its statements in one hop to the
connection's thread). These tests warm the event first, then check that the rules hold through
that path and that the path was taken.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import event, select

from services.registration.app import MIGRATIONS, create_app
from services.registration.settings import Settings
from shared.db_sqlite import OneHopConnection, Step
from shared.outbox import outbox_table
from tests.registration_support import create_event, listed, participant, register
from tests.support import auth, running_app

pytestmark = pytest.mark.integration
AT_ONCE = "WITH counted AS"


@pytest.fixture
def settings(settings_for: Callable[..., Settings]) -> Settings:
    return settings_for(Settings)


@contextmanager
def counting(app: Any) -> Iterator[list[str]]:
    """Collects the one-statement sign-ups the app sends: PostgreSQL's statement, SQLite's
    statements run in one hop (OneHopConnection.run_together)."""
    sent: list[str] = []
    if app.state.runtime.db.dialect == "sqlite":
        run_together = OneHopConnection.run_together

        async def counted(self: OneHopConnection, steps: Sequence[Step]) -> Any:
            sent.append(steps[0].sql)
            return await run_together(self, steps)

        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(OneHopConnection, "run_together", counted)
            yield sent
        return
    engine = app.state.runtime.db.engine.sync_engine

    def seen(_c: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if statement.lstrip().startswith(AT_ONCE):
            sent.append(statement)

    event.listen(engine, "before_cursor_execute", seen)
    try:
        yield sent
    finally:
        event.remove(engine, "before_cursor_execute", seen)


async def outbox_payloads(app: Any) -> list[dict[str, Any]]:
    async with app.state.runtime.db.session() as session:
        rows = await session.execute(select(outbox_table.c.payload).order_by(outbox_table.c.id))
        return [json.loads(row[0]) for row in rows]


async def test_two_hundred_simultaneous_keyed_sign_ups_fill_the_places_and_replay_exactly(
    settings: Settings,
) -> None:
    async with running_app(create_app, settings, MIGRATIONS) as (app, client):
        event_id = await create_event(client, capacity=101)
        assert (await register(client, event_id, **participant())).status_code == 201
        url = f"/api/v1/events/{event_id}/registrations"
        bodies = [participant() for _ in range(200)]
        with counting(app) as sent:
            answers = await asyncio.gather(
                *(
                    client.post(url, json=body, headers={"Idempotency-Key": f"burst-{n}"})
                    for n, body in enumerate(bodies)
                )
            )
        assert [a.status_code for a in answers] == [201] * 200
        statuses = [a.json()["registration"]["status"] for a in answers]
        assert statuses.count("registered") == 100
        positions = sorted(
            a.json()["registration"]["waitlist_position"]
            for a in answers
            if a.json()["registration"]["status"] == "waitlisted"
        )
        assert positions == list(range(1, 101))
        for answer in answers:
            position = answer.json()["registration"]["waitlist_position"]
            if position is not None:
                assert f"daftar tunggu nomor {position};" in answer.json()["message"]
        rows = await listed(client, event_id, status="waitlisted")
        assert sorted(r["waitlist_position"] for r in rows) == list(range(1, 101))
        # One event per held place (the warm-up's and 100), none for the waiting list.
        payloads = await outbox_payloads(app)
        assert len(payloads) == 101
        assert {p["registration_id"] for p in payloads} >= {
            a.json()["registration"]["id"]
            for a in answers
            if a.json()["registration"]["status"] == "registered"
        }
        assert len(sent) == 200
        # Each key answers again exactly as the first time, position and message included.
        again = await asyncio.gather(
            *(
                client.post(url, json=body, headers={"Idempotency-Key": f"burst-{n}"})
                for n, body in enumerate(bodies)
            )
        )
        assert [(a.status_code, a.json()) for a in again] == [
            (a.status_code, a.json()) for a in answers
        ]
        assert len(await listed(client, event_id)) == 201


async def test_an_event_edited_after_a_sign_up_is_read_again(settings: Settings) -> None:
    async with running_app(create_app, settings, MIGRATIONS) as (app, client):
        event_id = await create_event(client, title="Sosialisasi Adminduk")
        assert (await register(client, event_id, **participant())).status_code == 201
        renamed = await client.patch(
            f"/api/v1/events/{event_id}", json={"title": "Sosialisasi KTP-el"}, headers=auth()
        )
        assert renamed.status_code == 200, renamed.text
        second = await register(client, event_id, **participant())
        assert second.status_code == 201
        payloads = await outbox_payloads(app)
        by_id = {p.get("registration_id"): p for p in payloads}
        assert by_id[second.json()["registration"]["id"]]["activity_title"] == (
            "Sosialisasi KTP-el"
        )
        with counting(app) as sent:
            assert (await register(client, event_id, **participant())).status_code == 201
        assert len(sent) == 1  # the event as now counted is remembered again
        closed = await client.post(f"/api/v1/events/{event_id}/close", headers=auth())
        assert closed.status_code == 200
        refused = await register(client, event_id, **participant())
        assert refused.status_code == 409, refused.text
        assert len(await listed(client, event_id)) == 3


async def test_a_repeat_and_a_reused_key_write_nothing(settings: Settings) -> None:
    async with running_app(create_app, settings, MIGRATIONS) as (app, client):
        event_id = await create_event(client, capacity=3)
        assert (await register(client, event_id, **participant())).status_code == 201
        ayu = participant()
        with counting(app) as sent:
            first = await register(client, event_id, **ayu)
            repeat = await register(client, event_id, **ayu)
        assert (first.status_code, repeat.status_code) == (201, 200)
        assert repeat.json()["already_registered"] is True
        url = f"/api/v1/events/{event_id}/registrations"
        other = await client.post(url, json=participant(), headers={"Idempotency-Key": "form-1"})
        assert other.status_code == 201
        reused = await client.post(url, json=participant(), headers={"Idempotency-Key": "form-1"})
        assert reused.status_code == 422
        assert len(sent) == 2
        # The refused and repeated sign-ups took no place: the event's third place was free
        # for `other`, and the next one waits at position 1.
        assert other.json()["registration"]["status"] == "registered"
        last = await register(client, event_id, **participant())
        assert last.json()["registration"]["waitlist_position"] == 1
        assert len(await listed(client, event_id)) == 4
        assert len(await outbox_payloads(app)) == 3
