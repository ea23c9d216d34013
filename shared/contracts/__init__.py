"""Event contracts: one versioned pydantic model per event type, one Redis stream per type."""

from shared.contracts.certificates import CertificateIssuedV1, CertificateRevokedV1
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
from shared.contracts.messaging import WhatsAppMessageRequestedV1, WhatsAppMessageStatusV1
from shared.contracts.registration import (
    ActivityChangedV1,
    ParticipantCancelledV1,
    ParticipantCheckedInV1,
    ParticipantRegisteredV1,
)
from shared.contracts.survey import (
    IkmUpdatedV1,
    ResponseSubmittedV1,
    TicketClosedV1,
    TicketOpenedV1,
    TicketRepliedV1,
)

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
    CertificateRevokedV1,
    ParticipantCheckedInV1,
    ParticipantCancelledV1,
    ActivityChangedV1,
    IkmUpdatedV1,
    WhatsAppMessageRequestedV1,
    WhatsAppMessageStatusV1,
    TicketOpenedV1,
    TicketRepliedV1,
    TicketClosedV1,
)

__all__ = [
    "ALL_EVENTS",
    "ActivityChangedV1",
    "CertificateIssuedV1",
    "CertificateRevokedV1",
    "ConversationAssignedV1",
    "ConversationClosedV1",
    "Event",
    "IkmUpdatedV1",
    "InvitationClickedV1",
    "InvitationDeliveredV1",
    "InvitationSentV1",
    "MessageModeratedV1",
    "MessageReceivedV1",
    "ParticipantCancelledV1",
    "ParticipantCheckedInV1",
    "ParticipantRegisteredV1",
    "ResponseSubmittedV1",
    "TicketClosedV1",
    "TicketOpenedV1",
    "TicketRepliedV1",
    "WhatsAppMessageRequestedV1",
    "WhatsAppMessageStatusV1",
    "utcnow",
]
