"""Consultation: signed webhooks at a sustained rate, and the outbound drain across replicas.

webhook: N_W signed Cloud API webhooks at MENJAMU_BENCH_WEBHOOK_RATE (50/s) into one in-process
consultation service (real Redis streams, SQLite), half requirement questions (automatic
answer), half MENTOR (routing to one of five on-duty mentors). Latency = from just before the
POST to the commit of the pipeline's transaction (answer or assignment queued). Baseline: the
webhook's own 200 answer time in the same run.

drain: 1,000 queued messages, two dispatchers (two replicas: own engine, own Redis client) on
one database, a gateway that records send times; limit CONSULTATION_SEND_RATE_PER_MINUTE 6000
(100/s). Reported: the highest count in any 1-s window vs the limit, and the overall rate.
"""

from __future__ import annotations

import asyncio
import bisect
import hashlib
import hmac
import json
import os
import statistics
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import Any

import httpx

from benchmarks._common import Result, env_float, env_int
from benchmarks._infra import PG_URL, REDIS_URL, _pg_execute, flush_redis, pg_reachable
from services.consultation.app import MIGRATIONS, create_app
from services.consultation.dispatcher import Dispatcher
from services.consultation.gateway import Outgoing, SendResult
from services.consultation.models import OutboundMessage
from services.consultation.settings import Settings
from shared.contracts import utcnow
from shared.db import Database
from shared.logging import configure_logging
from shared.migrations import upgrade

N_W = env_int("MENJAMU_BENCH_WEBHOOKS", 500)
RATE = env_float("MENJAMU_BENCH_WEBHOOK_RATE", 50.0)
N_D = env_int("MENJAMU_BENCH_OUTBOUND", 1000)
PER_MINUTE = 6000
SECRET = "bench-app-secret"  # noqa: S105
TOKEN = "bench-admin-token"  # noqa: S105
NOTE = (
    "webhook rows: events/s is the offered rate; the latency figures are in the footnotes "
    "(target p99 < 50 ms). drain rows: events/s is the sending rate of both replicas together."
)


def _settings(data_dir: Path, **extra: Any) -> Settings:
    values: dict[str, Any] = {
        "data_dir": data_dir,
        "redis_url": REDIS_URL,
        "admin_token": TOKEN,
        "whatsapp_gateway": "dev",
        "cloud_app_secret": SECRET,
        **_intervals(),
        "consumer_name": f"bench-{uuid.uuid4().hex[:6]}",
        "log_level": os.environ.get("MENJAMU_BENCH_LOG_LEVEL", "WARNING"),
    }
    values.update(extra)
    return Settings.model_validate(values)


def _intervals() -> dict[str, int]:
    """The service's own intervals unless MENJAMU_BENCH_POLL_MS sets reader block, relay and
    dispatcher polling (the benchmark used 20/20/50 ms before 2026-11-29): readers block on
    XREADGROUP and the relay and dispatcher are woken after each commit, so shorter intervals
    add polling, not speed."""
    poll = env_int("MENJAMU_BENCH_POLL_MS", 0)
    if not poll:
        return {}
    return {"poll_ms": poll, "relay_interval_ms": poll, "dispatch_interval_ms": max(poll, 50)}


def _signed(i: int, text: str) -> tuple[bytes, dict[str, str]]:
    wa_id = f"62813{i:08d}"
    body = {
        "object": "whatsapp_business_account",
        "entry": [
            {
                "id": "1",
                "changes": [
                    {
                        "field": "messages",
                        "value": {
                            "messaging_product": "whatsapp",
                            "messages": [
                                {
                                    "from": wa_id,
                                    "id": f"wamid.bench.{i}",
                                    "timestamp": str(int(time.time())),
                                    "type": "text",
                                    "text": {"body": text},
                                }
                            ],
                        },
                    }
                ],
            }
        ],
    }
    raw = json.dumps(body).encode()
    signature = hmac.new(SECRET.encode(), raw, hashlib.sha256).hexdigest()
    return raw, {"X-Hub-Signature-256": f"sha256={signature}", "Content-Type": "application/json"}


async def _until(condition: Any, timeout_s: float) -> None:
    """Polls a condition every 20 ms until true or the timeout passes."""
    for _ in range(int(timeout_s / 0.02)):
        if condition():
            return
        await asyncio.sleep(0.02)


def _ms(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


@asynccontextmanager
async def _database(kind: str, **extra: Any) -> AsyncIterator[Settings]:
    """Settings on a fresh SQLite file or PostgreSQL schema (dropped afterwards), migrated."""
    prefix = f"bench_{uuid.uuid4().hex[:8]}_"
    with tempfile.TemporaryDirectory() as tmp:
        db = {"database_url": PG_URL, "db_schema_prefix": prefix} if kind == "postgresql" else {}
        settings = _settings(Path(tmp), **db, **extra)
        await asyncio.to_thread(upgrade, settings, MIGRATIONS)
        try:
            yield settings
        finally:
            if kind == "postgresql":
                await _pg_execute(f'DROP SCHEMA IF EXISTS "{settings.schema_name}" CASCADE')


def _kinds() -> list[str]:
    return ["sqlite", "postgresql"] if pg_reachable() else ["sqlite"]


async def webhook_latency(kind: str) -> list[Result]:
    """Signed webhooks at RATE per second; receipt-to-commit latency of the pipeline."""
    async with _database(kind) as settings:
        app = create_app(settings)
        async with app.router.lifespan_context(app):
            await _until(lambda: app.state.runtime.messaging_started, 30)
            return await _drive(app, kind)


async def _drive(app: Any, kind: str) -> list[Result]:
    runtime = app.state.runtime
    sent_at: dict[str, float] = {}
    done_at: dict[str, float] = {}
    handled: list[str] = []
    reactions = runtime.consumers.reactions
    inbound = next(r for r in reactions if r.group == "consultation.inbound")
    original = inbound.handle

    async def timed(session: Any, event: Any) -> Any:
        result = await original(session, event)
        handled.append(event.provider_message_id)
        return result

    object.__setattr__(inbound, "handle", timed)
    many = inbound.handle_many
    if many is not None:  # a burst handled in one transaction

        async def timed_many(session: Any, events: list[Any]) -> Any:
            result = await many(session, events)
            handled.extend(e.provider_message_id for e in events)
            return result

        object.__setattr__(inbound, "handle_many", timed_many)

    def committed() -> None:
        now = time.perf_counter()
        while handled:
            done_at.setdefault(handled.pop(), now)

    runtime.db.after_commit.append(committed)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
        for k in range(5):
            mentor = await client.post(
                "/api/v1/mentors",
                headers={"Authorization": f"Bearer {TOKEN}"},
                json={
                    "name": f"Mentor {k}",
                    "phone": f"+6281100000{k:03d}",
                    "topics": ["KK", "Lainnya"],
                    "capacity": 100,
                },
            )
            await client.post(
                f"/api/v1/mentors/{mentor.json()['id']}/duty",
                headers={"Authorization": f"Bearer {TOKEN}"},
                json={"on_duty": True},
            )
        answers: list[float] = []
        statements = _count_statements(runtime.db)
        cpu_start = time.process_time()  # every thread of the process (aiosqlite's too)
        start = time.perf_counter()

        async def post(i: int) -> None:
            raw, headers = _signed(i, "syarat pecah KK apa saja?" if i % 2 else "MENTOR")
            sent_at[f"wamid.bench.{i}"] = t0 = time.perf_counter()
            response = await client.post("/webhooks/whatsapp", content=raw, headers=headers)
            assert response.status_code == 200
            answers.append(time.perf_counter() - t0)

        tasks = []
        for i in range(N_W):
            await asyncio.sleep(max(0.0, start + i / RATE - time.perf_counter()))
            tasks.append(asyncio.create_task(post(i), name=f"{WEBHOOK_TASK}{i}"))
        await asyncio.gather(*tasks)
        await _until(lambda: len(done_at) >= N_W, 60)
        elapsed = time.perf_counter() - start
        cpu_ms = (time.process_time() - cpu_start) * 1000 / N_W
    per_phase = statements.per_message(N_W)
    latencies = [done_at[k] - sent_at[k] for k in sent_at if k in done_at]
    base = f"{kind}: webhook 200 answer (baseline)"
    return [
        Result(
            base,
            N_W,
            elapsed,
            base,
            f"p50 {_ms(answers, 0.5):.1f} ms, p99 {_ms(answers, 0.99):.1f} ms",
        ),
        Result(
            f"{kind}: signed webhook -> auto answer / assignment committed, {RATE:.0f} msg/s",
            len(latencies),
            elapsed,
            base,
            f"p50 {_ms(latencies, 0.5):.1f} ms, p99 {_ms(latencies, 0.99):.1f} ms, "
            f"max {max(latencies) * 1000:.1f} ms; {N_W - len(latencies)} unfinished; "
            f"p99 ratio vs baseline p99 {_ms(latencies, 0.99) / max(_ms(answers, 0.99), 1e-3):.1f}"
            "; "
            f"SQL statements per message: {per_phase}; process CPU {cpu_ms:.1f} ms per message; "
            f"load average {os.getloadavg()[0]:.1f}",
        ),
    ]


WEBHOOK_TASK = "bench-webhook-"
PHASES = {
    "outbox-relay": "relay",
    "whatsapp-dispatcher": "dispatcher",
    "consultation-sweeper": "other",
    "retention": "other",
}


class StatementCount:
    """SQL statements sent by each phase: webhook, pipeline (the consumer), dispatcher, relay.

    The phase is read from the asyncio task that runs the statement (SQLAlchemy's greenlets run
    inside it). Relay and dispatcher counts include their idle polls during the run.
    """

    def __init__(self) -> None:
        self.counts: dict[str, int] = {}

    def __call__(self, *_args: Any) -> None:
        task = asyncio.current_task()
        name = task.get_name() if task is not None else ""
        phase = "webhook" if name.startswith(WEBHOOK_TASK) else PHASES.get(name, "pipeline")
        self.counts[phase] = self.counts.get(phase, 0) + 1

    def per_message(self, messages: int) -> str:
        order = ("webhook", "pipeline", "dispatcher", "relay", "other")
        return ", ".join(f"{k} {self.counts.get(k, 0) / messages:.1f}" for k in order)


def _count_statements(db: Database) -> StatementCount:
    from sqlalchemy import event

    counter = StatementCount()
    event.listen(db.engine.sync_engine, "before_cursor_execute", counter)
    return counter


class Recorder:
    """A gateway that records when each message was sent and by which replica."""

    def __init__(self, name: str, log: list[tuple[float, str]]) -> None:
        self.name = "bench"
        self.sender_id = "bench-sender"
        self.replica = name
        self.log = log

    async def send(self, message: Outgoing, *, idempotency_key: str) -> SendResult:
        self.log.append((time.perf_counter(), self.replica))
        return SendResult(provider_message_id=f"bench-{idempotency_key}")

    async def close(self) -> None:
        """Nothing to release."""


async def outbound_drain(kind: str) -> list[Result]:
    """1,000 queued messages drained by two dispatchers sharing one Redis limit."""
    from redis.asyncio import Redis

    extra = {"send_rate_per_minute": PER_MINUTE, "dispatch_batch": 50}
    async with _database(kind, new_recipients_per_hour=100_000, **extra) as settings:
        first, second = Database(settings), Database(settings)
        async with first.session() as session:
            now = utcnow()
            session.add_all(
                OutboundMessage(
                    id=uuid.uuid4(),
                    tenant="mojosari",
                    to_phone=f"+62814{i:08d}",
                    body="halo",
                    kind="bench",
                    status="queued",
                    attempts=0,
                    next_attempt_at=now,
                    created_at=now,
                    rule="free_form",
                )
                for i in range(N_D)
            )
        log: list[tuple[float, str]] = []
        redises = [Redis.from_url(REDIS_URL), Redis.from_url(REDIS_URL)]
        dispatchers = [
            Dispatcher(db, redis, settings, Recorder(name, log))
            for db, redis, name in zip((first, second), redises, ("a", "b"), strict=True)
        ]
        start = time.perf_counter()
        with _permit_times() as permits:
            tasks = [asyncio.create_task(d.run()) for d in dispatchers]
            await _until(lambda: len(log) >= N_D, 120)
            elapsed = max(t for t, _ in log) - start
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
        for redis in redises:
            await redis.aclose()
        await first.dispose()
        await second.dispose()
    worst = _busiest_second([t for t, _ in log])
    by_permit = f"{_busiest_second(permits)}" if permits else "n/a"
    split = statistics.mode([r for _, r in log])
    a = sum(1 for _, r in log if r == "a")
    limit_s = PER_MINUTE / 60
    return [
        Result(
            f"configured limit {PER_MINUTE}/min (baseline)",
            int(limit_s * 10),
            10.0,
            f"configured limit {PER_MINUTE}/min (baseline)",
        ),
        Result(
            f"{kind}: two replicas draining 1,000 queued messages",
            len(log),
            elapsed,
            f"configured limit {PER_MINUTE}/min (baseline)",
            f"most in any 1 s window {worst} at the gateway, {by_permit} by permit time "
            f"(Redis clock) (limit {limit_s:.0f}); replica a sent {a}, "
            f"b {len(log) - a} (mode {split})",
        ),
    ]


def _busiest_second(times: list[float]) -> int:
    """The most events in any 1-second window [t, t + 1)."""
    ordered = sorted(times)
    return max(bisect.bisect_left(ordered, t + 1.0) - i for i, t in enumerate(ordered))


@contextmanager
def _permit_times() -> Iterator[list[float]]:
    """Records the Redis time of every send-rate permit granted (Grant.at) while open."""
    from services.consultation.ratelimit import SharedLimit

    granted: list[float] = []
    take = SharedLimit.take

    async def recording(self: SharedLimit, want: int = 1) -> Any:
        grant = await take(self, want)
        at = getattr(grant, "at", None)  # None: a limiter that does not report its clock
        if at is not None and self.key.startswith("menjamu:wa:rate:"):
            granted.extend([at] * grant.granted)
        return grant

    SharedLimit.take = recording  # type: ignore[method-assign]
    try:
        yield granted
    finally:
        SharedLimit.take = take  # type: ignore[method-assign]


async def run() -> list[Result]:
    """Runs both measurements."""
    configure_logging(
        "bench", fmt="json", level=os.environ.get("MENJAMU_BENCH_LOG_LEVEL", "WARNING")
    )
    await flush_redis()
    try:
        results: list[Result] = []
        for kind in _kinds():
            results += await webhook_latency(kind)
        for kind in _kinds():
            results += await outbound_drain(kind)
        return results
    finally:
        await flush_redis()
