"""The one WhatsApp gateway interface every adapter (dev, Cloud API, WAHA) implements."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, runtime_checkable


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

    async def send_text(self, to: str, body: str, *, idempotency_key: str) -> SendResult:
        """Sends a text message to an E.164 number; raises GatewayError on failure."""
        ...
