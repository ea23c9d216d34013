"""Reports that read the database: the IKM report, the respondents list, the live snapshot."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from services.survey import reports, repository, tickets
from services.survey.ikm import SCHEMES, Scheme, minimum_sample, sample_sufficient
from services.survey.models import Response
from services.survey.periods import resolve_period
from shared.contracts import utcnow
from shared.dates import local_date
from shared.problems import Problem
from shared.tenants import Tenant


class UnknownScheme(Problem):
    """An interval table the survey does not know (facts: scheme, choices)."""


class UnknownWeight(Problem):
    """A headline weight the survey does not know (facts: weight, choices)."""


class UnknownUnit(Problem):
    """A report asked for a unit the tenant does not have (fact: unit)."""


def _scheme(scheme_id: str, weight: str) -> Scheme:
    """The interval table asked for, after checking the headline weight too."""
    scheme = SCHEMES.get(scheme_id)
    if scheme is None:
        raise UnknownScheme(scheme=scheme_id, choices=", ".join(SCHEMES))
    if weight not in reports.WEIGHTS:
        raise UnknownWeight(weight=weight, choices=", ".join(reports.WEIGHTS))
    return scheme


async def ikm_report(
    session: AsyncSession,
    *,
    tenant: Tenant,
    unit_code: str | None,
    start: date | None,
    end: date | None,
    scheme_id: str,
    population: int | None,
    period: str | None = None,
    weight: str = "exact",
) -> dict[str, Any]:
    """Computes the IKM of one unit (or all the tenant's units) over local dates, inclusive."""
    scheme = _scheme(scheme_id, weight)
    this_year = local_date(utcnow(), tenant.timezone).year
    start, end = resolve_period(period, start, end, this_year)
    unit = None
    if unit_code is not None:
        unit = await repository.get_unit(session, tenant.code, unit_code)
        if unit is None:
            raise UnknownUnit(unit=unit_code)
    sums = await repository.period_sums(
        session, tenant=tenant.code, unit=unit_code, start=start, end=end
    )
    responses = sum(n for _u, _ym, n in sums.counts)
    totals = reports.totals_of((k, a, b) for _u, _ym, k, a, b in sums.scores)
    result = reports.result_of(totals, responses, scheme)
    report = result.to_dict()
    names = {u.code: u.name for u in await repository.list_active_units(session, tenant.code)}
    report.update(
        {
            "headline": reports.headline(result, weight),
            "tenant": tenant.code,
            "unit": unit_code,
            "unit_name": unit.name if unit else None,
            "scheme_name": scheme.name,
            "period": period,
            "from": start.isoformat(),
            "to": end.isoformat(),
            "responses": responses,
            **reports.breakdowns(sums, scheme, names),
            "saran": await tickets.period_response_times(
                session, tenant.code, unit_code, start, end
            ),
        }
    )
    if population is not None:
        report["population"] = _sample_check(responses, population)
    return report


def _sample_check(responses: int, population: int) -> dict[str, Any]:
    """The Krejcie-Morgan check of a period's respondents against the unit's population."""
    return {
        "population": population,
        "minimum_sample": minimum_sample(population),
        "sufficient": sample_sufficient(responses, population),
    }


async def respondents(
    session: AsyncSession,
    *,
    tenant: Tenant,
    period: str | None,
    start: date | None,
    end: date | None,
    limit: int | None,
    offset: int = 0,
    **filters: str | None,
) -> tuple[list[Response], int, date, date]:
    """A page of a tenant's respondents over a period with filters, and the total count."""
    this_year = local_date(utcnow(), tenant.timezone).year
    first, last = resolve_period(period, start, end, this_year)
    query = repository.ResponseFilter(tenant=tenant.code, start=first, end=last, **filters)
    rows, total = await repository.list_responses(session, query, limit=limit, offset=offset)
    return rows, total, first, last


async def live_snapshot(session: AsyncSession, tenant: Tenant, unit: str | None) -> dict[str, Any]:
    """What the live page shows: this year's IKM, the count, per-unsur bars, the latest saran."""
    report = await ikm_report(
        session, tenant=tenant, unit_code=unit, start=None, end=None,
        scheme_id="permenpan-14-2017", population=None,
    )  # fmt: skip
    saran = await repository.latest_suggestions(session, tenant.code, unit)
    return {
        "tenant": tenant.code, "unit": unit, "responses": report["responses"],
        "headline": report["headline"], "from": report["from"], "to": report["to"],
        "unsur": [{"code": u["code"], "name": u["name"], "konversi": u["konversi"]}
                  for u in report["unsur"]],
        "saran": [{"unit": u, "date": d.isoformat(), "text": t} for u, d, t in saran],
    }  # fmt: skip
