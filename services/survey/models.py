"""Survey tables: service units, responses, and the per-day aggregates the IKM reads."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    Uuid,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from services.survey.statuses import Channel, TicketStatus


class Base(DeclarativeBase):
    """Declarative base of the survey service's own schema."""


class Unit(Base):
    """A service unit of a tenant that carries an SKM QR code; seeded from the tenant file."""

    __tablename__ = "units"
    __table_args__ = (UniqueConstraint("tenant", "code", name="uq_unit_tenant_code"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    tenant: Mapped[str] = mapped_column(String(64))
    code: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class Response(Base):
    """One citizen's survey answers; name and phone are personal data (never in events/logs)."""

    __tablename__ = "responses"
    # Declared here as migration 0003 creates it, so the models and the migrations agree.
    __table_args__ = (Index("ix_responses_tenant_unit_date", "tenant", "unit", "local_date"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    tenant: Mapped[str] = mapped_column(String(64), index=True)
    unit: Mapped[str] = mapped_column(String(64))
    submitted_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    local_date: Mapped[date] = mapped_column(Date, index=True)
    scores: Mapped[dict[str, Any]] = mapped_column(JSON)
    service_type: Mapped[str | None] = mapped_column(String(160), nullable=True)
    gender: Mapped[str | None] = mapped_column(String(1), nullable=True)
    age: Mapped[int | None] = mapped_column(Integer, nullable=True)
    education: Mapped[str | None] = mapped_column(String(8), nullable=True)
    occupation: Mapped[str | None] = mapped_column(String(20), nullable=True)
    suggestion: Mapped[str | None] = mapped_column(Text, nullable=True)
    name: Mapped[str | None] = mapped_column(String(120), nullable=True)
    phone: Mapped[str | None] = mapped_column(String(20), nullable=True)
    phone_consent: Mapped[bool] = mapped_column(Boolean, default=False)
    channel: Mapped[str] = mapped_column(String(8), default=Channel.QR)
    guide_code: Mapped[str | None] = mapped_column(String(64), nullable=True)


class SubmissionKey(Base):
    """A key that makes a resubmission return the first response instead of a second one.

    `k:<hash>` for a client's Idempotency-Key, `f:<hash>:<window>` for an identical body from
    the same device within one window; several keys can point to the same response.
    """

    __tablename__ = "submission_keys"

    tenant: Mapped[str] = mapped_column(String(64), primary_key=True)
    key: Mapped[str] = mapped_column(String(96), primary_key=True)
    response_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    body_hash: Mapped[str] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)


class ProfileCount(Base):
    """How many responses of a unit's day had one profile value (gender=P, age_band=20-29...)."""

    __tablename__ = "profile_counts"
    __table_args__ = (
        UniqueConstraint(
            "tenant", "unit", "local_date", "dimension", "value", name="uq_profile_count"
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    tenant: Mapped[str] = mapped_column(String(64))
    unit: Mapped[str] = mapped_column(String(64))
    local_date: Mapped[date] = mapped_column(Date)
    dimension: Mapped[str] = mapped_column(String(16))
    value: Mapped[str] = mapped_column(String(160))
    responses: Mapped[int] = mapped_column(Integer, default=0)


class Aggregate(Base):
    """Sum of the scores and number of answers of one unsur, per tenant, unit and local day."""

    __tablename__ = "aggregates"
    __table_args__ = (
        UniqueConstraint("tenant", "unit", "local_date", "unsur", name="uq_aggregate_day_unsur"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    tenant: Mapped[str] = mapped_column(String(64))
    unit: Mapped[str] = mapped_column(String(64))
    local_date: Mapped[date] = mapped_column(Date)
    unsur: Mapped[str] = mapped_column(String(16))
    score_sum: Mapped[int] = mapped_column(Integer, default=0)
    answered: Mapped[int] = mapped_column(Integer, default=0)


class DailyResponses(Base):
    """How many responses a unit received on one local day (the IKM's response count)."""

    __tablename__ = "daily_responses"
    __table_args__ = (
        UniqueConstraint("tenant", "unit", "local_date", name="uq_daily_responses_day"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    tenant: Mapped[str] = mapped_column(String(64))
    unit: Mapped[str] = mapped_column(String(64))
    local_date: Mapped[date] = mapped_column(Date)
    responses: Mapped[int] = mapped_column(Integer, default=0)


class Guide(Base):
    """A Gen-Z guide (a registered participant): only the codes and tenant, no personal data."""

    __tablename__ = "guides"

    registration_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    tenant: Mapped[str] = mapped_column(String(64))
    code: Mapped[str] = mapped_column(String(64), index=True)


class Ticket(Base):
    """A saran or kritik to answer: baru, ditanggapi (replied), selesai (closed)."""

    __tablename__ = "tickets"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    tenant: Mapped[str] = mapped_column(String(64), index=True)
    unit: Mapped[str] = mapped_column(String(64))
    response_id: Mapped[uuid.UUID] = mapped_column(Uuid, unique=True)
    local_date: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(12), default=TicketStatus.BARU)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    reply: Mapped[str | None] = mapped_column(Text, nullable=True)
    replied_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    replied_by: Mapped[str | None] = mapped_column(String(120), nullable=True)
    reply_sent: Mapped[bool] = mapped_column(Boolean, default=False)
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
