"""Faults a deployment meets: a killed consumer, a Redis outage, a late-starting service."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import asyncpg
import httpx
import pytest
from redis.asyncio import Redis

from shared.contracts import CertificateIssuedV1, ParticipantRegisteredV1
from tests.processes import RedisServer, ServiceProcess, migrate, service_env
from tests.support import PG_URL, auth, wait_for

pytestmark = [pytest.mark.fault, pytest.mark.integration]
EVENT = {"title": "Sosialisasi Adminduk", "date": "2026-12-05", "location": "Pendopo"}


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    server = RedisServer(tmp_path / "redis")
    server.start()
    yield server
    server.stop()


@pytest.fixture
def env(tmp_path: Path, redis_server: RedisServer, schema_prefix: str) -> dict[str, str]:
    values = service_env(
        redis_url=redis_server.url,
        data_dir=tmp_path,
        database_url=PG_URL,
        schema_prefix=schema_prefix,
    )
    migrate(values, "registration", "certificates")
    return values


@pytest.fixture
async def processes(tmp_path: Path) -> AsyncIterator[list[ServiceProcess]]:
    started: list[ServiceProcess] = []
    yield started
    for proc in started:
        proc.stop()


def start(
    name: str, env: dict[str, str], tmp_path: Path, started: list[ServiceProcess]
) -> ServiceProcess:
    proc = ServiceProcess(name, env, tmp_path).start()
    started.append(proc)
    return proc


async def create_event(registration: ServiceProcess) -> str:
    async with httpx.AsyncClient(base_url=registration.url, timeout=10) as client:
        response = await client.post("/api/v1/events", json=EVENT, headers=auth())
        assert response.status_code == 201, response.text
        return str(response.json()["id"])


async def register_many(
    registration: ServiceProcess, event_id: str, count: int, start_at: int = 0
) -> set[str]:
    """Registers `count` participants concurrently; returns their registration ids."""
    limiter = asyncio.Semaphore(10)
    async with httpx.AsyncClient(base_url=registration.url, timeout=30) as client:

        async def one(i: int) -> str:
            async with limiter:
                response = await client.post(
                    f"/api/v1/events/{event_id}/registrations",
                    json={
                        "name": f"Peserta {i}",
                        "school": "SMAN 1 Mojosari",
                        "phone": f"0812{i:08d}",
                        "level": "SMA",
                        "consent": True,
                    },
                )
                assert response.status_code == 201, response.text
                return str(response.json()["registration"]["id"])

        return set(await asyncio.gather(*(one(i) for i in range(start_at, start_at + count))))


async def certificate_rows(schema_prefix: str) -> list[str]:
    conn = await asyncpg.connect(PG_URL)
    try:
        rows = await conn.fetch(
            f'SELECT registration_id FROM "{schema_prefix}certificates".certificates'
        )
    finally:
        await conn.close()
    return [str(row["registration_id"]) for row in rows]


async def count_certificates(schema_prefix: str) -> int:
    return len(await certificate_rows(schema_prefix))


async def test_killing_the_certificates_consumer_mid_batch_loses_and_repeats_nothing(
    env: dict[str, str],
    tmp_path: Path,
    processes: list[ServiceProcess],
    schema_prefix: str,
    redis_server: RedisServer,
) -> None:
    registration = start("registration", env, tmp_path, processes)
    event_id = await create_event(registration)
    certificates = start("certificates", env, tmp_path, processes)
    registered = await register_many(registration, event_id, 200)
    await wait_for(
        lambda: _at_least(count_certificates(schema_prefix), 20),
        timeout=60,
        what="the first certificates",
    )
    certificates.kill9()
    done_before_restart = await count_certificates(schema_prefix)
    assert done_before_restart < 200, "the kill came too late to prove anything"
    start("certificates", env, tmp_path, processes)
    await wait_for(
        lambda: _at_least(count_certificates(schema_prefix), 200),
        timeout=120,
        what="200 certificates after the restart",
    )
    await asyncio.sleep(3)  # a duplicate would show up after the claim idle time
    rows = await certificate_rows(schema_prefix)
    assert sorted(rows) == sorted(registered)
    redis = Redis.from_url(redis_server.url)
    issued = await redis.xrange(CertificateIssuedV1.STREAM)
    assert await redis.xlen(ParticipantRegisteredV1.STREAM + ".dlq") == 0
    await redis.aclose()
    assert len(issued) >= 200


async def test_registrations_accepted_while_redis_is_down_are_all_delivered(
    env: dict[str, str],
    tmp_path: Path,
    processes: list[ServiceProcess],
    schema_prefix: str,
    redis_server: RedisServer,
) -> None:
    registration = start("registration", env, tmp_path, processes)
    start("certificates", env, tmp_path, processes)
    event_id = await create_event(registration)
    first = await register_many(registration, event_id, 5)
    await wait_for(
        lambda: _at_least(count_certificates(schema_prefix), 5),
        timeout=60,
        what="certificates before the outage",
    )
    redis_server.stop()
    during = await register_many(registration, event_id, 20, start_at=100)
    await asyncio.sleep(1)
    assert await count_certificates(schema_prefix) == 5
    redis_server.start()
    await wait_for(
        lambda: _at_least(count_certificates(schema_prefix), 25),
        timeout=90,
        what="every registration's certificate after Redis came back",
    )
    assert sorted(await certificate_rows(schema_prefix)) == sorted(first | during)


async def test_registrations_made_before_the_certificates_service_first_ran_get_certificates(
    env: dict[str, str],
    tmp_path: Path,
    processes: list[ServiceProcess],
    schema_prefix: str,
    redis_server: RedisServer,
) -> None:
    registration = start("registration", env, tmp_path, processes)
    event_id = await create_event(registration)
    early = await register_many(registration, event_id, 5)
    redis = Redis.from_url(redis_server.url)
    await wait_for(
        lambda: _at_least(redis.xlen(ParticipantRegisteredV1.STREAM), 5),
        what="the events on their stream",
    )
    await redis.aclose()
    start("certificates", env, tmp_path, processes)
    await wait_for(
        lambda: _at_least(count_certificates(schema_prefix), 5),
        timeout=60,
        what="certificates for the early registrations",
    )
    assert sorted(await certificate_rows(schema_prefix)) == sorted(early)


async def _at_least(awaitable: object, minimum: int) -> bool:
    return bool(await awaitable >= minimum)  # type: ignore[misc]


async def test_a_service_started_while_redis_is_down_catches_up_when_it_comes_back(
    env: dict[str, str],
    tmp_path: Path,
    processes: list[ServiceProcess],
    schema_prefix: str,
    redis_server: RedisServer,
) -> None:
    redis_server.stop()
    registration = start("registration", env, tmp_path, processes)
    certificates = start("certificates", env, tmp_path, processes)
    async with httpx.AsyncClient(timeout=10) as client:
        ready = await client.get(f"{certificates.url}/ready")
        assert ready.status_code == 503
        assert ready.json()["checks"]["redis"].startswith("error")
    event_id = await create_event(registration)
    accepted = await register_many(registration, event_id, 3)
    redis_server.start()
    await wait_for(
        lambda: _at_least(count_certificates(schema_prefix), 3),
        timeout=90,
        what="certificates once Redis is reachable",
    )
    assert sorted(await certificate_rows(schema_prefix)) == sorted(accepted)
    async with httpx.AsyncClient(timeout=10) as client:
        assert (await client.get(f"{certificates.url}/ready")).status_code == 200
