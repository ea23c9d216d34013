"""The outbound queue's sender: claims due messages, sends them, records the outcome.

Each message is claimed in a short transaction (an attempt counted, hidden for a lease), sent
with no database transaction open (a slow gateway pins no connection and no SQLite write
lock), then marked sent together with its invitation and the InvitationSentV1 outbox row in
one transaction. A crash mid-send leaves the message to be tried again when its lease ends;
the stable idempotency key (the message id) lets the gateway drop that repeat.
"""

from __future__ import annotations

import asyncio
import uuid

from services.consultation import service
from services.consultation.gateway import GatewayError, WhatsAppGateway
from services.consultation.ratelimit import SenderLimits
from services.consultation.settings import Settings
from shared.aio import wait_for_event, within
from shared.db import Database
from shared.logging import get_logger
from shared.outbox import add_event

log = get_logger(__name__)
GATEWAY_KEY = "gateway"


class Dispatcher:
    """Sends queued WhatsApp messages through the gateway found in `state[GATEWAY_KEY]`.

    The gateway is looked up on every batch, so a test (or a future hot reconfiguration)
    can swap it in the runtime state.
    """

    def __init__(self, db: Database, settings: Settings, state: dict[str, object]) -> None:
        self.db = db
        self.settings = settings
        self.state = state
        self.limits = SenderLimits(settings.send_rate_per_minute)
        self.interval = settings.dispatch_interval_ms / 1000
        self._wake = asyncio.Event()
        db.after_commit.append(self.wake)

    @property
    def gateway(self) -> WhatsAppGateway:
        """The gateway messages go through now."""
        gateway = self.state[GATEWAY_KEY]
        assert isinstance(gateway, WhatsAppGateway)
        return gateway

    def wake(self) -> None:
        """Nudges the sender right after a commit (e.g. a new invitation was queued)."""
        self._wake.set()

    async def run(self) -> None:
        """Sends forever: at once after commits, else every interval; survives any error."""
        backoff = self.interval
        while True:
            self._wake.clear()
            try:
                handled = await self.dispatch_once()
                backoff = self.interval
            except Exception:
                log.exception("consultation.dispatch_failed")
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 30.0)
                continue
            if handled:
                continue
            await wait_for_event(self._wake, self.interval)

    async def dispatch_once(self) -> int:
        """Claims and sends one batch within the sender's rate limit; returns how many."""
        gateway = self.gateway
        bucket = self.limits.bucket(gateway.sender_id)
        allowance = min(self.settings.dispatch_batch, bucket.available())
        if allowance < 1:
            await asyncio.sleep(min(bucket.wait_s(), self.interval))
            return 0
        async with self.db.session() as session:
            claimed = await service.claim_due(
                session, limit=allowance, lease_s=self.settings.send_lease_s
            )
            batch = [(m.id, m.to_phone, m.body) for m in claimed]
        for message_id, to, body in batch:
            bucket.take()
            await self._send(gateway, message_id, to, body)
        return len(batch)

    async def _send(
        self, gateway: WhatsAppGateway, message_id: uuid.UUID, to: str, body: str
    ) -> None:
        try:
            result = await within(
                gateway.send_text(to, body, idempotency_key=str(message_id)),
                self.settings.send_timeout_s,
            )
        except GatewayError as exc:
            await self._failed(message_id, f"{gateway.name}: {exc}", retryable=exc.retryable)
            return
        except TimeoutError:
            await self._failed(message_id, f"{gateway.name}: timed out", retryable=True)
            return
        except Exception as exc:
            log.exception("consultation.gateway_crashed", message_id=str(message_id))
            await self._failed(message_id, f"{gateway.name}: {type(exc).__name__}", retryable=True)
            return
        async with self.db.session() as session:
            event = await service.mark_sent(
                session,
                message_id,
                provider_message_id=result.provider_message_id,
                gateway=gateway.name,
            )
            if event is not None:
                await add_event(session, event)
        log.info(
            "consultation.message_sent",
            message_id=str(message_id),
            gateway=gateway.name,
            invitation_id=str(event.invitation_id) if event else None,
            correlation_id=event.correlation_id if event else None,
        )

    async def _failed(self, message_id: uuid.UUID, error: str, *, retryable: bool) -> None:
        s = self.settings
        async with self.db.session() as session:
            message = await service.mark_failed_attempt(
                session,
                message_id,
                error=error,
                retryable=retryable,
                max_attempts=s.send_max_attempts,
                backoff_base_s=s.send_backoff_base_s,
                backoff_max_s=s.send_backoff_max_s,
            )
        if message is None:
            return
        if message.status == "failed":
            log.error(
                "consultation.message_failed",
                message_id=str(message_id),
                invitation_id=str(message.invitation_id),
                attempts=message.attempts,
                retryable=retryable,
            )
        else:
            log.warning(
                "consultation.message_retry_scheduled",
                message_id=str(message_id),
                attempts=message.attempts,
                next_attempt_at=str(message.next_attempt_at),
            )
