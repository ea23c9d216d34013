"""Requests to message people: only the consultation service talks to WhatsApp."""

from __future__ import annotations

from typing import Literal
from uuid import UUID

from pydantic import Field

from shared.contracts.envelope import Event


class WhatsAppMessageRequestedV1(Event):
    """A service asks for one WhatsApp text to a person who consented to be contacted.

    The consultation service sends it through its outbound queue (rate limits, retries). The
    phone and text are personal data: never logged in clear.
    """

    type: Literal["messaging.whatsapp_message_requested"] = "messaging.whatsapp_message_requested"
    version: Literal[1] = 1

    phone: str = Field(description="Recipient in E.164, e.g. +6281234567890 (personal data).")
    text: str = Field(max_length=4096, description="The message text (personal data).")
    purpose: str = Field(description="Why, e.g. 'survey_reply'.")
    reference: str = Field(description="The requesting service's id for it, e.g. a ticket id.")


class WhatsAppMessageStatusV1(Event):
    """What became of a requested WhatsApp message, told back to the service that asked.

    Published by the consultation service for each WhatsAppMessageRequestedV1 (causation_id is
    the request's event_id): `sent` when the gateway accepted it, `delivered` and `read` when
    WhatsApp reports them, `failed` when it will not arrive (an invalid number, a permanent
    refusal, retries exhausted, or a failed delivery report). No phone and no text.
    """

    type: Literal["messaging.whatsapp_message_status"] = "messaging.whatsapp_message_status"
    version: Literal[1] = 1

    request_event_id: UUID = Field(description="event_id of the WhatsAppMessageRequestedV1.")
    purpose: str = Field(description="The request's purpose, e.g. 'survey_reply'.")
    reference: str = Field(description="The request's reference, e.g. a ticket id.")
    status: Literal["sent", "delivered", "read", "failed"]
    rule: str | None = Field(
        default=None, description="free_form (inside the 24-hour window) or template (outside)."
    )
    reason: str | None = Field(
        default=None, description="Why it failed (gateway error code; no personal data)."
    )
