"""Requests to message people: only the consultation service talks to WhatsApp."""

from __future__ import annotations

from typing import Literal

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
