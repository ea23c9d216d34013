"""Development adapter: records each message in dev_messages instead of sending it."""

from __future__ import annotations

from services.consultation import repository
from services.consultation.gateway import Outgoing, SendResult
from shared.contracts import utcnow
from shared.db import Database


class DevGateway:
    """A WhatsApp gateway for development: a developer reads /dev/whatsapp instead of a phone.

    It records the full text whatever the rule (the rule is on the outbound message).
    It honours the idempotency key the way a provider would: a retry of the same queued
    message returns the first recorded message instead of recording a second one.
    """

    name = "dev"
    sender_id = "dev"

    def __init__(self, db: Database) -> None:
        self.db = db

    async def send(self, message: Outgoing, *, idempotency_key: str) -> SendResult:
        """Records the message as sent and returns its dev provider id."""
        provider_message_id = f"dev-{idempotency_key}"
        async with self.db.session() as session:
            if await repository.find_dev_message(session, provider_message_id) is None:
                await repository.add_dev_message(
                    session,
                    to=message.to,
                    body=message.body,
                    provider_message_id=provider_message_id,
                    sent_at=utcnow(),
                )
        return SendResult(provider_message_id=provider_message_id)

    async def close(self) -> None:
        """Nothing to release."""
