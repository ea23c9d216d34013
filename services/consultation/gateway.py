"""The one WhatsApp gateway interface every adapter (dev, Cloud API, WAHA) implements."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Protocol, runtime_checkable


class SendRule(StrEnum):
    """Which WhatsApp rule an outbound message was sent under (recorded on each message)."""

    FREE_FORM = "free_form"  # inside the 24-hour customer-service window
    TEMPLATE = "template"  # outside it: an approved template
    DOCUMENT = "document"  # inside it: a document message (certificate PDF)


@dataclass(frozen=True)
class Outgoing:
    """One message to send: `body` is always the full text (dev shows it; WAHA sends it).

    Under TEMPLATE the Cloud API sends `template` with `params` (body variables) instead; under
    DOCUMENT it sends `document_url` with `body` as the caption.
    """

    to: str
    body: str
    rule: SendRule = SendRule.FREE_FORM
    template: str | None = None
    language: str = "id"
    params: tuple[str, ...] = field(default_factory=tuple)
    document_url: str | None = None
    document_name: str | None = None


@dataclass(frozen=True)
class SendResult:
    """What a gateway returns for an accepted message: the provider's message id."""

    provider_message_id: str


class GatewayError(Exception):
    """A send failed; `retryable` tells the queue whether trying later may succeed.

    Adapters map their failures: timeouts, 429 and 5xx are retryable; a number that is not on
    WhatsApp, a rejected template or bad credentials are not.
    """

    def __init__(self, message: str, *, retryable: bool) -> None:
        super().__init__(message)
        self.retryable = retryable


@runtime_checkable
class WhatsAppGateway(Protocol):
    """Sends WhatsApp messages from one sender number.

    `name` goes into InvitationSentV1.gateway; `sender_id` keys the per-number rate limit.
    `idempotency_key` is stable across retries of one queued message, so an adapter whose
    provider deduplicates (or that records what it sent) never delivers a retry twice.
    """

    name: str
    sender_id: str

    async def send(self, message: Outgoing, *, idempotency_key: str) -> SendResult:
        """Sends one message to an E.164 number; raises GatewayError on failure."""
        ...

    async def close(self) -> None:
        """Releases connections (called once at shutdown)."""
        ...
