"""Events published by the consultation service."""

from __future__ import annotations

from typing import Literal
from uuid import UUID

from shared.contracts.envelope import Event


class InvitationSentV1(Event):
    """A participant's invitation to the mentors' WhatsApp group left through the gateway."""

    type: Literal["consultation.invitation_sent"] = "consultation.invitation_sent"
    version: Literal[1] = 1

    invitation_id: UUID
    registration_id: UUID
    group_id: UUID
    gateway: str
