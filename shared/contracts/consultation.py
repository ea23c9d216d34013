"""Events published by the consultation service."""

from __future__ import annotations

from datetime import datetime
from typing import Literal
from uuid import UUID

from pydantic import Field

from shared.contracts.envelope import Event


class InvitationSentV1(Event):
    """A participant's invitation to the mentors' WhatsApp group left through the gateway."""

    type: Literal["consultation.invitation_sent"] = "consultation.invitation_sent"
    version: Literal[1] = 1

    invitation_id: UUID
    registration_id: UUID
    group_id: UUID
    gateway: str


class InvitationClickedV1(Event):
    """A participant opened their invitation link for the first time (previews not counted)."""

    type: Literal["consultation.invitation_clicked"] = "consultation.invitation_clicked"
    version: Literal[1] = 1

    invitation_id: UUID
    registration_id: UUID
    group_id: UUID


class InvitationDeliveredV1(Event):
    """WhatsApp reported the invitation delivered to the participant's phone (first report)."""

    type: Literal["consultation.invitation_delivered"] = "consultation.invitation_delivered"
    version: Literal[1] = 1

    invitation_id: UUID
    registration_id: UUID
    gateway: str


class MessageReceivedV1(Event):
    """A WhatsApp message reached the webhook (the service's own stream; it holds the text)."""

    type: Literal["consultation.message_received"] = "consultation.message_received"
    version: Literal[1] = 1

    gateway: str = Field(description="Adapter that received it: cloud, waha or dev.")
    provider_message_id: str = Field(description="The provider's message id (idempotency key).")
    phone: str = Field(description="Sender in E.164 (personal data: never logged).")
    text: str = Field(description="Message text (personal data: never logged).")
    received_at: datetime


class ConversationAssignedV1(Event):
    """A conversation was given to a mentor (first assignment or reassignment after the SLA)."""

    type: Literal["consultation.conversation_assigned"] = "consultation.conversation_assigned"
    version: Literal[1] = 1

    conversation_id: UUID
    mentor_id: UUID
    topic: str
    reassigned: bool = False
    waited_s: float = Field(description="Seconds from the request for a mentor to this.")


class ConversationClosedV1(Event):
    """A mentor closed a conversation; times feed the dashboard (no personal data)."""

    type: Literal["consultation.conversation_closed"] = "consultation.conversation_closed"
    version: Literal[1] = 1

    conversation_id: UUID
    mentor_id: UUID | None
    topic: str
    first_response_s: float | None = Field(description="Request to the mentor's first reply.")
    resolution_s: float = Field(description="Request to closing.")


class MessageModeratedV1(Event):
    """An inbound message was refused by moderation (category only: no text, no number)."""

    type: Literal["consultation.message_moderated"] = "consultation.message_moderated"
    version: Literal[1] = 1

    category: str = Field(description="sara, hoaks or pornografi.")
    repeat_offender: bool
