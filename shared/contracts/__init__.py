"""Event contracts: one versioned pydantic model per event type, one Redis stream per type."""

from shared.contracts.certificates import CertificateIssuedV1
from shared.contracts.consultation import (
    ConversationAssignedV1,
    ConversationClosedV1,
    InvitationClickedV1,
    InvitationDeliveredV1,
    InvitationSentV1,
    MessageModeratedV1,
    MessageReceivedV1,
)
from shared.contracts.envelope import Event, utcnow
from shared.contracts.registration import ParticipantRegisteredV1
from shared.contracts.survey import ResponseSubmittedV1

ALL_EVENTS: tuple[type[Event], ...] = (
    ParticipantRegisteredV1,
    CertificateIssuedV1,
    InvitationSentV1,
    InvitationDeliveredV1,
    InvitationClickedV1,
    MessageReceivedV1,
    ConversationAssignedV1,
    ConversationClosedV1,
    MessageModeratedV1,
    ResponseSubmittedV1,
)

__all__ = [
    "ALL_EVENTS",
    "CertificateIssuedV1",
    "ConversationAssignedV1",
    "ConversationClosedV1",
    "Event",
    "InvitationClickedV1",
    "InvitationDeliveredV1",
    "InvitationSentV1",
    "MessageModeratedV1",
    "MessageReceivedV1",
    "ParticipantRegisteredV1",
    "ResponseSubmittedV1",
    "utcnow",
]
