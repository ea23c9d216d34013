"""Certificates tables: e-certificates (the PDF's storage key), counters, participants."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import (
    Boolean,
    Date,
    DateTime,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    Uuid,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

STATUS_VALID = "valid"
STATUS_REVOKED = "revoked"
POLICY_ON_REGISTRATION = "on_registration"
POLICY_ON_CHECK_IN = "on_check_in"


class Base(DeclarativeBase):
    """Declarative base of the certificates service's own schema."""


class Certificate(Base):
    """One participant's e-certificate: one per registration, numbered per tenant.

    Issued in two steps: the number and this row first (`needs_render` true), then the PDF is
    rendered outside any transaction, stored under `pdf_key`, and the row finished.
    """

    __tablename__ = "certificates"
    __table_args__ = (
        UniqueConstraint("registration_id", name="uq_certificate_registration"),
        UniqueConstraint("tenant", "number", name="uq_certificate_number"),
        Index("ix_certificates_needs_render", "needs_render", "render_lease_until"),
        # The finisher's queue: only rows still waiting for their PDF, oldest first, and one
        # replica's own leases; partial, so they stay as small as the queue at province scale.
        Index(
            "ix_certificates_waiting",
            "status",
            "issued_at",
            postgresql_where=text("needs_render IS true"),
            sqlite_where=text("needs_render IS true"),
        ),
        Index(
            "ix_certificates_render_owner",
            "render_owner",
            postgresql_where=text("needs_render IS true"),
            sqlite_where=text("needs_render IS true"),
        ),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    tenant: Mapped[str] = mapped_column(String(64), index=True)
    registration_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    activity_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, nullable=True, index=True)
    number: Mapped[str] = mapped_column(String(80))
    participant_name: Mapped[str] = mapped_column(String(200))
    school: Mapped[str] = mapped_column(String(200))
    level: Mapped[str] = mapped_column(String(60))
    activity_title: Mapped[str] = mapped_column(String(300))
    activity_date: Mapped[date] = mapped_column(Date)
    activity_location: Mapped[str] = mapped_column(String(300))
    # Where the PDF lives in the storage (local folder or S3): the bytes never enter the DB.
    pdf_key: Mapped[str | None] = mapped_column(String(300), nullable=True)
    needs_render: Mapped[bool] = mapped_column(Boolean, default=True)
    generation: Mapped[int] = mapped_column(Integer, default=1)
    render_lease_until: Mapped[datetime | None] = mapped_column(
        DateTime(timezone=True), nullable=True
    )
    render_owner: Mapped[str | None] = mapped_column(String(120), nullable=True)
    render_attempts: Mapped[int] = mapped_column(Integer, default=0)
    rendered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    announced_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    reissued_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    status: Mapped[str] = mapped_column(String(16), default=STATUS_VALID)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    revoke_reason: Mapped[str | None] = mapped_column(String(500), nullable=True)
    issued_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    correlation_id: Mapped[str] = mapped_column(String(64))
    causation_id: Mapped[str | None] = mapped_column(String(64), nullable=True)


class CertificateCounter(Base):
    """The last number given to a tenant's certificates in one year."""

    __tablename__ = "certificate_counters"

    tenant: Mapped[str] = mapped_column(String(64), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    last_number: Mapped[int] = mapped_column(Integer, default=0)


class Participant(Base):
    """What this service knows of a registration: its policy, check-in and cancellation.

    A check-in or cancellation may arrive before the registration (separate streams), so every
    detail from the registration is nullable until it arrives.
    """

    __tablename__ = "participants"

    registration_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    tenant: Mapped[str] = mapped_column(String(64))
    activity_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    policy: Mapped[str | None] = mapped_column(String(20), nullable=True)
    registered_event: Mapped[str | None] = mapped_column(String, nullable=True)
    checked_in_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    cancelled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class CertificateTemplate(Base):
    """A kecamatan's own certificate template (Jinja2, checked at upload) and logo."""

    __tablename__ = "certificate_templates"

    tenant: Mapped[str] = mapped_column(String(64), primary_key=True)
    html: Mapped[str] = mapped_column(Text)
    logo: Mapped[str | None] = mapped_column(Text, nullable=True)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_by: Mapped[str] = mapped_column(String(200))
