"""The outbound queue's sender: claims due messages, sends them, records the outcome.

Each message is claimed in a short transaction (an attempt counted, hidden for a lease), sent
with no database transaction open (a slow gateway pins no connection and no SQLite write
lock), then marked sent together with its invitation and the InvitationSentV1 outbox row in
one transaction. A crash mid-send leaves the message to be tried again when its lease ends;
the stable idempotency key (the message id) lets the gateway drop that repeat.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import timedelta

from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncSession

from services.consultation import inbox_repository, repository, service
from services.consultation.gateway import GatewayError, Outgoing, SendRule, WhatsAppGateway
from services.consultation.models import OutboundMessage
from services.consultation.ratelimit import new_recipient_limit, sender_limit
from services.consultation.settings import Settings
from services.consultation.statuses import SendStatus
from shared.aio import stop_if_cancelled, wait_for_event, within
from shared.contracts import utcnow
from shared.db import Database
from shared.logging import get_logger
from shared.outbox import add_event

log = get_logger(__name__)


class Dispatcher:
    """Sends queued WhatsApp messages through its gateway.

    The gateway is read on every batch, so a test (or a future hot reconfiguration) can swap
    `dispatcher.gateway`.
    """

    def __init__(
        self, db: Database, redis: Redis, settings: Settings, gateway: WhatsAppGateway
    ) -> None:
        self.db = db
        self.redis = redis
        self.settings = settings
        self.gateway = gateway
        self.interval = settings.dispatch_interval_ms / 1000
        self._wake = asyncio.Event()
        db.after_commit.append(self.wake)

    def wake(self) -> None:
        """Nudges the sender right after a commit (e.g. a new invitation was queued)."""
        self._wake.set()

    async def run(self) -> None:
        """Sends forever: at once after commits, else every interval; survives any error."""
        try:
            await self._loop()
        finally:
            await self.gateway.close()

    async def _loop(self) -> None:
        backoff = self.interval
        while True:
            stop_if_cancelled()
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
        """Claims what the shared limit allows now; takes each permit right before its send.

        Taking the permit next to the send (not for the whole batch up front) keeps the rate
        the gateway sees within the limit even when a claim is slow.
        """
        gateway = self.gateway
        s = self.settings
        limit = sender_limit(self.redis, gateway.sender_id, s.send_rate_per_minute)
        now_free = await limit.take(0)  # takes none: the room left, or how long until a permit
        room = min(s.dispatch_batch, now_free.left)
        if room < 1:
            await asyncio.sleep(min(now_free.wait_s or self.interval, self.interval))
            self._wake.set()  # a permit frees now: look again at once, not an interval later
            return 0
        async with self.db.session() as session:
            claimed = await service.claim_due(session, limit=room, lease_s=s.send_lease_s)
            batch = [(to_outgoing(m), m.id, await self._known(session, m)) for m in claimed]
        new_cap = new_recipient_limit(self.redis, gateway.sender_id, s.new_recipients_per_hour)
        sent = 0
        for index, (message, message_id, known) in enumerate(batch):
            # The new-recipient cap first: the rate permit is the last thing before the send, so
            # no Redis round trip lets a send drift into the next window after its permit.
            first = None if known else await new_cap.take(1)
            if first is not None and not first.granted:
                log.warning("consultation.new_recipient_cap", message_id=str(message_id))
                await self._give_back(message_id, first.wait_s)
                continue
            permit = await limit.take(1)
            if not permit.granted:  # another replica took the room: the rest waits its turn
                if first is not None:
                    await new_cap.give_back(first, 0)
                for _m, later_id, _k in batch[index:]:
                    await self._give_back(later_id, permit.wait_s)
                break
            await self._send(gateway, message_id, message)
            sent += 1
        return sent

    async def _known(self, session: AsyncSession, message: OutboundMessage) -> bool:
        return await inbox_repository.known_recipient(session, message.to_phone)

    async def _give_back(self, message_id: uuid.UUID, wait_s: float) -> None:
        until = utcnow() + timedelta(seconds=max(wait_s, 0.01))
        async with self.db.session() as session:
            await repository.release(session, message_id, until)

    async def _send(
        self, gateway: WhatsAppGateway, message_id: uuid.UUID, message: Outgoing
    ) -> None:
        try:
            result = await within(
                gateway.send(message, idempotency_key=str(message_id)),
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
        if message.status == SendStatus.FAILED:
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


def to_outgoing(message: OutboundMessage) -> Outgoing:
    """The gateway's view of a queued message."""
    rule = SendRule(message.rule or SendRule.FREE_FORM)
    return Outgoing(
        to=message.to_phone,
        body=message.body,
        rule=rule,
        template=message.template,
        params=tuple(json.loads(message.params or "[]")),
        document_url=message.document_url,
        document_name="sertifikat.pdf" if message.document_url else None,
    )
