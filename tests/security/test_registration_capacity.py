"""Finding 7: forty concurrent sign-ups on a capacity-5 event stored 13 on SQLite."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.processes import ServiceProcess, migrate, service_env
from tests.support import PG_URL, auth

pytestmark = pytest.mark.integration


@pytest.fixture(params=["sqlite", "postgres"])
def registration_process(
    request: pytest.FixtureRequest, tmp_path: Path, redis_url: str
) -> Iterator[ServiceProcess]:
    """The registration service as its own process over real HTTP, on each database."""
    database: dict[str, str] = {}
    if request.param == "postgres":
        database = {
            "database_url": PG_URL,
            "schema_prefix": request.getfixturevalue("schema_prefix"),
        }
    env = service_env(redis_url=redis_url, data_dir=tmp_path, **database)
    migrate(env, "registration")
    process = ServiceProcess("registration", env, tmp_path).start()
    yield process
    process.stop()


async def test_forty_concurrent_sign_ups_on_capacity_five_hold_exactly_five_places(
    registration_process: ServiceProcess,
) -> None:
    async with httpx.AsyncClient(base_url=registration_process.url, timeout=60) as client:
        created = await client.post(
            "/api/v1/events",
            headers=auth(),
            json={"title": "Kelas kecil", "date": "2026-12-05", "location": "Aula", "capacity": 5},
        )
        event_id = created.json()["id"]

        async def sign_up(i: int) -> httpx.Response:
            return await client.post(
                f"/api/v1/events/{event_id}/registrations",
                json={
                    "name": f"Peserta {i}",
                    "school": "SMAN 1 Mojosari",
                    "phone": f"0812{77000000 + i:08d}",
                    "level": "SMA",
                    "consent": True,
                },
            )

        answers = await asyncio.gather(*(sign_up(i) for i in range(40)))
        assert [r.status_code for r in answers] == [201] * 40
        rows = (await client.get(f"/api/v1/events/{event_id}/registrations", headers=auth())).json()
    statuses = [r["status"] for r in rows]
    assert statuses.count("registered") == 5
    assert statuses.count("waitlisted") == 35
    assert sorted(r["waitlist_position"] for r in rows if r["waitlist_position"]) == list(
        range(1, 36)
    )
