"""SIGTERM while a handler holds a message: the service finishes it, acks it and exits; what it
had read but not begun is handled at once by the next start (not after claim_idle_ms)."""

from __future__ import annotations

import asyncio
import json
import signal
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import pytest
from faststream.redis.parser import BinaryMessageFormatV1
from redis.asyncio import Redis

from services.certificates.handlers import ISSUE_BATCH, ISSUE_GROUP
from shared.contracts import ParticipantRegisteredV1
from shared.relay import encode_for_stream
from tests.factories import participant_registered
from tests.fault.test_faults import Deployment, groups_quiet
from tests.processes import RedisServer, migrate, service_env
from tests.support import PG_URL, wait_for

pytestmark = [pytest.mark.fault, pytest.mark.integration]
STREAM = ParticipantRegisteredV1.STREAM


class CertificatesOnly(Deployment):
    """The certificates service alone on PostgreSQL; the test publishes its events itself."""

    def __init__(self, tmp_path: Path, schema_prefix: str) -> None:
        self.tmp_path, self.schema_prefix, self.processes = tmp_path, schema_prefix, []
        self.redis = RedisServer(tmp_path / "redis")
        self.redis.start()
        self.env = service_env(
            redis_url=self.redis.url,
            data_dir=tmp_path,
            database_url=PG_URL,
            schema_prefix=schema_prefix,
            # A minute, as in production: anything left to the claimer outlasts the test.
            CERTIFICATES_CLAIM_IDLE_MS="60000",
        )
        migrate(self.env, "certificates")


@pytest.fixture
def deployment(tmp_path: Path, schema_prefix: str) -> Iterator[Deployment]:
    running = CertificatesOnly(tmp_path, schema_prefix)
    yield running
    running.stop_all()


async def register(redis: Redis, activity: uuid.UUID, count: int) -> set[str]:
    """Publishes `count` registrations for one activity at once (one MULTI), so a reader that
    waits on the stream reads several of them in one XREADGROUP."""
    events = [participant_registered(activity_id=activity) for _ in range(count)]
    pipe = redis.pipeline(transaction=True)
    for event in events:
        fields = await encode_for_stream(event.type, event.correlation_id, event.model_dump_json())
        pipe.xadd(STREAM, fields)
    await pipe.execute()
    return {str(event.registration_id) for event in events}


async def issued_for(deployment: Deployment) -> set[str]:
    """Registration ids that have a certificate row (numbered; the PDF may still be coming)."""
    rows = await deployment.fetch('SELECT registration_id FROM "{prefix}certificates".certificates')
    return {str(row["registration_id"]) for row in rows}


async def group_state(redis: Redis) -> tuple[dict[str, str], set[str], str]:
    """The stream's entries (id -> registration id), the group's pending ids, its last read id."""
    entries = {}
    for entry_id, fields in await redis.xrange(STREAM):
        body, _headers = BinaryMessageFormatV1.parse(fields[b"__data__"])
        entries[entry_id.decode()] = json.loads(body)["registration_id"]
    pending = await redis.xpending_range(STREAM, ISSUE_GROUP, "-", "+", 1000)
    groups = {g["name"].decode(): g for g in await redis.xinfo_groups(STREAM)}
    last = groups[ISSUE_GROUP]["last-delivered-id"].decode()
    return entries, {p["message_id"].decode() for p in pending}, last


def _key(entry_id: str) -> tuple[int, int]:
    ms, _, seq = entry_id.partition("-")
    return int(ms), int(seq)


async def waiting_on_lock(conn: asyncpg.Connection, schema: str) -> bool:
    """True when some session waits for the lock on the schema's processed_events."""
    count = await conn.fetchval(
        "SELECT count(*) FROM pg_locks l JOIN pg_class c ON c.oid = l.relation"
        " JOIN pg_namespace n ON n.oid = c.relnamespace"
        " WHERE NOT l.granted AND c.relname = 'processed_events' AND n.nspname = $1",
        schema,
    )
    return bool(count)


async def test_sigterm_while_a_handler_holds_a_message_finishes_it_and_loses_nothing(
    deployment: Deployment, schema_prefix: str
) -> None:
    redis = Redis.from_url(deployment.redis.url)
    activity = uuid.uuid4()
    certificates = deployment.start("certificates")
    registered = await register(redis, activity, 3)
    await wait_for(lambda: _issued_are(deployment, registered), timeout=60, what="3 numbered")

    # Hold the certificates handlers inside their transaction: they wait for this lock.
    schema = f"{schema_prefix}certificates"
    locker = await asyncpg.connect(PG_URL)
    holding = locker.transaction()
    await holding.start()
    await locker.execute(f'LOCK TABLE "{schema}".processed_events IN EXCLUSIVE MODE')
    # More than one read batch (the issuing reaction numbers up to ISSUE_BATCH together), so
    # the stop finds a batch in hand and more waiting behind it.
    registered |= await register(redis, activity, ISSUE_BATCH + 25)
    await wait_for(lambda: waiting_on_lock(locker, schema), timeout=60, what="a handler in hand")
    entries, pending, _last = await group_state(redis)
    in_hand = entries[min(pending, key=_key)]  # a reader handles its messages in order
    assert len(pending) > 1, "the reader read nothing ahead: the restart would prove nothing"

    assert certificates.proc is not None
    certificates.proc.terminate()  # SIGTERM

    async def stopping() -> bool:
        return '"service.stopping"' in certificates.log_path.read_text()

    # The stop has begun while the handler still waits for the lock.
    await wait_for(stopping, timeout=30, what="the service to begin its stop")
    assert await waiting_on_lock(locker, schema), "the handler was not in hand at the stop"
    assert certificates.proc.poll() is None, "the service did not wait for its handler"
    await holding.commit()
    await locker.close()
    returncode = await asyncio.to_thread(_wait_exit, certificates.proc, 60)
    log = certificates.log_path.read_text()
    # uvicorn ends a clean shutdown by re-raising the signal it caught: -15 is a clean exit.
    assert returncode in (0, -signal.SIGTERM), f"exit code {returncode}; log:\n{log}"
    assert "Application shutdown complete" in log and "stop_timed_out" not in log

    # At the stop: the message in hand was finished and acked, and exactly the acked messages
    # have their effect (nothing done without its ack, nothing acked without its effect).
    entries, pending, last = await group_state(redis)
    acked = {rid for mid, rid in entries.items() if _key(mid) <= _key(last) and mid not in pending}
    issued = await issued_for(deployment)
    assert in_hand in issued and in_hand in acked
    assert issued == acked
    assert len(issued) < len(registered), "everything was done before the stop: nothing to prove"

    deployment.start("certificates")  # same consumer name: it re-reads its own pending first
    # Far under the claimer's 60 s: every certificate numbered once, 1..N without a gap.
    await wait_for(lambda: _issued_are(deployment, registered), timeout=40, what="all numbered")
    await wait_for(lambda: groups_quiet(redis), timeout=20, what="the groups quiet")
    assert await issued_for(deployment) == registered
    numbers = await deployment.fetch('SELECT number FROM "{prefix}certificates".certificates')
    assert sorted(int(r["number"].split("/")[0]) for r in numbers) == list(
        range(1, len(registered) + 1)
    )
    assert await redis.xlen(STREAM + ".dlq") == 0
    await redis.aclose()


async def _issued_are(deployment: Deployment, expected: set[str]) -> bool:
    return await issued_for(deployment) == expected


def _wait_exit(proc: subprocess.Popen[bytes], timeout: float) -> int:
    return proc.wait(timeout)
