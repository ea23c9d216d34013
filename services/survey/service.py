"""Survey rules: which units take answers, what a response announces, how the IKM is reported."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import date
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from services.survey import repository
from services.survey.ikm import (
    PERMENPAN_14_2017_UNSUR,
    SCHEMES,
    UnsurTotals,
    compute_ikm,
    minimum_sample,
    sample_sufficient,
    tally,
)
from services.survey.models import Response, Unit
from services.survey.schemas import ResponseCreate
from shared.contracts import ResponseSubmittedV1, utcnow
from shared.dates import local_date
from shared.outbox import add_event
from shared.problems import DomainError, NotFound
from shared.tenants import Tenant

SOURCE = "survey"
UNSUR_CODES = tuple(u.code for u in PERMENPAN_14_2017_UNSUR)


async def seed_units(session: AsyncSession, tenants: Mapping[str, Tenant]) -> int:
    """Upserts every tenant's survey units from its tenant file; units it dropped go inactive."""
    seeded = 0
    for tenant in tenants.values():
        for code, name in tenant.survey_units.items():
            await repository.upsert_unit(session, tenant=tenant.code, code=code, name=name)
            seeded += 1
        await repository.deactivate_units_except(session, tenant.code, list(tenant.survey_units))
    return seeded


async def get_active_unit(session: AsyncSession, tenant: Tenant, code: str) -> Unit:
    """Gets an active unit of a tenant or raises NotFound (in Indonesian)."""
    unit = await repository.get_unit(session, tenant.code, code)
    if unit is None or not unit.active:
        raise NotFound(
            f"Unit layanan '{code}' tidak ditemukan atau tidak lagi menerima survei. "
            "Periksa kembali kode QR yang Anda pindai.",
            field="unit",
        )
    return unit


async def submit_response(
    session: AsyncSession,
    *,
    tenant: Tenant,
    unit_code: str,
    data: ResponseCreate,
    correlation_id: str,
) -> Response:
    """Stores a citizen's answers and queues ResponseSubmittedV1 (no personal data) with it."""
    unit = await get_active_unit(session, tenant, unit_code)
    submitted_at = utcnow()
    local_day = local_date(submitted_at, tenant.timezone)
    scores = data.scores.model_dump()
    response = Response(
        id=uuid.uuid4(),
        tenant=tenant.code,
        unit=unit.code,
        submitted_at=submitted_at,
        local_date=local_day,
        scores=scores,
        service_type=data.service_type,
        gender=data.gender,
        age=data.age,
        education=data.education,
        occupation=data.occupation,
        suggestion=data.suggestion,
        name=data.name,
        phone=data.phone,
    )
    await repository.add_response(session, response)
    await add_event(
        session,
        ResponseSubmittedV1(
            tenant=tenant.code,
            source=SOURCE,
            correlation_id=correlation_id,
            response_id=response.id,
            unit=unit.code,
            submitted_at=submitted_at,
            local_date=local_day,
            scores=scores,
            service_type=data.service_type,
        ),
    )
    return response


async def aggregate_response(session: AsyncSession, event: ResponseSubmittedV1) -> None:
    """Adds one submitted response to its unit's per-day totals (the caller dedupes by event_id)."""
    # tally raises ValueError on a score outside 1..4: the message ends in the dead-letter stream.
    totals = {
        code: (t.score_sum, t.answered) for code, t in tally([event.scores]).items() if t.answered
    }
    await repository.add_to_aggregates(
        session, tenant=event.tenant, unit=event.unit, local_date=event.local_date, totals=totals
    )
    await repository.add_to_daily_responses(
        session, tenant=event.tenant, unit=event.unit, local_date=event.local_date
    )


async def ikm_report(
    session: AsyncSession,
    *,
    tenant: Tenant,
    unit_code: str | None,
    start: date | None,
    end: date | None,
    scheme_id: str,
    population: int | None,
) -> dict[str, Any]:
    """Computes the IKM of one unit (or all the tenant's units) over local dates, inclusive."""
    scheme = SCHEMES.get(scheme_id)
    if scheme is None:
        raise DomainError(
            f"Skema '{scheme_id}' tidak dikenal. Pilihan: {', '.join(SCHEMES)}.",
            status=422,
            field="scheme",
            code="data_tidak_valid",
        )
    this_year = local_date(utcnow(), tenant.timezone).year
    start = start or date(this_year, 1, 1)
    end = end or date(this_year, 12, 31)
    if start > end:
        raise DomainError(
            "Tanggal awal (from) tidak boleh sesudah tanggal akhir (to).",
            status=422,
            field="from",
            code="data_tidak_valid",
        )
    unit = None
    if unit_code is not None:
        unit = await repository.get_unit(session, tenant.code, unit_code)
        if unit is None:
            raise NotFound(f"Unit layanan '{unit_code}' tidak ditemukan.", field="unit")
    sums, responses = await repository.sum_period(
        session, tenant=tenant.code, unit=unit_code, start=start, end=end
    )
    # Codes outside the questionnaire (none are accepted today) cannot enter the index.
    totals = {code: UnsurTotals(*sums[code]) for code in UNSUR_CODES if code in sums}
    result = compute_ikm(totals, PERMENPAN_14_2017_UNSUR, responses, scheme)
    report = result.to_dict()
    report.update(
        {
            "tenant": tenant.code,
            "unit": unit_code,
            "unit_name": unit.name if unit else None,
            "scheme_name": scheme.name,
            "from": start.isoformat(),
            "to": end.isoformat(),
            "responses": responses,
        }
    )
    if population is not None:
        report["population"] = {
            "population": population,
            "minimum_sample": minimum_sample(population),
            "sufficient": sample_sufficient(responses, population),
        }
    return report
