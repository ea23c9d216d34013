"""Consultation tables: WhatsApp groups, invitations ledger, outbound queue, dev messages."""

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
    status: Mapped[str] = mapped_column(String(16))  # queued, sent, failed, no_group
    click_token: Mapped[str] = mapped_column(String(64), unique=True)
    clicked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    correlation_id: Mapped[str] = mapped_column(String(64))
    source_event_id: Mapped[str] = mapped_column(String(36))


class OutboundMessage(Base):
    """A WhatsApp message waiting in, or done with, the outbound queue."""

    __tablename__ = "outbound_messages"
    __table_args__ = (Index("ix_outbound_due", "status", "next_attempt_at"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    tenant: Mapped[str] = mapped_column(String(64))
    to_phone: Mapped[str] = mapped_column(String(20))
    body: Mapped[str] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(String(32))  # group_invitation
    invitation_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("invitations.id"), nullable=True, index=True
    )
    status: Mapped[str] = mapped_column(String(16))  # queued, sent, failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    last_error: Mapped[str | None] = mapped_column(String(500), nullable=True)
    provider_message_id: Mapped[str | None] = mapped_column(String(200), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class DevMessage(Base):
    """A message the development gateway would have sent (shown on /dev/whatsapp)."""

    __tablename__ = "dev_messages"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    to: Mapped[str] = mapped_column(String(20))
    body: Mapped[str] = mapped_column(Text)
    provider_message_id: Mapped[str] = mapped_column(String(200), unique=True)
    sent_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)


# Kept current by database triggers (migration 0004), never written by this code; outside Base
# so no ORM flush or seeding adds rows to it. Tenants x statuses rows: read whole by the scrape.
outbound_totals = Table(
    "outbound_totals",
    MetaData(),
    Column("tenant", String(64), primary_key=True),
    Column("status", String(16), primary_key=True),
    Column("count", BigInteger, nullable=False),
)
