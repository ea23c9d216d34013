"""A Redis master dies mid-burst; Sentinel promotes the replica; nothing is lost or done twice."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import httpx
import pytest
from redis.exceptions import RedisError

from shared.contracts import ParticipantRegisteredV1
from shared.redis_conn import parse_redis_url, redis_client
from tests.processes import ServiceProcess, migrate, service_env
from tests.sentinel import ReplicatedRedis
from tests.support import PG_URL, auth, require_server, wait_for

pytestmark = [pytest.mark.fault, pytest.mark.integration]
EVENT = {"title": "Sosialisasi Adminduk", "date": "2026-12-05", "location": "Pendopo"}
SERVICES = ("registration", "certificates", "consultation")
BURST = 60  # each certificate costs ~0.1 s of CPU: enough to kill mid-burst, quick on CI


@pytest.fixture
def replicated(tmp_path: Path) -> Iterator[ReplicatedRedis]:
    cluster = ReplicatedRedis(tmp_path / "redis")
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.stop()


async def test_a_client_follows_the_master_through_a_failover(
    replicated: ReplicatedRedis,
) -> None:
    client = redis_client(parse_redis_url(replicated.url()), socket_timeout=2)
    try:
        await client.xadd("probe", {"n": "1"})
        await client.wait(1, 5000)
        old = replicated.kill_master()
        new = replicated.wait_for_failover(old)

        async def written() -> bool:
            try:
                await client.xadd("probe", {"n": "2"})
            except (RedisError, OSError):
                return False
            return True

        await wait_for(written, timeout=60, what="a write through the same client")
        assert new != old
        assert await client.xlen("probe") == 2  # the first entry was on the replica already
    finally:
        await client.aclose()


async def _register(client: httpx.AsyncClient, event_id: str, i: int) -> str | None:
    """One registration; its id when answered 2xx, None when refused or unreachable."""
    body = {
        "name": f"Peserta {i}",
        "school": "SMAN 1 Mojosari",
        "phone": f"0813{i:08d}",
        "level": "SMA",
        "consent": True,
    }
    try:
        response = await client.post(f"/api/v1/events/{event_id}/registrations", json=body)
    except httpx.HTTPError:
        return None
    if response.is_success:
        return str(response.json()["registration"]["id"])
    return None


async def _rows(schema: str, table: str) -> list[str]:
    conn = await asyncpg.connect(PG_URL)
    try:
        rows = await conn.fetch(f'SELECT registration_id FROM "{schema}".{table}')
    finally:
        await conn.close()
    return [str(row["registration_id"]) for row in rows]


async def test_killing_the_redis_master_mid_burst_loses_and_repeats_nothing(
    replicated: ReplicatedRedis, tmp_path: Path, schema_prefix: str
) -> None:
    require_server("PostgreSQL", "127.0.0.1", 5432)
    env = service_env(
        redis_url=replicated.url(),
        data_dir=tmp_path,
        database_url=PG_URL,
        schema_prefix=schema_prefix,
        MENJAMU_REDIS_MIN_REPLICAS="1",
    )
    migrate(env, *SERVICES)
    procs = [ServiceProcess(name, env, tmp_path).start() for name in SERVICES]
    try:
        async with httpx.AsyncClient(base_url=procs[0].url, timeout=30) as client:
            created = await client.post("/api/v1/events", json=EVENT, headers=auth())
            assert created.status_code == 201, created.text
            event_id = created.json()["id"]
            limiter = asyncio.Semaphore(8)
            done: list[str | None] = []

            async def one(i: int) -> None:
                async with limiter:
                    done.append(await _register(client, event_id, i))

            burst = [asyncio.create_task(one(i)) for i in range(BURST)]
            await wait_for(_count_at_least(done, BURST // 3), timeout=120, what="a third")
            old = replicated.kill_master()
            assert len(done) < BURST, "the burst ended before the kill: it would prove nothing"
            await asyncio.to_thread(replicated.wait_for_failover, old)
            await asyncio.gather(*burst)
            # The killed pod comes back; Sentinel makes it the new master's replica.
            replicated.start_server(old)
        accepted = {rid for rid in done if rid}
        assert len(accepted) >= BURST // 2, "too few registrations answered to prove anything"
        certs, invites = f"{schema_prefix}certificates", f"{schema_prefix}consultation"

        async def all_handled() -> bool:
            return (
                set(await _rows(certs, "certificates")) >= accepted
                and set(await _rows(invites, "invitations")) >= accepted
            )

        await wait_for(all_handled, timeout=300, every=1, what="every certificate and invitation")
        for table, schema in (("certificates", certs), ("invitations", invites)):
            counts = Counter(await _rows(schema, table))
            assert set(counts) == accepted, f"{table}: rows for registrations never accepted"
            assert max(counts.values()) == 1, f"{table}: a registration handled twice"
        client_after = redis_client(parse_redis_url(replicated.url()))
        assert await client_after.xlen(ParticipantRegisteredV1.STREAM + ".dlq") == 0
        await client_after.aclose()
    finally:
        for proc in procs:
            proc.stop()


def _count_at_least(items: list[str | None], n: int):  # type: ignore[no-untyped-def]
    async def probe() -> bool:
        return len(items) >= n

    return probe
