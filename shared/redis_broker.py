"""The faststream broker for a RedisTarget: plain, or faststream's Sentinel broker."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from faststream.redis import RedisBroker, RedisSentinelBroker

from shared.redis_conn import RedisTarget, sentinel_kwargs


def redis_broker(target: RedisTarget, **options: Any) -> RedisBroker:
    """A faststream broker on the (current) master: plain, or faststream's Sentinel broker."""
    if not target.is_sentinel:
        return RedisBroker(target.url, **options)
    # faststream reads the master's credentials and database from the URL; the host is unused.
    credentials = ""
    if target.password:
        credentials = f"{quote(target.username or '', safe='')}:{quote(target.password, safe='')}@"
    return RedisSentinelBroker(
        f"redis://{credentials}localhost/{target.db}",
        sentinels=list(target.sentinels),
        sentinel_master_name=target.master,
        sentinel_kwargs=sentinel_kwargs(target, options) or None,
        **options,
    )
