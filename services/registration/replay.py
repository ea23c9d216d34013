"""Idempotency-Key: the same key and body get the first answer again; another body a 422."""

from __future__ import annotations

import hashlib
import json
import time
import uuid
from datetime import timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from services.registration import repository
from services.registration.models import IdempotencyRecord
from shared.contracts import utcnow
from shared.dates import as_utc
from shared.problems import Problem

MAX_KEY_LENGTH = 120
# An answer holds the participant's confirmation link: keep it only as long as a retry is likely.
KEEP = timedelta(hours=24)
# Old answers are pruned by sign-ups, at most this often per process (not on every request).
PRUNE_EVERY_S = 60.0
_last_prune = float("-inf")


class IdempotencyKeyMalformed(Problem):
    """An empty, overlong or non-ASCII Idempotency-Key (fact: max_length)."""


class IdempotencyBodyDiffers(Problem):
    """An Idempotency-Key used again with another request body."""


class IdempotencyKeyBusy(Problem):
    """An Idempotency-Key whose first request is still being answered."""


def request_hash(body: Any) -> str:
    """Hashes a validated request body (key order and spacing do not matter)."""
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def check_key(key: str) -> str:
    """Refuses an empty or overlong key."""
    key = key.strip()
    if not key or len(key) > MAX_KEY_LENGTH or not key.isascii():
        raise IdempotencyKeyMalformed(max_length=MAX_KEY_LENGTH)
    return key


async def replay(
    session: AsyncSession, scope: str, key: str, digest: str
) -> tuple[int, dict[str, Any]] | None:
    """Returns the stored (status, body) of a key, None if new; 422 if the body differs."""
    record = await repository.get_idempotency(session, scope, key)
    if record is None:
        return None
    if as_utc(record.created_at) < utcnow() - KEEP:
        await session.delete(record)  # an old key used again: its slot is free for the new answer
        await session.flush()
        return None
    if record.request_hash != digest:
        raise IdempotencyBodyDiffers()
    body: dict[str, Any] = json.loads(record.response_body)
    return record.status_code, body


async def remember(
    session: AsyncSession, scope: str, key: str, digest: str, status: int, body: dict[str, Any]
) -> bool:
    """Stores the answer of a key in the request's transaction (with the registration), in one
    statement; an answer older than KEEP is replaced. False when the key already holds an
    answer: the caller rolls its work back and answers with `replay` instead.
    """
    record = IdempotencyRecord(
        scope=scope,
        key=key,
        request_hash=digest,
        status_code=status,
        response_body=json.dumps(body, default=str),
        created_at=utcnow(),
    )
    return await repository.store_idempotency(session, record, record.created_at - KEEP)


async def keep_answer(
    session: AsyncSession, scope: str, key: str, digest: str, status: int, body: dict[str, Any]
) -> tuple[int, dict[str, Any]] | None:
    """Stores a key's answer with the request's work (see remember); None when stored.

    When the key already holds an answer (a retry, or a double tap that won the race), the work
    is rolled back and the first answer returned instead; IdempotencyKeyBusy while that first
    answer is not committed yet.
    """
    if await remember(session, scope, key, digest, status, body):
        return None
    if (stored := await stored_answer(session, scope, key, digest)) is None:
        raise IdempotencyKeyBusy()
    return stored


async def prune_if_due(session: AsyncSession, activity_id: uuid.UUID) -> None:
    """At most every PRUNE_EVERY_S per process, forgets answers older than KEEP (a hundred at
    most), in a short transaction of its own in the activity's line of readers.
    """
    global _last_prune
    if time.monotonic() - _last_prune < PRUNE_EVERY_S:
        return
    _last_prune = time.monotonic()
    async with repository.read_in_line(session, activity_id):
        await repository.prune_idempotency(session, utcnow() - KEEP)


async def stored_answer(
    session: AsyncSession, scope: str, key: str, digest: str
) -> tuple[int, dict[str, Any]] | None:
    """After rolling back a request's work: the key's stored answer (see replay), or None."""
    await session.rollback()
    return await replay(session, scope, key, digest)
