"""Where Redis is: a plain URL or a Sentinel-managed master; clients and brokers for either.

`REDIS_URL=redis+sentinel://[user:password@]host:port,host:port/<master>/<db>` (or
`REDIS_SENTINELS=host:port,host:port` with `REDIS_SENTINEL_MASTER`) makes every client ask the
sentinels for the current master on each (re)connect, so a failover costs a reconnect, not a
restart. redis-py's SentinelConnectionPool does the asking; shared/redis_broker.py gives
faststream's RedisSentinelBroker the same target. No faststream import here: settings use this.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from redis.asyncio import Redis
from redis.asyncio.sentinel import Sentinel

SENTINEL_SCHEMES = ("redis+sentinel", "sentinel")
DEFAULT_SENTINEL_PORT = 26379


@dataclass(frozen=True)
class RedisTarget:
    """A plain Redis URL, or the sentinels, master name and database of a replicated Redis."""

    url: str
    sentinels: tuple[tuple[str, int], ...] = ()
    master: str = ""
    db: int = 0
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    sentinel_password: str | None = field(default=None, repr=False)

    @property
    def is_sentinel(self) -> bool:
        """True when the master is found through sentinels."""
        return bool(self.sentinels)

    def describe(self) -> str:
        """Where Redis is, without credentials (for logs and errors)."""
        if not self.is_sentinel:
            parts = urlsplit(self.url)
            return parts._replace(netloc=parts.netloc.rpartition("@")[2]).geturl()
        nodes = ",".join(f"{host}:{port}" for host, port in self.sentinels)
        return f"sentinel {nodes} master {self.master} db {self.db}"


def parse_sentinels(text: str) -> tuple[tuple[str, int], ...]:
    """Parses `host:port,host:port` (port defaults to 26379)."""
    nodes = []
    for item in (part.strip() for part in text.split(",")):
        if not item:
            continue
        host, _, port = item.rpartition(":") if ":" in item else (item, "", "")
        if not host:
            raise ValueError(f"sentinel address without host: {item!r}")
        nodes.append((host.strip("[]"), int(port) if port else DEFAULT_SENTINEL_PORT))
    if not nodes:
        raise ValueError("no sentinel address given")
    return tuple(nodes)


def parse_redis_url(url: str, sentinels: str = "", master: str = "") -> RedisTarget:
    """Reads REDIS_URL (plain or redis+sentinel://) and the optional REDIS_SENTINELS/MASTER."""
    parts = urlsplit(url)
    if parts.scheme not in SENTINEL_SCHEMES:
        if not sentinels:
            return RedisTarget(url=url)
        if not master:
            raise ValueError("REDIS_SENTINELS needs REDIS_SENTINEL_MASTER (the master's name)")
        db = int(parts.path.strip("/") or 0)
        return RedisTarget(
            url=url,
            sentinels=parse_sentinels(sentinels),
            master=master,
            db=db,
            username=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
        )
    netloc = parts.netloc.rpartition("@")
    hosts = netloc[2]
    path = [p for p in parts.path.split("/") if p]
    if not path:
        raise ValueError("redis+sentinel:// URL needs the master's name: .../<master>/<db>")
    query = parse_qs(parts.query)
    return RedisTarget(
        url=url,
        sentinels=parse_sentinels(hosts),
        master=master or unquote(path[0]),
        db=int(path[1]) if len(path) > 1 else 0,
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password else None,
        sentinel_password=query.get("sentinel_password", [None])[0],
    )


def sentinel_kwargs(target: RedisTarget, options: dict[str, Any]) -> dict[str, Any]:
    """Options for the sentinels themselves: the timeouts, and their own password if any."""
    kwargs = {k: v for k, v in options.items() if k.startswith("socket_")}
    if target.sentinel_password:
        kwargs["password"] = target.sentinel_password
    return kwargs


def redis_client(target: RedisTarget, **options: Any) -> Redis:
    """An asyncio client of the (current) master; options go to every connection."""
    if not target.is_sentinel:
        return Redis.from_url(target.url, **options)
    sentinel = Sentinel(
        list(target.sentinels),
        sentinel_kwargs=sentinel_kwargs(target, options),
        username=target.username,
        password=target.password,
        db=target.db,
        **options,
    )
    client: Redis = sentinel.master_for(target.master)
    return client
