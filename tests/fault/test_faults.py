"""Faults a deployment meets: a killed consumer, a Redis outage, a late-starting service."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
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


class Deployment:
    """Registration and certificates as processes on PostgreSQL and a Redis of the test's own."""

    def __init__(self, tmp_path: Path, schema_prefix: str) -> None:
        self.tmp_path = tmp_path
        self.schema_prefix = schema_prefix
        self.redis = RedisServer(tmp_path / "redis")
        self.redis.start()
        self.env = service_env(
            redis_url=self.redis.url,
            data_dir=tmp_path,
            database_url=PG_URL,
            schema_prefix=schema_prefix,
        )
        migrate(self.env, "registration", "certificates")
        self.processes: list[ServiceProcess] = []

    def start(self, name: str) -> ServiceProcess:
        """Starts a service process and waits for its /health."""
        proc = ServiceProcess(name, self.env, self.tmp_path).start()
        self.processes.append(proc)
        return proc

    def stop_all(self) -> None:
        """Stops every process and the Redis server."""
        for proc in self.processes:
            proc.stop()
        self.redis.stop()

    async def certificate_rows(self) -> list[str]:
        """Registration ids of the stored certificates, one per row."""
        conn = await asyncpg.connect(PG_URL)
        try:
            rows = await conn.fetch(
                f'SELECT registration_id FROM "{self.schema_prefix}certificates".certificates'
                " WHERE pdf_key IS NOT NULL"  # issued: numbered, rendered and stored
            )
        finally:
            await conn.close()
        return [str(row["registration_id"]) for row in rows]

    async def wait_for_certificates(self, count: int, timeout: float = 90) -> None:
        """Waits until at least `count` certificates are stored."""

        async def enough() -> bool:
            return len(await self.certificate_rows()) >= count

        await wait_for(enough, timeout=timeout, what=f"{count} certificates")


@pytest.fixture
def deployment(tmp_path: Path, schema_prefix: str) -> Iterator[Deployment]:
    running = Deployment(tmp_path, schema_prefix)
    yield running
    running.stop_all()


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


async def test_killing_the_certificates_consumer_mid_batch_loses_and_repeats_nothing(
    deployment: Deployment,
) -> None:
    registration = deployment.start("registration")
    event_id = await create_event(registration)
    certificates = deployment.start("certificates")
    registered = await register_many(registration, event_id, 200)
    await deployment.wait_for_certificates(20, timeout=60)
    certificates.kill9()
    assert len(await deployment.certificate_rows()) < 200, "the kill came too late to prove it"
    deployment.start("certificates")
    await deployment.wait_for_certificates(200, timeout=120)
    await asyncio.sleep(3)  # a duplicate would show up after the claim idle time
    assert sorted(await deployment.certificate_rows()) == sorted(registered)
    redis = Redis.from_url(deployment.redis.url)
    assert await redis.xlen(ParticipantRegisteredV1.STREAM + ".dlq") == 0
    assert await redis.xlen(CertificateIssuedV1.STREAM) >= 200
    await redis.aclose()


async def test_registrations_accepted_while_redis_is_down_are_all_delivered(
    deployment: Deployment,
) -> None:
    registration = deployment.start("registration")
    deployment.start("certificates")
    event_id = await create_event(registration)
    first = await register_many(registration, event_id, 5)
    await deployment.wait_for_certificates(5, timeout=60)
    deployment.redis.stop()
    during = await register_many(registration, event_id, 20, start_at=100)
    await asyncio.sleep(1)
    assert len(await deployment.certificate_rows()) == 5
    deployment.redis.start()
    await deployment.wait_for_certificates(25)
    assert sorted(await deployment.certificate_rows()) == sorted(first | during)


async def test_registrations_made_before_the_certificates_service_first_ran_get_certificates(
    deployment: Deployment,
) -> None:
    registration = deployment.start("registration")
    event_id = await create_event(registration)
    early = await register_many(registration, event_id, 5)
    redis = Redis.from_url(deployment.redis.url)

    async def all_published() -> bool:
        return await redis.xlen(ParticipantRegisteredV1.STREAM) >= 5

    await wait_for(all_published, what="the events on their stream")
    await redis.aclose()
    deployment.start("certificates")
    await deployment.wait_for_certificates(5, timeout=60)
    assert sorted(await deployment.certificate_rows()) == sorted(early)


async def test_a_service_started_while_redis_is_down_catches_up_when_it_comes_back(
    deployment: Deployment,
) -> None:
    deployment.redis.stop()
    registration = deployment.start("registration")
    certificates = deployment.start("certificates")
    async with httpx.AsyncClient(timeout=10) as client:
        ready = await client.get(f"{certificates.url}/ready")
        assert ready.status_code == 503
        assert ready.json()["checks"]["redis"].startswith("error")
    event_id = await create_event(registration)
    accepted = await register_many(registration, event_id, 3)
    deployment.redis.start()
    await deployment.wait_for_certificates(3)
    assert sorted(await deployment.certificate_rows()) == sorted(accepted)
    async with httpx.AsyncClient(timeout=10) as client:
        assert (await client.get(f"{certificates.url}/ready")).status_code == 200
