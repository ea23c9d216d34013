"""Faults a deployment meets: a killed consumer, a Redis outage, a late-starting service."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from faststream.redis.parser import BinaryMessageFormatV1
from redis.asyncio import Redis
from redis.exceptions import ResponseError

from shared.contracts import ALL_EVENTS, CertificateIssuedV1, ParticipantRegisteredV1
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
        migrate(self.env, "registration", "certificates", "consultation", "survey")
        self.processes: list[ServiceProcess] = []

    def start(self, name: str, replica: str = "") -> ServiceProcess:
        """Starts a service process (a named replica: its own consumer name), waits for /health."""
        env = dict(self.env)
        if replica:
            env[f"{name.upper()}_CONSUMER_NAME"] = f"{name}-{replica}"
        proc = ServiceProcess(name, env, self.tmp_path).start()
        self.processes.append(proc)
        return proc

    def stop_all(self) -> None:
        """Stops every process and the Redis server."""
        for proc in self.processes:
            proc.stop()
        self.redis.stop()

    async def fetch(self, query: str) -> list[Any]:
        """Runs one query on the test's PostgreSQL ({prefix} is this deployment's prefix)."""
        conn = await asyncpg.connect(PG_URL)
        try:
            return list(await conn.fetch(query.format(prefix=self.schema_prefix)))
        finally:
            await conn.close()

    async def certificate_rows(self) -> list[str]:
        """Registration ids of the stored certificates, one per row."""
        rows = await self.fetch(
            'SELECT registration_id FROM "{prefix}certificates".certificates'
            " WHERE pdf_key IS NOT NULL"  # issued: numbered, rendered and stored
        )
        return [str(row["registration_id"]) for row in rows]

    async def wait_for_certificates(self, count: int, timeout: float = 90) -> None:
        """Waits until at least `count` certificates are stored."""

        async def enough() -> bool:
            return len(await self.certificate_rows()) >= count

        await wait_for(enough, timeout=timeout, what=f"{count} certificates")

    async def quiet(self) -> bool:
        """True when every outbox is published and every group has nothing pending or unread."""
        return not await self.busy()

    async def busy(self) -> list[str]:
        """What the system still has to do: unpublished outbox rows, certificates waiting for
        their PDF (two-step issuing: the finisher renders numbered rows), groups with pending
        or unread entries. Empty when quiet."""
        busy = []
        for service in ("registration", "certificates", "consultation", "survey"):
            rows = await self.fetch(
                f'SELECT count(*) AS n FROM "{{prefix}}{service}".outbox WHERE published_at IS NULL'
            )
            if rows[0]["n"]:
                busy.append(f"{service}: {rows[0]['n']} outbox rows unpublished")
        waiting = await self.fetch(
            'SELECT count(*) AS n FROM "{prefix}certificates".certificates WHERE needs_render'
        )
        if waiting[0]["n"]:
            busy.append(f"certificates: {waiting[0]['n']} numbered rows waiting for their PDF")
        redis = Redis.from_url(self.redis.url)
        try:
            return busy + await groups_busy(redis)
        finally:
            await redis.aclose()

    async def wait_until_quiet(self, timeout: float = 180) -> None:
        """Waits until the system has nothing left to do (see busy); says what is left if not."""
        try:
            await wait_for(self.quiet, timeout=timeout, every=0.5, what="the system quiet")
        except (AssertionError, TimeoutError) as failed:
            raise AssertionError(f"{failed}; still busy: {await self.busy()}") from None

    async def assert_exactly_once(self, registered: set[str]) -> None:
        """Exactly one certificate per registration, numbered 1..N without a gap, and exactly N
        CertificateIssued events (distinct ids) in the outbox and on the stream."""
        assert sorted(await self.certificate_rows()) == sorted(registered)
        numbers = await self.fetch('SELECT number FROM "{prefix}certificates".certificates')
        assert sorted(int(r["number"].split("/")[0]) for r in numbers) == list(
            range(1, len(registered) + 1)
        )
        issued = await self.fetch(
            'SELECT count(DISTINCT event_id) AS n, count(*) AS rows FROM "{prefix}certificates"'
            ".outbox WHERE event_type = 'certificates.certificate_issued'"
        )
        assert issued[0]["n"] == issued[0]["rows"] == len(registered)
        redis = Redis.from_url(self.redis.url)
        try:
            rows = await self.fetch(
                'SELECT event_id, published_at, attempts, created_at FROM "{prefix}certificates"'
                ".outbox WHERE event_type = 'certificates.certificate_issued'"
            )
            on_stream = await event_ids(redis, CertificateIssuedV1.STREAM)
            missing = [dict(r) for r in rows if str(r["event_id"]) not in on_stream]
            assert not missing, f"{len(on_stream)} on the stream; not there: {missing}"
            assert len(on_stream) == len(rows)
            assert await redis.xlen(ParticipantRegisteredV1.STREAM + ".dlq") == 0
        finally:
            await redis.aclose()


async def groups_quiet(redis: Redis) -> bool:
    """True when every consumer group of every event stream has read all and acked all."""
    return not await groups_busy(redis)


async def groups_busy(redis: Redis) -> list[str]:
    """The consumer groups with entries pending (read, not acked) or unread."""
    busy = []
    for event in ALL_EVENTS:
        try:
            groups = await redis.xinfo_groups(event.STREAM)
        except ResponseError:
            continue
        last = _entry_id((await redis.xinfo_stream(event.STREAM))["last-generated-id"])
        for group in groups:
            name = f"{event.STREAM}/{group['name']!r}"
            if group["pending"] != 0:
                busy.append(f"{name}: {group['pending']} pending")
            # Redis reports lag as nil when it cannot count it (a group made at 0 on an existing
            # stream, trimmed entries): then compare the group's last read id with the stream's.
            lag = group.get("lag")
            if lag is None and _entry_id(group["last-delivered-id"]) < last:
                busy.append(f"{name}: unread (lag unknown)")
            if lag is not None and lag != 0:
                busy.append(f"{name}: lag {lag}")
    return busy


def _entry_id(value: bytes | str) -> tuple[int, int]:
    text = value.decode() if isinstance(value, bytes) else value
    ms, _, seq = text.partition("-")
    return int(ms), int(seq or 0)


async def event_ids(redis: Redis, stream: str) -> set[str]:
    """Distinct event ids of the entries on a stream."""
    found = set()
    for _id, fields in await redis.xrange(stream):
        body, _headers = BinaryMessageFormatV1.parse(fields[b"__data__"])
        found.add(json.loads(body)["event_id"])
    return found


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
    await deployment.wait_until_quiet()
    await deployment.assert_exactly_once(registered)


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
    # Accepted and committed, but without Redis nothing can reach the certificates service.
    unpublished = await deployment.fetch(
        'SELECT count(*) AS n FROM "{prefix}registration".outbox WHERE published_at IS NULL'
    )
    assert unpublished[0]["n"] == 20
    assert len(await deployment.certificate_rows()) == 5
    deployment.redis.start()
    await deployment.wait_until_quiet()
    await deployment.assert_exactly_once(first | during)


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
    await deployment.wait_until_quiet()
    await deployment.assert_exactly_once(early)


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
    await deployment.wait_until_quiet()
    await deployment.assert_exactly_once(accepted)
    async with httpx.AsyncClient(timeout=10) as client:
        assert (await client.get(f"{certificates.url}/ready")).status_code == 200


async def test_two_replicas_on_one_database_one_killed_mid_burst_lose_and_repeat_nothing(
    deployment: Deployment,
) -> None:
    registration = deployment.start("registration")
    event_id = await create_event(registration)
    doomed = [deployment.start(name, replica="a") for name in ("certificates", "consultation")]
    for name in ("certificates", "consultation"):
        deployment.start(name, replica="b")
    registered = await register_many(registration, event_id, 200)
    await deployment.wait_for_certificates(20, timeout=60)
    for proc in doomed:
        proc.kill9()
    assert len(await deployment.certificate_rows()) < 200, "the kill came too late to prove it"
    await deployment.wait_until_quiet()
    await deployment.assert_exactly_once(registered)
    invitations = await deployment.fetch(
        'SELECT registration_id, status FROM "{prefix}consultation".invitations'
    )
    assert sorted(str(r["registration_id"]) for r in invitations) == sorted(registered)


async def test_two_survey_replicas_one_killed_mid_burst_count_every_response_once(
    deployment: Deployment,
) -> None:
    replicas = [deployment.start("survey", replica=name) for name in ("a", "b")]
    scores = {f"U{i}": 3 for i in range(1, 10)}
    total = 300
    limiter = asyncio.Semaphore(10)

    async def post(i: int, replica: int) -> int:
        # Each citizen answers from their own phone (its own form cookie): identical answers
        # from different devices are different responses.
        cookies = {"survei_perangkat": f"citizen-{i}"}
        async with limiter, httpx.AsyncClient(timeout=30, cookies=cookies) as client:
            response = await client.post(
                f"{replicas[replica].url}/api/v1/units/kantor-kecamatan/responses",
                json={"scores": scores},
            )
            return response.status_code

    accepted = [await post(i, i % 2) for i in range(0, 60)]
    replicas[0].kill9()
    accepted += await asyncio.gather(*(post(i, 1) for i in range(60, total)))
    assert accepted == [201] * total
    await deployment.wait_until_quiet()
    daily = await deployment.fetch(
        'SELECT sum(responses) AS n FROM "{prefix}survey".daily_responses'
    )
    assert daily[0]["n"] == total
    answered = await deployment.fetch(
        'SELECT unsur, answered, score_sum FROM "{prefix}survey".aggregates'
        " WHERE unsur NOT LIKE 'm:%'"  # the per-month roll-ups repeat the days' sums
    )
    assert sorted((r["unsur"], r["answered"], r["score_sum"]) for r in answered) == [
        (f"U{i}", total, 3 * total) for i in range(1, 10)
    ]
