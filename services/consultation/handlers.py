"""Stream reactions of the consultation service (thin: the rules live in the service modules)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Self

from sqlalchemy.ext.asyncio import AsyncSession

from services.consultation import (
    activity_notice,
    certificate_link,
    conversations,
    invitations,
    message_requests,
)
from services.consultation.clock import Clock
from services.consultation.config import TenantConfig, configs
from services.consultation.dispatcher import Dispatcher
from services.consultation.settings import Settings
from shared.consumer import Reaction
from shared.contracts import (
    ActivityChangedV1,
    CertificateIssuedV1,
    Event,
    MessageReceivedV1,
    ParticipantRegisteredV1,
    WhatsAppMessageRequestedV1,
)
from shared.logging import get_logger
from shared.parts import ServiceParts
from shared.tenants import load_tenants

log = get_logger(__name__)


@dataclass
class Parts(ServiceParts[Settings]):
    """What the consultation service's routes, reactions and sweeper share: the tenant
    configs and the clock (built with the app), the outbound dispatcher (set at start-up)."""

    configs: dict[str, TenantConfig]
    clock: Clock
    dispatcher: Dispatcher | None = None

    @property
    def sla(self) -> timedelta:
        """How long a mentor has to reply before the conversation moves."""
        return timedelta(minutes=self.settings.sla_minutes)

    @classmethod
    def build(cls, settings: Settings) -> Self:
        """Reads the tenant files once; a fresh clock."""
        tenants = load_tenants(settings.tenants_dir)
        return cls(settings, tenants, configs(tenants), Clock())


class Reactions:
    """The service's reactions, bound to its parts."""

    def __init__(self, parts: Parts) -> None:
        self.parts = parts

    def _config(self, tenant: str) -> TenantConfig | None:
        """The kecamatan's consultation settings; an unknown one is an operator-facing error."""
        config = self.parts.configs.get(tenant)
        if config is None:
            log.error("consultation.unknown_tenant", tenant=tenant)
        return config

    async def invite_on_participant_registered(
        self, session: AsyncSession, event: ParticipantRegisteredV1
    ) -> None:
        """Queues a consenting participant's WhatsApp group invitation."""
        await invitations.invite_participant(
            session,
            event,
            config=self.parts.configs.get(event.tenant),
            public_url=self.parts.settings.effective_public_url,
        )

    async def send_link_on_certificate_issued(
        self, session: AsyncSession, event: CertificateIssuedV1
    ) -> None:
        """Sends the participant the certificate link, once per certificate."""
        config = self._config(event.tenant)
        if config is None:
            return
        await certificate_link.send_certificate(session, config, event, now=self.parts.clock.now())

    async def answer_on_message_received(
        self, session: AsyncSession, event: MessageReceivedV1
    ) -> list[Event] | None:
        """Moderation, topic, automatic answer, routing for one inbound message."""
        config = self._config(event.tenant)
        if config is None:
            return None
        return await conversations.handle_inbound(
            session, config, event, now=self.parts.clock.now(), sla=self.parts.sla
        )

    async def answer_many(
        self, session: AsyncSession, events: list[MessageReceivedV1]
    ) -> list[Event]:
        """A burst of inbound messages in one transaction (one commit, writes batched)."""
        known = [e for e in events if e.tenant in self.parts.configs]
        await conversations.prefetch(session, known, self.parts.clock.now())
        produced: list[Event] = []
        for event in events:
            produced += await self.answer_on_message_received(session, event) or []
        return produced

    async def send_on_message_requested(
        self, session: AsyncSession, event: WhatsAppMessageRequestedV1
    ) -> list[Event]:
        """Queues a message another service asked for (e.g. a survey ticket's reply), once."""
        config = self._config(event.tenant)
        return list(
            await message_requests.queue_request(session, config, event, now=self.parts.clock.now())
        )

    async def notify_on_activity_changed(
        self, session: AsyncSession, event: ActivityChangedV1
    ) -> None:
        """Tells consenting registrants an event's new date, time or place, once each."""
        config = self._config(event.tenant)
        if config is None:
            return
        await activity_notice.notify_registrants(session, config, event, now=self.parts.clock.now())

    def all(self) -> list[Reaction[Any]]:
        """One consumer group per reaction (a WhatsApp outage blocks none of the others).

        Single-event reactions handle several messages of a read at once; the ordering keys
        keep in stream order what must be: one registration's (the default), one recipient's
        requested messages, one activity's change notices.
        """
        return [
            Reaction(
                group="consultation.invite",
                event=ParticipantRegisteredV1,
                handle=self.invite_on_participant_registered,
            ),
            Reaction(
                group="consultation.certificate",
                event=CertificateIssuedV1,
                handle=self.send_link_on_certificate_issued,
            ),
            Reaction(
                group="consultation.inbound",
                event=MessageReceivedV1,
                handle=self.answer_on_message_received,
                batch=True,  # a burst goes in few transactions; a failure retries one by one
                handle_many=self.answer_many,
                read_batch=self.parts.settings.inbound_batch,
            ),
            Reaction(
                group="consultation.requested",
                event=WhatsAppMessageRequestedV1,
                handle=self.send_on_message_requested,
                order_key=message_requests.recipient,
            ),
            Reaction(
                group="consultation.activity_changed",
                event=ActivityChangedV1,
                handle=self.notify_on_activity_changed,
                order_key=lambda event: event.activity_id,  # notices of one event in order
            ),
        ]


def reactions(parts: Parts) -> list[Reaction[Any]]:
    """The service's reactions, bound to its parts."""
    return Reactions(parts).all()
