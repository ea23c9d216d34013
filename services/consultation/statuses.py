"""The consultation's status words as StrEnums; the stored values are the strings."""

from __future__ import annotations

from enum import StrEnum


class InvitationStatus(StrEnum):
    """Where a group invitation stands (invitations.status)."""

    QUEUED = "queued"  # its message waits in the outbound queue
    SENT = "sent"
    FAILED = "failed"
    NO_GROUP = "no_group"  # the kecamatan has no active group yet; sent once one exists


class SendStatus(StrEnum):
    """Where a message of the outbound queue stands (outbound_messages.status)."""

    QUEUED = "queued"
    SENT = "sent"
    FAILED = "failed"


class DeliveryStatus(StrEnum):
    """What WhatsApp reported of a sent message (outbound_messages.delivery_status)."""

    SENT = "sent"
    DELIVERED = "delivered"
    READ = "read"
    FAILED = "failed"


class ConversationStatus(StrEnum):
    """Where a participant's conversation stands (conversations.status)."""

    BOT = "bot"  # the bot answers (topic menu, requirements)
    QUEUED = "queued"  # waiting for a mentor
    ASSIGNED = "assigned"  # a mentor handles it
    CLOSED = "closed"


# Conversations still going on (a new message joins them rather than starting another).
OPEN_CONVERSATION = (ConversationStatus.BOT, ConversationStatus.QUEUED, ConversationStatus.ASSIGNED)
