"""Event contracts: one versioned pydantic model per event type, one Redis stream per type."""

from shared.contracts.certificates import CertificateIssuedV1, CertificateRevokedV1
from shared.contracts.consultation import InvitationSentV1
from shared.contracts.envelope import Event, utcnow
from shared.contracts.messaging import WhatsAppMessageRequestedV1
from shared.contracts.registration import (
    ParticipantCancelledV1,
    ParticipantCheckedInV1,
    ParticipantRegisteredV1,
)
from shared.contracts.survey import IkmUpdatedV1, ResponseSubmittedV1

ALL_EVENTS: tuple[type[Event], ...] = (
    ParticipantRegisteredV1,
    CertificateIssuedV1,
    InvitationSentV1,
    ResponseSubmittedV1,
    CertificateRevokedV1,
    ParticipantCheckedInV1,
    ParticipantCancelledV1,
    IkmUpdatedV1,
    WhatsAppMessageRequestedV1,
)

__all__ = [
    "ALL_EVENTS",
    "CertificateIssuedV1",
    "CertificateRevokedV1",
    "Event",
    "IkmUpdatedV1",
    "InvitationSentV1",
    "ParticipantCancelledV1",
    "ParticipantCheckedInV1",
    "ParticipantRegisteredV1",
    "ResponseSubmittedV1",
    "WhatsAppMessageRequestedV1",
    "utcnow",
]
