"""Survey rules: which units take answers, what a response announces, how the IKM is reported."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from services.survey import repository, tickets
from services.survey.ikm import (
    PERMENPAN_14_2017_UNSUR,
)
from services.survey.intake import Intake, submission_keys
from services.survey.models import Guide, Response
from services.survey.schemas import PaperResponseCreate, ResponseCreate
from services.survey.statuses import Channel
from shared.contracts import ParticipantRegisteredV1, ResponseSubmittedV1, utcnow
from shared.dates import local_date
from shared.outbox import outbox_row
from shared.problems import Problem
from shared.process_cache import ProcessCache
from shared.tenants import Tenant

SOURCE = "survey"
UNSUR_CODES = tuple(u.code for u in PERMENPAN_14_2017_UNSUR)


class UnitNotAccepting(Problem):
    """The unit does not exist or no longer takes answers (fact: unit)."""


class UnknownGuideCode(Problem):
    """A guide code that is no registered guide's of the tenant."""


class IdempotencyKeyReused(Problem):
    """An Idempotency-Key already used for other answers."""


class FormTokenReused(Problem):
    """A form load already submitted with other answers."""


async def seed_units(session: AsyncSession, tenants: Mapping[str, Tenant]) -> int:
    """Upserts every tenant's survey units from its tenant file; units it dropped go inactive."""
    seeded = 0
    for tenant in tenants.values():
        for code, name in tenant.survey_units.items():
            await repository.upsert_unit(session, tenant=tenant.code, code=code, name=name)
            seeded += 1
        await repository.deactivate_units_except(session, tenant.code, list(tenant.survey_units))
    return seeded


# How long a process trusts its copy of a tenant's active units. Units change only when a
# process seeds them from its tenant file at start-up (before it serves, so its own copy starts
# fresh); another replica started with a changed tenant file shows here within this time.
UNIT_CACHE_S = 30.0


@dataclass(frozen=True, slots=True)
class ActiveUnit:
    """A unit that takes answers: what the form, the poster and a response need of it."""

    tenant: str
    code: str
    name: str


class UnitCache:
    """Each tenant's active units, read at most once per `ttl_s` per process.

    A whole tenant's units are read at once (tens of rows), so an unknown code is answered from
    the copy too, and the copy stays as small as the tenant files.
    """

    def __init__(self, ttl_s: float = UNIT_CACHE_S) -> None:
        self._units: ProcessCache[str, dict[str, ActiveUnit]] = ProcessCache(ttl_s=ttl_s)

    @property
    def ttl_s(self) -> float | None:
        """How long a tenant's copy is used before the units are read again."""
        return self._units.ttl_s

    @ttl_s.setter
    def ttl_s(self, seconds: float) -> None:
        self._units.ttl_s = seconds

    async def active(self, session: AsyncSession, tenant: str) -> dict[str, ActiveUnit]:
        """A tenant's active units by code, from the copy while it is younger than ttl_s."""
        units = self._units.get(tenant)
        if units is None:
            rows = await repository.list_active_units(session, tenant)
            units = {u.code: ActiveUnit(u.tenant, u.code, u.name) for u in rows}
            self._units.put(tenant, units)
        return units

    def clear(self) -> None:
        """Forgets every copy: the next request reads the units again."""
        self._units.clear()


async def get_active_unit(
    session: AsyncSession, tenant: Tenant, code: str, units: UnitCache | None = None
) -> ActiveUnit:
    """Gets an active unit of a tenant (from the process's copy when given) or raises
    UnitNotAccepting."""
    if units is not None:
        found = (await units.active(session, tenant.code)).get(code)
    else:
        row = await repository.get_unit(session, tenant.code, code)
        found = ActiveUnit(row.tenant, row.code, row.name) if row and row.active else None
    if found is None:
        raise UnitNotAccepting(unit=code)
    return found


def age_band(age: int | None) -> str | None:
    """The age band reports show (never the exact age): <20, 20-29, ..., 60+."""
    if age is None:
        return None
    if age < 20:
        return "<20"
    if age >= 60:
        return "60+"
    low = age // 10 * 10
    return f"{low}-{low + 9}"


async def submit_response(
    session: AsyncSession,
    *,
    tenant: Tenant,
    unit_code: str,
    data: ResponseCreate,
    correlation_id: str,
    intake: Intake,
    units: UnitCache | None = None,
) -> tuple[Response, bool]:
    """Stores answers and queues ResponseSubmittedV1 (no personal data) with them.

    Returns (response, created); a resubmission (same Idempotency-Key, or the same body from
    the same device within the duplicate window) returns the first response, created False.
    """
    unit = await get_active_unit(session, tenant, unit_code, units)
    guide = None
    if intake.guide_code is not None:
        guide = await find_guide(session, tenant, intake.guide_code)
        intake = replace(intake, guide_code=guide.code)
    now = utcnow()
    keys = submission_keys(unit.code, data, intake, now)
    row = _new_row(tenant, unit.code, data, intake, now)
    response = Response(**row)  # not added to the session: the statement below stores it
    event = _submitted_event(response, data, correlation_id)
    if guide is not None:
        event = event.model_copy(update={"guide_registration_id": guide.registration_id})
    outbox = outbox_row(event)
    outcome = await repository.store_submission(
        session, row=row, lookup=keys.lookup, keys=keys.insert, body_hash=keys.body_hash,
        now=now, event=outbox,
    )  # fmt: skip
    if not outcome.stored:
        # A key was taken: by an earlier submission, or by a twin that committed first (then
        # only the keys it took lead to it; ours point to it too from now on).
        taken = [k for k in keys.lookup if k not in outcome.claimed]
        found = outcome.found or await repository.find_submission(
            session, tenant.code, taken, keys.body_hash
        )
        if found is not None:
            if outcome.claimed:
                await repository.repoint_submission_keys(
                    session, tenant.code, sorted(outcome.claimed), found
                )
            return await _first_response(session, found, keys.body_hash, intake), False
        await repository.insert_response(session, row=row, event=outbox)  # its key went again
    await tickets.open_ticket(session, response, correlation_id)
    return response, True


def code_of(registration_id: uuid.UUID) -> str:
    """The code a guide types: the first 8 characters of the registration id, upper case."""
    return registration_id.hex[:8].upper()


async def record_guide(session: AsyncSession, event: ParticipantRegisteredV1) -> None:
    """Remembers a registered participant as a guide: registration id, code and tenant only."""
    await repository.record_guide(
        session, registration_id=event.registration_id, tenant=event.tenant,
        code=code_of(event.registration_id),
    )  # fmt: skip


async def find_guide(session: AsyncSession, tenant: Tenant, code: str) -> Guide:
    """A guide of the tenant by code (or registration id); an unknown code is UnknownGuideCode."""
    guide = await repository.find_guide(session, tenant.code, code.strip())
    if guide is None:
        raise UnknownGuideCode()
    return guide


async def _first_response(
    session: AsyncSession, found: repository.FoundSubmission, body_hash: str, intake: Intake
) -> Response:
    """The response a resubmission collapses into; a key reused for other answers is refused."""
    if found.body_hash != body_hash:
        if intake.idempotency_key is None and intake.form_token is not None:
            raise FormTokenReused()
        raise IdempotencyKeyReused()
    response = await repository.get_response(session, found.response_id)
    if response is None:  # keys and responses are written in one transaction
        raise RuntimeError(f"submission key without response {found.response_id}")
    return response


def _new_row(
    tenant: Tenant, unit: str, data: ResponseCreate, intake: Intake, now: datetime
) -> dict[str, Any]:
    """The row of a new response (every column); a paper form's own time decides its date."""
    submitted_at = intake.submitted_at or now
    return {
        "id": uuid.uuid4(),
        "tenant": tenant.code,
        "unit": unit,
        "submitted_at": submitted_at.astimezone(UTC),
        "local_date": local_date(submitted_at, tenant.timezone),
        "scores": data.scores.model_dump(),
        "service_type": data.service_type,
        "gender": data.gender,
        "age": data.age,
        "education": data.education,
        "occupation": data.occupation,
        "suggestion": data.suggestion,
        "name": data.name,
        "phone": data.phone,
        "phone_consent": data.phone_consent,
        "channel": str(intake.channel),
        "guide_code": intake.guide_code,
    }


def _submitted_event(
    response: Response, data: ResponseCreate, correlation_id: str
) -> ResponseSubmittedV1:
    """The event announcing a response: scores and profile bands, never name or phone."""
    return ResponseSubmittedV1(
        # The response id doubles as the event id: the rebuild knows which were aggregated.
        event_id=response.id,
        tenant=response.tenant,
        source=SOURCE,
        correlation_id=correlation_id,
        response_id=response.id,
        unit=response.unit,
        submitted_at=response.submitted_at,
        local_date=response.local_date,
        scores=response.scores,
        service_type=data.service_type,
        gender=data.gender,
        age_band=age_band(data.age),
        education=data.education,
        occupation=data.occupation,
        guided=response.guide_code is not None,
        channel=response.channel,
    )


@dataclass(frozen=True, slots=True)
class ImportOutcome:
    """What an import stored: new responses and rows already imported before."""

    imported: int
    duplicates: int


async def import_forms(
    session: AsyncSession,
    *,
    tenant: Tenant,
    unit_code: str,
    rows: list[tuple[int, PaperResponseCreate]],
    file_key: str,
    correlation_id: str,
) -> ImportOutcome:
    """Stores a file's valid paper forms; the same file uploaded again adds nothing."""
    await get_active_unit(session, tenant, unit_code)
    imported = duplicates = 0
    for number, data in rows:
        intake = Intake(
            channel=Channel.IMPOR, idempotency_key=f"impor:{file_key}:{number}",
            submitted_at=data.submitted_at, guide_code=data.guide_code,
        )  # fmt: skip
        _response, created = await submit_response(
            session, tenant=tenant, unit_code=unit_code, data=data,
            correlation_id=correlation_id, intake=intake,
        )  # fmt: skip
        imported, duplicates = imported + created, duplicates + (not created)
    return ImportOutcome(imported, duplicates)


async def prune_device_keys(session: AsyncSession, window_s: int) -> int:
    """Forgets same-device keys older than two windows: no resubmission can match them."""
    return await repository.prune_device_keys(
        session, utcnow() - timedelta(seconds=2 * window_s + 60)
    )
