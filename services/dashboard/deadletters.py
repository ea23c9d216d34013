"""Dead letters as an operator sees them: only their kecamatan's, without the payload."""

from __future__ import annotations

import json
from typing import Any

from faststream.redis.parser import BinaryMessageFormatV1
from redis.asyncio import Redis

from shared.streams import as_str, dlq_stream, replay_dead_letters


def _event_of(fields: dict[Any, Any]) -> dict[str, Any]:
    raw = fields.get(b"__data__") or fields.get("__data__")
    try:
        body, _headers = BinaryMessageFormatV1.parse(raw if isinstance(raw, bytes) else b"")
        data = json.loads(body)
    except (ValueError, TypeError, KeyError):
        return {}
    return data if isinstance(data, dict) else {}


async def list_for(
    redis: Redis, stream: str, tenants: list[str], *, every_tenant: bool = False
) -> list[dict[str, Any]]:
    """Dead letters of a stream whose event belongs to one of the tenants; unreadable ones
    (no tenant to tell) only for a caller of every tenant (an admin)."""
    entries: list[Any] = await redis.xrange(dlq_stream(stream), count=1000) or []
    rows = []
    for entry_id, fields in entries:
        event = _event_of(fields)
        tenant = event.get("tenant")
        if tenant not in tenants and not (tenant is None and every_tenant):
            continue
        info = {as_str(k): as_str(v) for k, v in fields.items() if as_str(k).startswith("dlq_")}
        rows.append(
            {
                "id": as_str(entry_id),
                "tenant": tenant,
                "event_id": event.get("event_id"),
                "event_type": event.get("type"),
                "group": info.get("dlq_group"),
                "reason": info.get("dlq_reason", "")[:300],
                "deliveries": info.get("dlq_deliveries"),
                "at": info.get("dlq_at"),
            }
        )
    return rows


async def replay_for(
    redis: Redis, stream: str, ids: list[str], tenants: list[str], *, every_tenant: bool = False
) -> int:
    """Replays the given dead letters that belong to the caller's tenants."""
    rows = await list_for(redis, stream, tenants, every_tenant=every_tenant)
    allowed = {row["id"] for row in rows}
    chosen = [i for i in ids if i in allowed]
    if not chosen:
        return 0
    return await replay_dead_letters(redis, stream, chosen)


async def for_journey(
    redis: Redis, streams: list[str], registration_id: str, correlation_id: str
) -> list[dict[str, Any]]:
    """Dead letters that belong to one registration (why a step never happened)."""
    found = []
    for stream in streams:
        entries: list[Any] = await redis.xrange(dlq_stream(stream), count=1000) or []
        for entry_id, fields in entries:
            event = _event_of(fields)
            if str(event.get("registration_id")) != registration_id and (
                event.get("correlation_id") != correlation_id
            ):
                continue
            info = {as_str(k): as_str(v) for k, v in fields.items() if as_str(k).startswith("dlq_")}
            found.append(
                {
                    "stream": stream,
                    "id": as_str(entry_id),
                    "event_type": event.get("type"),
                    "group": info.get("dlq_group"),
                    "reason": info.get("dlq_reason", "")[:300],
                    "at": info.get("dlq_at"),
                }
            )
    return found
