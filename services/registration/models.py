"""Registration tables: socialisation activities (kegiatan), registrations, idempotency keys."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import (
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    Uuid,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    """Declarative base of the registration service's own schema."""


class CertificatePolicy(StrEnum):
    """When a participant's e-certificate is issued."""

    ON_REGISTRATION = "on_registration"
    ON_CHECK_IN = "on_check_in"


class RegistrationStatus(StrEnum):
    """Where a registration stands; attendance is `checked_in_at` on a registered one."""

    REGISTERED = "registered"
    WAITLISTED = "waitlisted"
    CANCELLED = "cancelled"


class Activity(Base):
    """A socialisation activity (kegiatan sosialisasi) of one tenant.

    The public API calls it an event (`/api/v1/events`, `event_id`), kept stable since v1; in
    the code an event is a message on a stream (shared/contracts).
    """

    __tablename__ = "activities"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    tenant: Mapped[str] = mapped_column(String(64), index=True)
    title: Mapped[str] = mapped_column(String(200))
    date: Mapped[date] = mapped_column(Date)
    location: Mapped[str] = mapped_column(String(200))
    capacity: Mapped[int | None] = mapped_column(Integer, nullable=True)
    registration_open: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    created_by: Mapped[str] = mapped_column(String(120))
    starts_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    ends_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    desa: Mapped[str | None] = mapped_column(String(120), nullable=True)
    registration_opens_at: Mapped[datetime | None] = mapped_column(
        DateTime(timezone=True), nullable=True
    )
    registration_closes_at: Mapped[datetime | None] = mapped_column(
        DateTime(timezone=True), nullable=True
    )
    certificate_policy: Mapped[str] = mapped_column(
        String(20), default=CertificatePolicy.ON_REGISTRATION
    )
    whatsapp_cohort: Mapped[str | None] = mapped_column(String(120), nullable=True)
    updated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    # Maintained in the transaction that changes a registration's status (under the activity's
    # lock): a sign-up reads them instead of counting the activity's registrations.
    registered_count: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    waitlisted_count: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))


class Registration(Base):
    """One participant's registration for one activity.

    At most one active (registered or waitlisted) registration per phone number per activity;
    cancelled ones stay as they were, so a participant who cancelled may sign up again.
    """

    __tablename__ = "registrations"
    __table_args__ = (
        Index(
            "uq_registrations_active_phone",
            "activity_id",
            "phone",
            unique=True,
            postgresql_where=text("status <> 'cancelled'"),
            sqlite_where=text("status <> 'cancelled'"),
        ),
        Index("ix_registrations_activity_status", "activity_id", "status"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    activity_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("activities.id"), index=True)
    tenant: Mapped[str] = mapped_column(String(64), index=True)
    name: Mapped[str] = mapped_column(String(120))
    school: Mapped[str] = mapped_column(String(160))
    phone: Mapped[str] = mapped_column(String(20))
    level: Mapped[str] = mapped_column(String(40))
    desa: Mapped[str | None] = mapped_column(String(120), nullable=True)
    consent: Mapped[bool] = mapped_column(Boolean)
    correlation_id: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    status: Mapped[str] = mapped_column(String(12), default=RegistrationStatus.REGISTERED)
    waitlist_position: Mapped[int | None] = mapped_column(Integer, nullable=True)
    code: Mapped[str] = mapped_column(String(12), unique=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    consent_version: Mapped[str] = mapped_column(String(40))
    checked_in_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    checked_in_by: Mapped[str | None] = mapped_column(String(120), nullable=True)
    cancelled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    cancelled_by: Mapped[str | None] = mapped_column(String(120), nullable=True)
    certificate_issued_at: Mapped[datetime | None] = mapped_column(
        DateTime(timezone=True), nullable=True
    )


class IdempotencyRecord(Base):
    """The first answer to a request carrying an Idempotency-Key, replayed for repeats."""

    __tablename__ = "idempotency_keys"

    scope: Mapped[str] = mapped_column(String(120), primary_key=True)
    key: Mapped[str] = mapped_column(String(120), primary_key=True)
    request_hash: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int] = mapped_column(Integer)
    response_body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
