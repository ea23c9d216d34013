"""The dashboard's read model: a journal of every event and counters built from it."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Date, DateTime, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    """Declarative base of the dashboard's own schema."""


class JournalEntry(Base):
    """One event as the dashboard saw it, without personal data (journeys read these)."""

    __tablename__ = "journal"
    # The retention deletes the oldest entries first (migration 0004).
    __table_args__ = (Index("ix_journal_occurred_at", "occurred_at"),)

    event_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    tenant: Mapped[str] = mapped_column(String(64), index=True)
    type: Mapped[str] = mapped_column(String(120))
    source: Mapped[str] = mapped_column(String(40))
    occurred_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    correlation_id: Mapped[str] = mapped_column(String(64), index=True)
    registration_id: Mapped[str | None] = mapped_column(String(36), index=True)
    phone_key: Mapped[str | None] = mapped_column(String(64), index=True)
    summary: Mapped[dict[str, Any]] = mapped_column(JSON)


class DailyCount(Base):
    """How many events of one kind a tenant had on one local day, per dimension (desa, jenjang)."""

    __tablename__ = "daily_counts"
    __table_args__ = (UniqueConstraint("tenant", "day", "metric", "dimension", name="uq_daily"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    tenant: Mapped[str] = mapped_column(String(64))
    day: Mapped[date] = mapped_column(Date)
    metric: Mapped[str] = mapped_column(String(80))
    dimension: Mapped[str] = mapped_column(String(160))
    count: Mapped[int] = mapped_column(Integer)


class OpenItem(Base):
    """A consultation or complaint that was opened and maybe closed (queue and ages)."""

    __tablename__ = "open_items"
    __table_args__ = (
        UniqueConstraint("kind", "item_id", name="uq_open_item"),
        # A tenant's open items and first-response times, at 666 tenants (migration 0003).
        Index("ix_open_items_tenant_opened", "tenant", "opened_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    tenant: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(20))
    item_id: Mapped[str] = mapped_column(String(64))
    opened_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    first_response_s: Mapped[int | None] = mapped_column(Integer)
