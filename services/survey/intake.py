"""How a response arrived, and the keys that collapse its resubmissions (pure, no I/O)."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime

from services.survey.schemas import ResponseCreate
from services.survey.statuses import Channel


@dataclass(frozen=True, slots=True)
class Intake:
    """Where a response came from: channel, device, client key, paper time, guide code."""

    channel: Channel = Channel.QR
    device: str | None = None  # a device cookie, else client address + user agent
    idempotency_key: str | None = None
    form_token: str | None = None  # the form page's per-load token (hidden field)
    submitted_at: datetime | None = None
    guide_code: str | None = None
    duplicate_window_s: int = 600


@dataclass(frozen=True, slots=True)
class SubmissionKeys:
    """Keys to look up (this window and the previous one) and keys to claim for a new response."""

    lookup: tuple[str, ...]
    insert: tuple[str, ...]
    body_hash: str


def _digest(*parts: str) -> str:
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:40]


def body_hash(unit: str, data: ResponseCreate, submitted_at: datetime | None) -> str:
    """A digest of what was answered (canonical JSON), so equal answers give equal hashes."""
    body = data.model_dump(mode="json", exclude={"form_token"})
    body["submitted_at"] = submitted_at.isoformat() if submitted_at else None
    return _digest(unit, json.dumps(body, sort_keys=True, ensure_ascii=False))


def submission_keys(
    unit: str, data: ResponseCreate, intake: Intake, now: datetime
) -> SubmissionKeys:
    """The keys of a submission: its form token or Idempotency-Key, else body+device per window.

    A form token (one per load of the form page) or an Idempotency-Key says which submission
    this is: the same one again collapses, another one counts even with the same answers from
    the same device (a shared office tablet). Only without either do equal answers from one
    device within the window collapse. Two windows are looked up (this one and the previous),
    so a resubmission just after a window boundary still collapses; only the current window's
    key is claimed.
    """
    digest = body_hash(unit, data, intake.submitted_at)
    explicit = []
    if intake.form_token:
        explicit.append("t:" + _digest(intake.form_token))
    if intake.idempotency_key:
        explicit.append("k:" + _digest(intake.idempotency_key))
    if explicit:
        return SubmissionKeys(tuple(explicit), tuple(explicit), digest)
    if intake.device and intake.duplicate_window_s > 0:
        window = int(now.timestamp()) // intake.duplicate_window_s
        fingerprint = _digest(digest, intake.device)
        lookup = (f"f:{fingerprint}:{window}", f"f:{fingerprint}:{window - 1}")
        return SubmissionKeys(lookup, lookup[:1], digest)
    return SubmissionKeys((), (), digest)
