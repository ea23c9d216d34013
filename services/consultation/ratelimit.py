"""Send limits shared by every replica, kept in Redis (a sliding log per sender).

A limit of N per minute is enforced as at most L sends in any sliding window of 60*L/N
seconds (L = N/60, at least 1), which keeps sending smooth and never lets any minute exceed
about N across all replicas. The clock is Redis's own (TIME), so replicas on hosts with
drifting clocks still agree.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from redis.asyncio import Redis

_SLIDING_LOG = """
local key = KEYS[1]
local limit = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local want = tonumber(ARGV[3])
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
redis.call('ZREMRANGEBYSCORE', key, '-inf', now - window)
local used = redis.call('ZCARD', key)
local granted = math.max(0, math.min(want, limit - used))
for i = 1, granted do
  redis.call('ZADD', key, now, ARGV[4] .. ':' .. i)
end
redis.call('PEXPIRE', key, math.ceil(window * 1000) + 1000)
local wait = 0
if granted < want or (want == 0 and used >= limit) then
  local oldest = redis.call('ZRANGE', key, 0, 0, 'WITHSCORES')
  if oldest[2] then wait = tonumber(oldest[2]) + window - now end
end
return {granted, tostring(wait), limit - used - granted, tostring(now)}
"""


@dataclass(frozen=True)
class Grant:
    """How many sends a caller may make now, and how long until the next one frees up."""

    granted: int
    wait_s: float
    token: str = ""
    left: int = 0
    at: float = 0.0  # Redis's clock when the permits were counted (the log's score)


class SharedLimit:
    """At most `limit` takes in any sliding `window_s` seconds, across processes (Redis)."""

    def __init__(self, redis: Redis, key: str, *, limit: int, window_s: float) -> None:
        self.redis = redis
        self.key = key
        self.limit = limit
        self.window_s = window_s
        self._script = redis.register_script(_SLIDING_LOG)

    async def take(self, want: int = 1) -> Grant:
        """Takes up to `want` permits; returns how many were granted."""
        token = uuid.uuid4().hex
        granted, wait, left, at = await self._script(
            keys=[self.key], args=[self.limit, self.window_s, want, token]
        )
        return Grant(
            granted=int(granted),
            wait_s=max(0.0, float(wait)),
            token=token,
            left=int(left),
            at=float(at),
        )

    async def available(self) -> int:
        """How many permits could be taken now (taking none)."""
        return (await self.take(0)).left

    async def give_back(self, grant: Grant, used: int) -> None:
        """Returns the permits of a grant that were not used (nothing to send after all)."""
        unused = [f"{grant.token}:{i}" for i in range(used + 1, grant.granted + 1)]
        if unused:
            await self.redis.zrem(self.key, *unused)


def per_minute_window(per_minute: int) -> tuple[int, float]:
    """Splits N per minute into (L sends, per window of seconds), smooth and never above N."""
    per_window = max(1, per_minute // 60)
    return per_window, 60.0 * per_window / per_minute


def sender_limit(redis: Redis, sender_id: str, per_minute: int) -> SharedLimit:
    """The shared rate limit of one sender number."""
    limit, window_s = per_minute_window(per_minute)
    return SharedLimit(redis, f"menjamu:wa:rate:{sender_id}", limit=limit, window_s=window_s)


def new_recipient_limit(redis: Redis, sender_id: str, per_hour: int) -> SharedLimit:
    """The shared hourly cap on sends to numbers never contacted before (flood guard)."""
    return SharedLimit(redis, f"menjamu:wa:new:{sender_id}", limit=per_hour, window_s=3600.0)
