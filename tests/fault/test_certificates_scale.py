"""Certificates service processes on PostgreSQL: two replicas number without gaps, and a
kill between numbering and rendering is finished without a new number."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from redis.asyncio import Redis

from services.certificates.handlers import ISSUE_GROUP
from shared.contracts import CertificateIssuedV1, ParticipantRegisteredV1
from shared.streams import group_stats
from tests.factories import participant_registered, publish
from tests.processes import ServiceProcess, migrate, service_env
from tests.support import PG_URL, wait_for

pytestmark = [pytest.mark.fault, pytest.mark.integration]


class Certificates:
    """Certificates processes sharing one PostgreSQL schema and one Redis database."""

    def __init__(self, tmp_path: Path, schema_prefix: str, redis_url: str, **env: str) -> None:
        self.tmp_path = tmp_path
        self.schema = f"{schema_prefix}certificates"
        self.env = service_env(
            redis_url=redis_url,
            data_dir=tmp_path,
            database_url=PG_URL,
            schema_prefix=schema_prefix,
            CERTIFICATES_RENDER_WORKERS="1",
            CERTIFICATES_SWEEP_INTERVAL_S="0.5",
            **env,
        )
        migrate(self.env, "certificates")
        self.processes: list[ServiceProcess] = []

    def start(self) -> ServiceProcess:
        folder = self.tmp_path / f"replica-{len(self.processes)}"
        folder.mkdir()
        proc = ServiceProcess("certificates", self.env, folder).start()
        self.processes.append(proc)
        return proc

    def stop_all(self) -> None:
        for proc in self.processes:
            proc.stop()

    async def rows(self) -> list[dict[str, Any]]:
        """Every certificate row: registration, number, whether its PDF is stored."""
        conn = await asyncpg.connect(PG_URL)
        try:
            rows = await conn.fetch(
                f'SELECT registration_id, number, pdf_key FROM "{self.schema}".certificates'
            )
            unsent = await conn.fetchval(
                f'SELECT count(*) FROM "{self.schema}".outbox WHERE published_at IS NULL'
            )
        finally:
            await conn.close()
        return [dict(r) | {"unsent": unsent} for r in rows]

    async def wait_until_finished(self, count: int, redis: Redis) -> list[dict[str, Any]]:
        """Waits until `count` rows have a PDF, the outbox is empty and the group is idle."""

        async def finished() -> list[dict[str, Any]] | None:
            rows = await self.rows()
            stats = await group_stats(redis, ParticipantRegisteredV1.STREAM, ISSUE_GROUP)
            done = (
                len(rows) == count
                and all(r["pdf_key"] for r in rows)
                and rows[0]["unsent"] == 0
                and stats["pending"] == 0
                and stats["lag"] == 0
            )
            return rows if done else None

        result = await wait_for(finished, timeout=180, every=0.5, what=f"{count} certificates")
        assert result is not None
        return result


@pytest.fixture
def certificates(tmp_path: Path, schema_prefix: str, redis_url: str) -> Iterator[Certificates]:
    running = Certificates(tmp_path, schema_prefix, redis_url, CERTIFICATES_RENDER_TIMEOUT_S="5")
    yield running
    running.stop_all()


def sequence(number: str) -> int:
    return int(number.split("/", 1)[0])


async def issued_events(redis: Redis) -> list[CertificateIssuedV1]:
    from faststream.redis.parser import BinaryMessageFormatV1

    entries = await redis.xrange(CertificateIssuedV1.STREAM)
    return [
        CertificateIssuedV1.model_validate_json(BinaryMessageFormatV1.parse(f[b"__data__"])[0])
        for _id, f in entries
    ]


def rendered_lines(proc: ServiceProcess) -> int:
    lines = proc.log_path.read_text(errors="replace").splitlines()
    return sum(1 for line in lines if '"certificate.rendered"' in line)


async def test_two_replicas_number_exactly_one_to_n_one_per_registration(
    certificates: Certificates, redis_client: Redis
) -> None:
    first, second = certificates.start(), certificates.start()
    events = [participant_registered(name=f"Peserta {i}") for i in range(60)]
    for event in events:
        await publish(redis_client, event)
    # Redeliveries and a producer re-announcing a registration must not take numbers.
    for event in events[:5]:
        await publish(redis_client, event)
        await publish(redis_client, participant_registered(registration_id=event.registration_id))

    rows = await certificates.wait_until_finished(60, redis_client)

    assert sorted(sequence(r["number"]) for r in rows) == list(range(1, 61))
    assert {r["registration_id"] for r in rows} == {e.registration_id for e in events}
    issued = await issued_events(redis_client)
    assert len(issued) == 60
    assert len({e.certificate_id for e in issued}) == 60
    assert len({e.event_id for e in issued}) == 60
    assert rendered_lines(first) > 0 and rendered_lines(second) > 0, "both replicas render"


async def test_a_kill_between_numbering_and_rendering_is_finished_without_a_new_number(
    certificates: Certificates, redis_client: Redis
) -> None:
    proc = certificates.start()
    events = [participant_registered(name=f"Peserta {i}") for i in range(30)]
    for event in events:
        await publish(redis_client, event)

    async def all_numbered() -> list[dict[str, Any]] | None:
        rows = await certificates.rows()
        return rows if len(rows) == 30 else None

    await wait_for(all_numbered, timeout=60, every=0.05, what="30 numbered certificates")
    proc.kill9()
    at_kill = await certificates.rows()
    unrendered = [r for r in at_kill if not r["pdf_key"]]
    assert unrendered, "the kill came too late: every PDF was already made"
    numbers_at_kill = {r["registration_id"]: r["number"] for r in at_kill}

    certificates.start()
    rows = await certificates.wait_until_finished(30, redis_client)

    assert {r["registration_id"]: r["number"] for r in rows} == numbers_at_kill
    assert sorted(sequence(r["number"]) for r in rows) == list(range(1, 31))
    issued = await issued_events(redis_client)
    assert len(issued) == 30
    assert sorted(e.number for e in issued) == sorted(numbers_at_kill.values())
