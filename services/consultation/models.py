"""Consultation tables: groups, invitations, outbound queue, mentors, conversations."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    Uuid,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    """Declarative base of the consultation service's own schema."""


class WhatsAppGroup(Base):
    """A mentors' WhatsApp group (created by a mentor on a phone) and its current invite link."""

    __tablename__ = "whatsapp_groups"
    __table_args__ = (
        UniqueConstraint("tenant", "invite_link", name="uq_group_invite_link"),
        UniqueConstraint("tenant", "seed_link", name="uq_group_seed_link"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    tenant: Mapped[str] = mapped_column(String(64), index=True)
    name: Mapped[str] = mapped_column(String(200))
    invite_link: Mapped[str] = mapped_column(String(300))
    # The link the tenant file seeded this group with; kept after a rotation so a restart does
    # not bring the old link back as a second group. NULL for groups added through the API.
    seed_link: Mapped[str | None] = mapped_column(String(300), nullable=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    rotated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class Invitation(Base):
    """One participant's invitation to a group: at most one per registration."""

    __tablename__ = "invitations"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    tenant: Mapped[str] = mapped_column(String(64), index=True)
    registration_id: Mapped[uuid.UUID] = mapped_column(Uuid, unique=True)
    group_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("whatsapp_groups.id"), nullable=True, index=True
    )
    phone: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(16))  # statuses.InvitationStatus
    click_token: Mapped[str] = mapped_column(String(64), unique=True)
    clicked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    correlation_id: Mapped[str] = mapped_column(String(64))
    source_event_id: Mapped[str] = mapped_column(String(36))


class OutboundMessage(Base):
    """A WhatsApp message waiting in, or done with, the outbound queue."""

    __tablename__ = "outbound_messages"
    __table_args__ = (
        Index("ix_outbound_due", "status", "next_attempt_at"),
        Index("ix_outbound_provider_id", "provider_message_id"),  # webhook status updates
        Index("ix_outbound_to_phone", "to_phone", "status"),  # has this number been sent to?
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    tenant: Mapped[str] = mapped_column(String(64))
    to_phone: Mapped[str] = mapped_column(String(20))
    body: Mapped[str] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(String(32))  # group_invitation, certificate, reply, ...
    invitation_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("invitations.id"), nullable=True, index=True
    )
    status: Mapped[str] = mapped_column(String(16))  # statuses.SendStatus
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    last_error: Mapped[str | None] = mapped_column(String(500), nullable=True)
    provider_message_id: Mapped[str | None] = mapped_column(String(200), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    # The WhatsApp rule applied (free_form inside the 24-hour window, template outside it,
    # document for a certificate inside it) and what the template needs.
    rule: Mapped[str] = mapped_column(String(16), default="free_form", server_default="free_form")
    template: Mapped[str | None] = mapped_column(String(100), nullable=True)
    params: Mapped[str | None] = mapped_column(Text, nullable=True)  # JSON list of strings
    document_url: Mapped[str | None] = mapped_column(String(500), nullable=True)
    conversation_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, nullable=True, index=True)
    # A natural key for messages that must go once (e.g. certificate:<id>); NULL otherwise.
    dedupe_key: Mapped[str | None] = mapped_column(
        String(120), nullable=True, index=True, unique=True
    )
    delivery_status: Mapped[str | None] = mapped_column(String(16), nullable=True)  # DeliveryStatus
    delivered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    read_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class MessageRequest(Base):
    """A message another service asked for (WhatsAppMessageRequestedV1): whom to tell its fate.

    One row per request, beside its outbound message; the status events it causes carry the
    requester's purpose, reference and correlation id (no phone, no text).
    """

    __tablename__ = "message_requests"

    message_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("outbound_messages.id"), primary_key=True
    )
    request_id: Mapped[uuid.UUID] = mapped_column(Uuid, unique=True)
    tenant: Mapped[str] = mapped_column(String(64))
    source: Mapped[str] = mapped_column(String(64))
    purpose: Mapped[str] = mapped_column(String(64))
    reference: Mapped[str] = mapped_column(Text)
    correlation_id: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Registrant(Base):
    """A registration's phone and consent, kept to reach the participant later."""

    __tablename__ = "registrants"

    registration_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    tenant: Mapped[str] = mapped_column(String(64))
    phone: Mapped[str] = mapped_column(String(20), index=True)
    consent: Mapped[bool] = mapped_column(Boolean)
    # For an invitation sent later (a group created after the registration).
    first_name: Mapped[str] = mapped_column(String(100), default="")
    activity_title: Mapped[str] = mapped_column(String(300), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Contact(Base):
    """A WhatsApp number that wrote to the service: its window and its moderation record."""

    __tablename__ = "contacts"

    tenant: Mapped[str] = mapped_column(String(64), primary_key=True)
    phone: Mapped[str] = mapped_column(String(20), primary_key=True)
    last_inbound_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    offences: Mapped[int] = mapped_column(Integer, default=0)
    flagged: Mapped[bool] = mapped_column(Boolean, default=False)
    rating_for: Mapped[uuid.UUID | None] = mapped_column(Uuid, nullable=True)


class InboundReceipt(Base):
    """A provider message id the webhook accepted (the same id twice is handled once)."""

    __tablename__ = "inbound_receipts"

    provider_message_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Mentor(Base):
    """A mentor on the roster: topics, capacity, duty and the load counter routing locks."""

    __tablename__ = "mentors"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    tenant: Mapped[str] = mapped_column(String(64), index=True)
    name: Mapped[str] = mapped_column(String(200))
    phone: Mapped[str] = mapped_column(String(20))
    topics: Mapped[str] = mapped_column(Text)  # JSON list of topic codes
    capacity: Mapped[int] = mapped_column(Integer)
    duty: Mapped[str] = mapped_column(String(8), default="rota")  # rota, on, off
    rota: Mapped[str] = mapped_column(Text, default="[]")  # JSON weekly slots, tenant time
    open_count: Mapped[int] = mapped_column(Integer, default=0)
    last_assigned_at: Mapped[datetime | None] = mapped_column(
        DateTime(timezone=True), nullable=True
    )
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Conversation(Base):
    """A citizen's consultation: automatic answers, a queue place, a mentor, a rating."""

    __tablename__ = "conversations"
    __table_args__ = (Index("ix_conversation_state", "tenant", "status", "queued_at"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    tenant: Mapped[str] = mapped_column(String(64))
    phone: Mapped[str] = mapped_column(String(20), index=True)
    topic: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(12))  # statuses.ConversationStatus
    mentor_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("mentors.id"), nullable=True, index=True
    )
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    queued_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    assigned_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    sla_due_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    first_response_at: Mapped[datetime | None] = mapped_column(
        DateTime(timezone=True), nullable=True
    )
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    last_inbound_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    rating: Mapped[int | None] = mapped_column(Integer, nullable=True)
    reassignments: Mapped[int] = mapped_column(Integer, default=0)
    correlation_id: Mapped[str] = mapped_column(String(64))


class ConversationMessage(Base):
    """One message of a conversation, in or out (moderated texts are not kept)."""

    __tablename__ = "conversation_messages"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    conversation_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("conversations.id"), index=True)
    direction: Mapped[str] = mapped_column(String(3))  # in, out
    author: Mapped[str] = mapped_column(String(8))  # citizen, bot, mentor
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class ModerationRecord(Base):
    """A refused message: category only (no text, no number), for the counts operators see."""

    __tablename__ = "moderation_records"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    tenant: Mapped[str] = mapped_column(String(64), index=True)
    category: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class DevMessage(Base):
    """A message the development gateway would have sent (shown on /dev/whatsapp)."""

    __tablename__ = "dev_messages"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    to: Mapped[str] = mapped_column(String(20))
    body: Mapped[str] = mapped_column(Text)
    provider_message_id: Mapped[str] = mapped_column(String(200), unique=True)
    sent_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)


# Tables kept current by database triggers (migration 0004), never written by this code: outside
# Base so no ORM flush or test seeding adds rows to them; the migration test compares them too.
DERIVED_METADATA = MetaData()
# Tenants x statuses rows: read whole by the metrics scrape.
outbound_totals = Table(
    "outbound_totals",
    DERIVED_METADATA,
    Column("tenant", String(64), primary_key=True),
    Column("status", String(16), primary_key=True),
    Column("count", BigInteger, nullable=False),
)
