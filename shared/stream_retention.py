"""Retention by age: events (names, phones) leave the streams once every group has handled them."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterable

from redis.asyncio import Redis
from redis.exceptions import RedisError

from shared.logging import get_logger

log = get_logger(__name__)


def _older(a: str, b: str) -> str:
    """The smaller of two stream ids."""
    return min(a, b, key=lambda i: tuple(int(p) for p in i.split("-")))


async def safe_min_id(redis: Redis, stream: str, max_age_s: float) -> str:
    """The id below which entries are older than max_age_s AND done by every consumer group."""
    cutoff = f"{int((time.time() - max_age_s) * 1000)}-0"
    try:
        groups = await redis.xinfo_groups(stream)
    except RedisError:  # no such stream yet
        return "0-0"
    for group in groups:
        name = group["name"].decode() if isinstance(group["name"], bytes) else group["name"]
        last = group["last-delivered-id"]
        cutoff = _older(cutoff, last.decode() if isinstance(last, bytes) else str(last))
        pending = await redis.xpending(stream, name)
        if pending and pending.get("pending"):
            oldest = pending["min"]
            cutoff = _older(cutoff, oldest.decode() if isinstance(oldest, bytes) else str(oldest))
    return cutoff


async def trim_by_age(redis: Redis, streams: Iterable[str], max_age_s: float) -> int:
    """Trims each stream to entries younger than max_age_s, never one a group still needs."""
    removed = 0
    for stream in streams:
        min_id = await safe_min_id(redis, stream, max_age_s)
        if min_id != "0-0":
            removed += int(await redis.xtrim(stream, minid=min_id, approximate=False))
    return removed


async def run_retention(
    redis: Redis, streams: Iterable[str], max_age_s: float, every_s: float = 3600
) -> None:
    """Trims the streams by age every `every_s` seconds for the process's lifetime."""
    names = list(streams)
    while True:
        try:
            removed = await trim_by_age(redis, names, max_age_s)
            if removed:
                log.info("streams.trimmed_by_age", removed=removed, max_age_s=max_age_s)
        except (RedisError, OSError) as exc:
            log.warning("streams.retention_failed", error=type(exc).__name__)
        await asyncio.sleep(every_s)
