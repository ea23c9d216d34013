"""Certificates tables: issued e-certificates (PDF included) and their numbering counters."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import Date, DateTime, Integer, LargeBinary, String, UniqueConstraint, Uuid
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

STATUS_VALID = "valid"
STATUS_REVOKED = "revoked"


class Base(DeclarativeBase):
    """Declarative base of the certificates service's own schema."""


class Certificate(Base):
    """One participant's e-certificate: one per registration, numbered per tenant."""

    __tablename__ = "certificates"
    __table_args__ = (
        UniqueConstraint("registration_id", name="uq_certificate_registration"),
        UniqueConstraint("tenant", "number", name="uq_certificate_number"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    tenant: Mapped[str] = mapped_column(String(64), index=True)
    registration_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    number: Mapped[str] = mapped_column(String(80))
    participant_name: Mapped[str] = mapped_column(String(200))
    school: Mapped[str] = mapped_column(String(200))
    level: Mapped[str] = mapped_column(String(60))
    activity_title: Mapped[str] = mapped_column(String(300))
    activity_date: Mapped[date] = mapped_column(Date)
    activity_location: Mapped[str] = mapped_column(String(300))
    # In the database so every replica serves it; deferred so lists never load it.
    pdf: Mapped[bytes] = mapped_column(LargeBinary, deferred=True)
    status: Mapped[str] = mapped_column(String(16), default=STATUS_VALID)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    revoke_reason: Mapped[str | None] = mapped_column(String(500), nullable=True)
    issued_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    correlation_id: Mapped[str] = mapped_column(String(64))


class CertificateCounter(Base):
    """The last number given to a tenant's certificates in one year."""

    __tablename__ = "certificate_counters"

    tenant: Mapped[str] = mapped_column(String(64), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    last_number: Mapped[int] = mapped_column(Integer, default=0)
