"""Survey rules: which units take answers, what a response announces, how the IKM is reported."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from services.survey import repository, tickets
from services.survey.ikm import (
    PERMENPAN_14_2017_UNSUR,
)
from services.survey.intake import Intake, submission_keys
from services.survey.models import Guide, Response, Unit
from services.survey.schemas import PaperResponseCreate, ResponseCreate
from services.survey.statuses import Channel
from shared.contracts import ParticipantRegisteredV1, ResponseSubmittedV1, utcnow
from shared.dates import local_date
from shared.outbox import add_event
from shared.problems import Problem
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


async def get_active_unit(session: AsyncSession, tenant: Tenant, code: str) -> Unit:
    """Gets an active unit of a tenant or raises UnitNotAccepting."""
    unit = await repository.get_unit(session, tenant.code, code)
    if unit is None or not unit.active:
        raise UnitNotAccepting(unit=code)
    return unit


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
) -> tuple[Response, bool]:
    """Stores answers and queues ResponseSubmittedV1 (no personal data) with them.

    Returns (response, created); a resubmission (same Idempotency-Key, or the same body from
    the same device within the duplicate window) returns the first response, created False.
    """
    unit = await get_active_unit(session, tenant, unit_code)
    guide = None
    if intake.guide_code is not None:
        guide = await find_guide(session, tenant, intake.guide_code)
        intake = replace(intake, guide_code=guide.code)
    now = utcnow()
    keys = submission_keys(unit.code, data, intake, now)
    existing = await repository.find_submission(session, tenant.code, keys.lookup, keys.body_hash)
    if existing is not None:
        return await _first_response(session, existing, keys.body_hash, intake), False
    response = _new_response(tenant, unit.code, data, intake, now)
    taken = await repository.claim_submission_keys(
        session, tenant.code, keys.insert, response.id, keys.body_hash, now
    )
    if taken is not None:  # a concurrent twin committed first
        return await _first_response(session, taken, keys.body_hash, intake), False
    await repository.add_response(session, response)
    await tickets.open_ticket(session, response, correlation_id)
    event = _submitted_event(response, data, correlation_id)
    if guide is not None:
        event = event.model_copy(update={"guide_registration_id": guide.registration_id})
    await add_event(session, event)
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


def _new_response(
    tenant: Tenant, unit: str, data: ResponseCreate, intake: Intake, now: datetime
) -> Response:
    """Builds the row for a new response; a paper form's own time decides its local date."""
    submitted_at = intake.submitted_at or now
    return Response(
        id=uuid.uuid4(),
        tenant=tenant.code,
        unit=unit,
        submitted_at=submitted_at.astimezone(UTC),
        local_date=local_date(submitted_at, tenant.timezone),
        scores=data.scores.model_dump(),
        service_type=data.service_type,
        gender=data.gender,
        age=data.age,
        education=data.education,
        occupation=data.occupation,
        suggestion=data.suggestion,
        name=data.name,
        phone=data.phone,
        phone_consent=data.phone_consent,
        channel=intake.channel,
        guide_code=intake.guide_code,
    )


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
