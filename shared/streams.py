"""Redis stream plumbing shared by consumers and operator tools: groups and dead letters."""

from __future__ import annotations

from typing import Any

from redis.asyncio import Redis
from redis.exceptions import ResponseError

from shared.contracts import utcnow

DLQ_SUFFIX = ".dlq"


def dlq_stream(stream: str) -> str:
    """Name of a stream's dead-letter stream."""
    return f"{stream}{DLQ_SUFFIX}"


async def ensure_group(redis: Redis, stream: str, group: str) -> bool:
    """Creates the consumer group at the stream's start (id 0); returns True when it was created.

    A group created at `$` (faststream's default) would never see events published before the
    consumer first ran; creating it ourselves at 0 makes faststream find it existing.
    """
    try:
        await redis.xgroup_create(name=stream, groupname=group, id="0", mkstream=True)
    except ResponseError as exc:
        if "BUSYGROUP" in str(exc):
            return False
        raise
    return True


async def group_exists(redis: Redis, stream: str, group: str) -> bool:
    """Tells whether a consumer group exists on a stream."""
    try:
        groups = await redis.xinfo_groups(stream)
    except ResponseError:
        return False
    return any(as_str(g["name"]) == group for g in groups)


async def dead_letter(
    redis: Redis,
    *,
    stream: str,
    group: str,
    message_id: str,
    data: dict[Any, Any],
    deliveries: int,
    reason: str,
    maxlen: int,
) -> str:
    """Copies a message to `<stream>.dlq` with why and where it failed, then acks it."""
    fields: dict[Any, Any] = {
        **data,
        "dlq_stream": stream,
        "dlq_group": group,
        "dlq_message_id": message_id,
        "dlq_deliveries": str(deliveries),
        "dlq_reason": reason[:2000],
        "dlq_at": utcnow().isoformat(),
    }
    pipe = redis.pipeline(transaction=True)
    pipe.xadd(dlq_stream(stream), fields, maxlen=maxlen, approximate=True)
    pipe.xack(stream, group, message_id)
    new_id, _ = await pipe.execute()
    return as_str(new_id)


async def list_dead_letters(redis: Redis, stream: str, count: int = 100) -> list[dict[str, Any]]:
    """Lists dead letters of a stream, newest last, without their binary payload."""
    entries: list[Any] = await redis.xrange(dlq_stream(stream), count=count) or []
    result = []
    for entry_id, fields in entries:
        info = {as_str(k): as_str(v) for k, v in fields.items() if as_str(k).startswith("dlq_")}
        result.append({"id": as_str(entry_id), **info})
    return result


async def replay_dead_letters(
    redis: Redis, stream: str, ids: list[str] | None = None, maxlen: int = 1_000_000
) -> int:
    """Re-publishes dead letters to their stream (every group sees them; copies are dropped
    by event_id) and deletes them from the dead-letter stream."""
    dlq = dlq_stream(stream)
    entries: list[Any] = await redis.xrange(dlq) or []
    replayed = 0
    for entry_id, fields in entries:
        if ids and as_str(entry_id) not in ids:
            continue
        original = {k: v for k, v in fields.items() if not as_str(k).startswith("dlq_")}
        pipe = redis.pipeline(transaction=True)
        pipe.xadd(stream, original, maxlen=maxlen, approximate=True)
        pipe.xdel(dlq, entry_id)
        await pipe.execute()
        replayed += 1
    return replayed


async def group_stats(redis: Redis, stream: str, group: str) -> dict[str, Any]:
    """Returns pending, lag and dead-letter counts of one consumer group."""
    stats: dict[str, Any] = {"stream": stream, "group": group, "exists": False}
    try:
        for info in await redis.xinfo_groups(stream):
            if as_str(info["name"]) == group:
                stats.update(exists=True, pending=info.get("pending"), lag=info.get("lag"))
    except ResponseError:
        pass
    stats["dead_letters"] = await redis.xlen(dlq_stream(stream))
    return stats


def as_str(value: Any) -> str:
    """Decodes a Redis reply field (bytes) to str."""
    return value.decode() if isinstance(value, bytes) else str(value)
