"""Rate limits for public endpoints, counted in Redis so every replica shares them."""

from __future__ import annotations

import asyncio
import hashlib
import ipaddress
import math
import time
import unicodedata
import weakref
from collections.abc import Sequence
from typing import Any, NamedTuple

from redis.asyncio import Redis

from shared.logging import get_logger
from shared.problems import Problem

log = get_logger(__name__)

# One fixed window per key: the first hit sets its expiry. Keys are counted in order up to the
# first one over its limit (ARGV: limit and window ms per key); returns {its 1-based index, ms
# left}, or {0, 0} when every key is within its limit. One round trip for all of a request's.
_HITS = """
for i, key in ipairs(KEYS) do
  local hits = redis.call('INCR', key)
  if hits == 1 then redis.call('PEXPIRE', key, ARGV[2 * i]) end
  if hits > tonumber(ARGV[2 * i - 1]) then return {i, redis.call('PTTL', key)} end
end
return {0, 0}
"""
_REDIS_TIMEOUT_S = 0.5
_OUTAGE_SKIP_S = 5.0


class RateLimited(Problem):
    """Too many requests; retry after `retry_after` seconds (`wait`: the same, in words)."""

    def __init__(self, *, retry_after: int, wait: str) -> None:
        super().__init__(wait=wait)
        self.retry_after = retry_after


class NetworkRateLimited(RateLimited):
    """Too many requests from one address (an IPv4 address or an IPv6 /64)."""


class PhoneRateLimited(RateLimited):
    """Too many requests for one phone number, whatever the address."""


class RateLimiter:
    """Counts hits per (bucket, identity) in fixed windows; fails open while Redis is down.

    Identities (addresses, phones) are stored only as hashes.
    """

    def __init__(self, redis: Redis, *, prefix: str = "menjamu:ratelimit") -> None:
        self.redis = redis
        self.prefix = prefix
        self._script = redis.register_script(_HITS)
        self._skip_until = 0.0

    async def hit(self, bucket: str, identity: str, *, limit: int, window_s: int) -> int | None:
        """Counts one hit; returns the seconds to wait when over the limit, else None."""
        refused = await self.hit_all([Hit(bucket, identity, limit, window_s)])
        return refused[1] if refused else None

    async def hit_all(self, hits: Sequence[Hit]) -> tuple[Hit, int] | None:
        """Counts hits in order, in one round trip, up to the first over its limit.

        Returns that hit and the seconds to wait, or None when all are within their limits.
        Hits with no identity or a limit of 0 are not counted.
        """
        counted = [h for h in hits if h.limit > 0 and h.identity]
        if not counted or time.monotonic() < self._skip_until:
            return None
        keys = [f"{self.prefix}:{h.bucket}:{_digest(h.identity)}" for h in counted]
        args = [n for h in counted for n in (h.limit, h.window_s * 1000)]
        try:
            async with asyncio.timeout(_REDIS_TIMEOUT_S):
                index, ttl_ms = await self._script(keys=keys, args=args)
        except Exception as exc:  # a limiter outage must never refuse a registration
            self._skip_until = time.monotonic() + _OUTAGE_SKIP_S
            log.warning("ratelimit.redis_unavailable", error=type(exc).__name__)
            return None
        if int(index) == 0:
            return None
        hit = counted[int(index) - 1]
        log.info("ratelimit.refused", bucket=hit.bucket, limit=hit.limit, window_s=hit.window_s)
        return hit, max(1, math.ceil(max(int(ttl_ms), 0) / 1000))


class Hit(NamedTuple):
    """One counted request: its bucket, who (an address or phone), the limit per window."""

    bucket: str
    identity: str
    limit: int
    window_s: int


def _digest(identity: str) -> str:
    return hashlib.sha256(identity.encode()).hexdigest()[:20]


_limiters: weakref.WeakKeyDictionary[Redis, RateLimiter] = weakref.WeakKeyDictionary()


def limiter_for(redis: Redis) -> RateLimiter:
    """The process's limiter on a Redis client (one per client, created on first use)."""
    limiter = _limiters.get(redis)
    if limiter is None:
        limiter = _limiters[redis] = RateLimiter(redis)
    return limiter


def address_identity(host: str) -> str:
    """The client a limit counts: an IPv4 address, or an IPv6 /64 (one device owns many)."""
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return host
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.ip_network(f"{address}/64", strict=False))
    return str(address)


def phone_identity(value: Any) -> str:
    """The number behind a phone's common spellings (0812.., +62812.., 62 812-..)."""
    if not isinstance(value, str):
        return ""
    # Any script's digits count as the same digit, so 0812３... cannot dodge the limit.
    digits = "".join(str(d) for c in value if (d := unicodedata.decimal(c, None)) is not None)
    for prefix in ("62", "0"):
        if digits.startswith(prefix):
            digits = digits[len(prefix) :]
            break
    return digits if len(digits) >= 6 else ""


def wait_message(seconds: int) -> str:
    """'N detik' or 'N menit' for a Retry-After in a message."""
    return f"{seconds} detik" if seconds < 120 else f"{math.ceil(seconds / 60)} menit"
