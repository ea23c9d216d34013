"""The dashboard's rules: fold events into the read model, read snapshots and journeys."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from services.dashboard import readmodel, repository
from shared.contracts import Event
from shared.dates import as_utc, local_date
from shared.db import Database
from shared.problems import Problem

JOURNAL_CHUNK = 5000


class JourneyNotFound(Problem):
    """No registration with this id in the caller's kecamatan."""


class JourneyPhoneInvalid(Problem):
    """A phone to look journeys up by that is not an Indonesian mobile (fact: detail)."""


async def record_event(session: AsyncSession, event: Event, timezone: str) -> bool:
    """Folds one event into the read model once (the journal's key drops a second copy)."""
    data = event.model_dump(mode="json")
    phone = data.get("phone")
    # A guided survey response belongs to its guide's journey.
    registration_id = data.get("registration_id") or data.get("guide_registration_id")
    fresh = await repository.add_journal_entry(
        session,
        {
            "event_id": str(event.event_id),
            "tenant": event.tenant,
            "type": event.type,
            "source": event.source,
            "occurred_at": event.occurred_at,
            "correlation_id": event.correlation_id,
            "registration_id": str(registration_id) if registration_id else None,
            "phone_key": readmodel.phone_key(event.tenant, phone)
            if isinstance(phone, str)
            else None,
            "summary": readmodel.summarize(event),
        },
    )
    if not fresh:
        return False
    day = local_date(event.occurred_at, timezone)
    await repository.add_counts(session, event.tenant, day, readmodel.counts_for(event))
    await _record_open_item(session, event)
    return True


async def _record_open_item(session: AsyncSession, event: Event) -> None:
    change = readmodel.open_item_change(event)
    if change is None:
        return
    kind, item_id, what = change
    values: dict[str, Any] = {}
    if what == "open":
        values["opened_at"] = event.occurred_at
    elif what == "close":
        values["closed_at"] = event.occurred_at
    seconds = readmodel.first_response_seconds(event)
    if seconds is not None:
        values["first_response_s"] = seconds
    if not values:
        return
    await repository.upsert_open_item(session, event.tenant, kind, item_id, **values)


async def snapshot(
    session: AsyncSession, tenant: str, now: datetime, timezone: str
) -> dict[str, Any]:
    """Everything the dashboard shows for one tenant, as plain JSON-able data."""
    today = local_date(now, timezone)
    month_start = today.replace(day=1)
    since = min(today - timedelta(days=29), _months_back(month_start, 5))
    rows = await repository.daily_counts(session, tenant, since)
    by: dict[tuple[str, str], dict[date, int]] = defaultdict(lambda: defaultdict(int))
    for row in rows:
        by[(row.metric, row.dimension)][row.day] += row.count
    days = [today - timedelta(days=n) for n in range(29, -1, -1)]

    def period(metric: str, dimension: str = "") -> dict[str, int]:
        series = by.get((metric, dimension), {})
        month = sum(v for d, v in series.items() if d >= month_start)
        return {"today": series.get(today, 0), "month": month}

    return {
        "tenant": tenant,
        "generated_at": now.isoformat(),
        "today": today.isoformat(),
        "totals": {m: period(m) for m in readmodel.BUSINESS_METRICS},
        "by_desa": _breakdown(by, "registrations.desa", today, month_start),
        "by_level": _breakdown(by, "registrations.level", today, month_start),
        "daily": {
            "days": [d.isoformat() for d in days],
            **{
                m: [by.get((m, ""), {}).get(d, 0) for d in days]
                for m in ("registrations", "checkins", "certificates_issued", "invitations_sent")
            },
        },
        "ikm": _ikm_trend(by, month_start),
        "queue": await _queue(session, tenant, now, month_start, timezone),
        "events_today": {dim: s.get(today, 0) for (m, dim), s in by.items() if m == "events"},
    }


def _months_back(month_start: date, n: int) -> date:
    year, month = month_start.year, month_start.month - n
    while month < 1:
        year, month = year - 1, month + 12
    return date(year, month, 1)


def _breakdown(by: Any, metric: str, today: date, month_start: date) -> list[dict[str, Any]]:
    items = []
    for (m, dimension), series in by.items():
        if m == metric:
            month = sum(v for d, v in series.items() if d >= month_start)
            items.append({"name": dimension, "today": series.get(today, 0), "month": month})
    return sorted(items, key=lambda i: (-i["month"], i["name"]))


def _ikm_trend(by: Any, month_start: date) -> dict[str, Any]:
    trend = []
    for back in range(5, -1, -1):
        start = _months_back(month_start, back)
        end = _months_back(start, -1)
        sums: dict[str, int] = defaultdict(int)
        answered: dict[str, int] = defaultdict(int)
        for (m, unsur), series in by.items():
            for d, v in series.items():
                if start <= d < end:
                    if m == "ikm.sum":
                        sums[unsur] += v
                    elif m == "ikm.answered":
                        answered[unsur] += v
        trend.append(
            {"month": start.isoformat()[:7], "ikm": readmodel.ikm_konversi(sums, answered)}
        )
    return {"period": trend[-1]["ikm"], "trend": trend}


async def _queue(
    session: AsyncSession, tenant: str, now: datetime, month_start: date, timezone: str
) -> dict[str, Any]:
    items = await repository.open_items(session, tenant)
    ages = {
        kind: sorted(
            (
                (now - as_utc(i.opened_at)).total_seconds() / 3600
                for i in items
                if i.kind == kind and i.opened_at
            ),
            reverse=True,
        )
        for kind in ("consultation", "complaint")
    }
    since = datetime.combine(month_start, datetime.min.time()).replace(tzinfo=now.tzinfo)
    times = await repository.first_response_times(session, tenant, since, "consultation")
    answered = await repository.first_response_times(session, tenant, since, "complaint")
    return {
        "consultations_open": len([i for i in items if i.kind == "consultation"]),
        "complaints_open": len([i for i in items if i.kind == "complaint"]),
        "oldest_complaint_hours": round(ages["complaint"][0], 1) if ages["complaint"] else None,
        "oldest_consultation_hours": (
            round(ages["consultation"][0], 1) if ages["consultation"] else None
        ),
        "complaint_ages_hours": [round(a, 1) for a in ages["complaint"][:20]],
        "first_response_avg_s": round(sum(times) / len(times)) if times else None,
        "complaint_response_avg_s": round(sum(answered) / len(answered)) if answered else None,
    }


async def journey(session: AsyncSession, registration_id: str) -> dict[str, Any] | None:
    """One registration's journey in time order, or None when the dashboard never saw it."""
    head = await repository.registration_entry(session, registration_id)
    entries = (
        await repository.journey_entries(session, head.tenant, registration_id, head.correlation_id)
        if head
        else []
    )
    if head is None:
        return None
    seen = {e.type for e in entries}
    return {
        "registration_id": registration_id,
        "tenant": head.tenant,
        "correlation_id": head.correlation_id,
        "phone_masked": head.summary.get("phone_masked"),
        "steps": [
            {
                "occurred_at": as_utc(e.occurred_at).isoformat(),
                "type": e.type,
                "source": e.source,
                "event_id": e.event_id,
                "label": readmodel.step_label(e.type, e.summary),
                "facts": e.summary,
            }
            for e in entries
        ],
        "missing": [label for t, label in readmodel.EXPECTED_STEPS.items() if t not in seen],
    }


async def journeys_by_phone(
    session: AsyncSession, tenants: list[str], phone: str
) -> list[dict[str, Any]]:
    """Journeys of every registration a phone made in the given tenants."""
    keys = {t: readmodel.phone_key(t, phone) for t in tenants}
    heads = await repository.registrations_by_phone(session, keys)
    found = [await journey(session, str(h.registration_id)) for h in heads]
    return [j for j in found if j is not None]


async def business_totals(session: AsyncSession) -> list[tuple[str, str, int]]:
    """(tenant, metric, total) of the business counters, for Prometheus."""
    return await repository.totals(session, readmodel.BUSINESS_METRICS)


async def prune_journal(db: Database, before: datetime) -> int:
    """Deletes the journal entries (journeys) older than a moment, in chunks; returns how many.

    Counters, open items and the IKM trend are kept: only the per-event journal goes.
    """
    total = 0
    while True:
        async with db.session() as session:
            removed = await repository.delete_journal_before(session, before, JOURNAL_CHUNK)
        total += removed
        if removed < JOURNAL_CHUNK:
            return total
