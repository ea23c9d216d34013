"""The health strip: each service's /ready, and its consumer groups' lag and dead letters."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from typing import Any

import httpx
from redis.asyncio import Redis
from redis.exceptions import ResponseError

from shared.contracts import ALL_EVENTS
from shared.problems import Problem
from shared.streams import as_str, dlq_stream, list_dead_letters


async def service_health(
    redis: Redis, urls: dict[str, str], own: tuple[str, bool] | None = None
) -> list[dict[str, Any]]:
    """Ready or not, total lag and pending of its groups, dead letters per service (`own`:
    this service's name and readiness, which it knows without asking itself)."""
    groups = await _group_stats(redis)
    dead = await _dead_letters_by_service(redis)
    async with httpx.AsyncClient(timeout=2.0) as client:
        # Asked together: one service that hangs costs the strip 2 s, not 2 s per service.
        ready = list(await asyncio.gather(*(_ready(client, url) for url in urls.values())))
    names = list(urls)
    if own is not None:
        names.append(own[0])
        ready.append(own[1])
    return [
        {
            "service": name,
            "ready": is_ready,
            "lag": groups[name]["lag"],
            "pending": groups[name]["pending"],
            "dead_letters": sum(dead.get(name, {}).values()),
            "dead_letter_streams": sorted(dead.get(name, {})),
        }
        for name, is_ready in zip(names, ready, strict=True)
    ]


async def _ready(client: httpx.AsyncClient, url: str) -> bool:
    try:
        return (await client.get(f"{url.rstrip('/')}/ready")).status_code == 200
    except httpx.HTTPError:
        return False


async def _group_stats(redis: Redis) -> dict[str, dict[str, int]]:
    stats: dict[str, dict[str, int]] = defaultdict(lambda: {"lag": 0, "pending": 0})
    for event in ALL_EVENTS:
        try:
            infos = await redis.xinfo_groups(event.STREAM)
        except ResponseError:
            continue
        for info in infos:
            service = as_str(info["name"]).split(".", 1)[0]
            stats[service]["lag"] += int(info.get("lag") or 0)
            stats[service]["pending"] += int(info.get("pending") or 0)
    return stats


async def _dead_letters_by_service(redis: Redis) -> dict[str, dict[str, int]]:
    """{service: {stream: dead letters}} by the group that gave each message up."""
    counts: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for event in ALL_EVENTS:
        if not await redis.xlen(dlq_stream(event.STREAM)):
            continue
        for entry in await list_dead_letters(redis, event.STREAM, count=1000):
            service = str(entry.get("dlq_group", "?")).split(".", 1)[0]
            counts[service][event.STREAM] += 1
    return counts


class UnknownStream(Problem):
    """A stream name that no event contract uses (fact: stream, cut to 80 characters)."""


def known_stream(stream: str) -> bool:
    """Whether a stream is one of the system's event streams (for list and replay)."""
    return stream in {event.STREAM for event in ALL_EVENTS}
