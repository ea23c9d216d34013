"""Registration rules: sign-up, capacity and waiting list, cancellation, and what they announce.

The capacity rule (who gets a place, who waits at which position, who moves up) works on an
activity's maintained counts and on a `WaitingList` port: the database's in production
(`repository.SqlWaitingList`), an in-memory fake in the unit tests.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from services.registration import repository
from services.registration.models import Activity, Registration, RegistrationStatus
from services.registration.schemas import RegistrationCreate
from shared.contracts import (
    ParticipantCancelledV1,
    ParticipantRegisteredV1,
    utcnow,
)
from shared.dates import as_utc
from shared.db import mark_after_commit
from shared.logging import get_logger
from shared.outbox import add_event, outbox_row
from shared.problems import Problem
from shared.process_cache import ProcessCache
from shared.tenants import Tenant, TenantUnavailable

SOURCE = "registration"
log = get_logger(__name__)
# Version of the consent notice on the form (templates/consent.html); stored per registration.
CONSENT_VERSION = "2026-11-v1"
_CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I/L: read aloud at the door
WAITLISTED = RegistrationStatus.WAITLISTED


class ActivityNotFound(Problem):
    """No such activity (kegiatan): a mistyped or stale link."""


class RegistrationClosed(Problem):
    """The activity's registration was closed by an operator, or its window has passed."""


class RegistrationNotOpenYet(Problem):
    """The activity's registration window has not begun."""


class LevelNotOffered(Problem):
    """A level (jenjang) the kecamatan does not list (fact: levels, the ones it does)."""


class DesaNotServed(Problem):
    """A desa/kelurahan outside the kecamatan (facts: desa, kecamatan)."""


class ConfirmationLinkUnknown(Problem):
    """A confirmation link whose token opens no registration."""


class RegistrationNotFound(Problem):
    """No such registration."""


class RegistrationNotInActivity(Problem):
    """No such registration in the activity the request names."""


class AlreadyAttended(Problem):
    """A checked-in registration cannot be cancelled."""


class CapacityBelowRegistered(Problem):
    """A capacity below the activity's registered count (fact: registered)."""


class WaitingList(Protocol):
    """An activity's waiting list as the capacity rule needs it (positions 1..n)."""

    async def first(self, activity_id: uuid.UUID) -> Registration | None:
        """The first on the activity's waiting list (the lowest position), if anyone waits."""
        ...

    async def move_up(self, activity_id: uuid.UUID, after: int) -> None:
        """Moves everyone waiting behind position `after` one place forward."""
        ...


@dataclass
class SignUp:
    """The outcome of a sign-up: the registration, whether it is new, and its secret token.

    `key_kept`: the KeyedAnswer's answer (`answer`) was stored with the registration; when None
    the key is not stored yet (the caller stores its answer, or replays the one it holds).
    """

    registration: Registration
    created: bool
    token: str | None = None
    answer: dict[str, Any] | None = None
    key_kept: bool | None = None


@dataclass
class KeyedAnswer:
    """An Idempotency-Key to store with a new sign-up: its scope, key, the request's hash, and
    `render`, which makes a sign-up's 201 answer."""

    scope: str
    key: str
    digest: str
    render: Callable[[SignUp], dict[str, Any]]


def tenant_for(tenants: dict[str, Tenant], code: str) -> Tenant:
    """Gets an activity's kecamatan; a missing tenant file is a 503 for people, an error for ops."""
    tenant = tenants.get(code)
    if tenant is None:
        log.error("tenant.file_missing", tenant=code, hint="tenant file absent")
        raise TenantUnavailable(code)
    return tenant


def hash_token(token: str) -> str:
    """Hashes a confirmation token: the database never holds a token that opens a page."""
    return hashlib.sha256(token.encode()).hexdigest()


def new_code() -> str:
    """Returns a check-in code: 8 characters, easy to read aloud."""
    return "".join(secrets.choice(_CODE_ALPHABET) for _ in range(8))


def check_participant(tenant: Tenant, data: RegistrationCreate) -> None:
    """Checks the participant's level and desa against the tenant's lists."""
    levels = tenant.participant_levels
    if levels and data.level not in levels:
        raise LevelNotOffered(levels=", ".join(levels))
    if tenant.desa and data.desa and data.desa not in tenant.desa:
        raise DesaNotServed(desa=data.desa, kecamatan=tenant.name)


def check_window(activity: Activity, now: datetime) -> None:
    """Refuses a sign-up outside the activity's registration window or after it was closed."""
    if not activity.registration_open:
        raise RegistrationClosed()
    if activity.registration_opens_at and now < as_utc(activity.registration_opens_at):
        raise RegistrationNotOpenYet()
    if activity.registration_closes_at and now >= as_utc(activity.registration_closes_at):
        raise RegistrationClosed()


def registered_event(
    activity: Activity, registration: Registration, *, causation_id: str | None = None
) -> ParticipantRegisteredV1:
    """Builds the event that tells certificates and consultation about a held place."""
    return ParticipantRegisteredV1(
        tenant=activity.tenant,
        source=SOURCE,
        correlation_id=registration.correlation_id,
        causation_id=causation_id,
        registration_id=registration.id,
        activity_id=activity.id,
        activity_title=activity.title,
        activity_date=activity.date,
        activity_location=activity.location,
        name=registration.name,
        school=registration.school,
        phone=registration.phone,
        level=registration.level,
        desa=registration.desa,
        consent=registration.consent,
        certificate_policy=activity.certificate_policy,
        whatsapp_cohort=activity.whatsapp_cohort,
    )


def take_place(activity: Activity) -> tuple[RegistrationStatus, int | None]:
    """Places a newcomer from the activity's maintained counts and counts them in.

    Registered while places remain and nobody waits (or without a capacity), else waitlisted at
    the end of the list: positions run 1..waitlisted_count. The caller holds the activity's lock.
    A sign-up applies the same rule in its count's UPDATE (repository.count_sign_up).
    """
    free = activity.registered_count < (activity.capacity or 0) and not activity.waitlisted_count
    if activity.capacity is None or free:
        status, position = RegistrationStatus.REGISTERED, None
    else:
        status, position = RegistrationStatus.WAITLISTED, activity.waitlisted_count + 1
    count_place(activity, status, +1)
    return status, position


def count_place(activity: Activity, status: str, delta: int) -> None:
    """Moves an activity's registered or waitlisted count (flushed with the registration)."""
    if status == RegistrationStatus.REGISTERED:
        activity.registered_count += delta
    elif status == RegistrationStatus.WAITLISTED:
        activity.waitlisted_count += delta


def check_capacity(activity: Activity, capacity: int | None) -> None:
    """Refuses a capacity below the activity's registered count (None: no limit)."""
    if capacity is not None and capacity < activity.registered_count:
        raise CapacityBelowRegistered(registered=activity.registered_count)


async def promote(waiting: WaitingList, activity: Activity) -> Registration | None:
    """Moves the first waitlisted into a free place, if there is one (caller holds the lock)."""
    if activity.capacity is not None and activity.registered_count >= activity.capacity:
        return None
    first = await waiting.first(activity.id)
    if first is None:
        return None
    position = first.waitlist_position or 0
    first.status = RegistrationStatus.REGISTERED
    first.waitlist_position = None
    count_place(activity, RegistrationStatus.WAITLISTED, -1)
    count_place(activity, RegistrationStatus.REGISTERED, +1)
    await waiting.move_up(activity.id, position)
    return first


async def fill_places(waiting: WaitingList, activity: Activity) -> list[Registration]:
    """Promotes from the waiting list, in order, into every free place (after a larger capacity)."""
    promoted = []
    while (first := await promote(waiting, activity)) is not None:
        promoted.append(first)
    return promoted


async def release_place(
    waiting: WaitingList, activity: Activity, registration: Registration
) -> Registration | None:
    """Cancels a registration's place: a waitlisted one's gap closes, a registered one's freed
    place goes to the first on the waiting list (returned, or None)."""
    previous, position = registration.status, registration.waitlist_position
    registration.status = RegistrationStatus.CANCELLED
    registration.waitlist_position = None
    count_place(activity, previous, -1)
    if previous == RegistrationStatus.WAITLISTED and position is not None:
        await waiting.move_up(activity.id, position)
        return None
    return await promote(waiting, activity)


async def register_participant(
    session: AsyncSession,
    *,
    activity_id: uuid.UUID,
    tenant_of: dict[str, Tenant],
    data: RegistrationCreate,
    correlation_id: str,
    answer: KeyedAnswer | None = None,
) -> SignUp:
    """Registers a participant once per phone per activity, on the waiting list when it is full.

    A repeat with the same phone while its registration is active changes nothing; after a
    cancellation the phone may sign up again (a new registration; the cancelled one stays).
    ParticipantRegisteredV1 is queued in the same transaction only for a held place.
    Holding the activity's lock it sends three statements: the count that takes the lock and
    places the sign-up (take_place's rule, in SQL), the insert that is also the duplicate check,
    the event. A repeat or a refusal rolls the count back, then reads the active registration
    outside the lock, so the answers keep their order (unknown, already registered, refused).
    On PostgreSQL, an event this process has counted on before takes one statement instead
    (_sign_up_at_once), with the key's answer when there is one.
    """
    token = secrets.token_urlsafe(32)
    registration = _new_registration(activity_id, data, correlation_id, token)
    known = _COUNTED.get(activity_id)
    if known is not None and not session.in_transaction():
        signup = await _sign_up_at_once(
            session, known, registration, token, tenant_of, data, answer
        )
        if signup is not None:
            return signup
    # Round again only when the phone's active registration was cancelled between this one's
    # refused insert and the read after it: each round needs another such cancellation.
    while (refusal := await _try_sign_up(session, registration, tenant_of, data)) is not None:
        await session.rollback()  # the count taken, nothing else
        existing = await repository.find_registration(session, activity_id, data.phone)
        if existing is not None:
            return SignUp(existing, created=False)
        if not isinstance(refusal, _Repeat):
            raise refusal
    return SignUp(registration, created=True, token=token)


def _new_registration(
    activity_id: uuid.UUID, data: RegistrationCreate, correlation_id: str, token: str
) -> Registration:
    """The sign-up's row before it is placed (tenant, status and position come with the count)."""
    return Registration(
        id=uuid.uuid4(),
        activity_id=activity_id,
        name=data.name,
        school=data.school,
        phone=data.phone,
        level=data.level,
        desa=data.desa,
        consent=data.consent,
        consent_version=CONSENT_VERSION,
        correlation_id=correlation_id,
        code=new_code(),
        token_hash=hash_token(token),
    )


class _Repeat(Exception):
    """The phone holds an active registration for the activity (the insert changed nothing)."""


async def _try_sign_up(
    session: AsyncSession,
    registration: Registration,
    tenant_of: dict[str, Tenant],
    data: RegistrationCreate,
) -> Exception | None:
    """Takes a place or a waiting-list position and inserts the registration; returns why not
    (the caller rolls back): a refusal of the activity or the participant, or a repeat.
    """
    now = utcnow()
    activity = await repository.count_sign_up(session, registration.activity_id)
    if activity is None:
        raise ActivityNotFound()
    _COUNTED.put(activity.id, activity)
    try:
        check_window(activity, now)
        check_participant(tenant_for(tenant_of, activity.tenant), data)
    except Problem as refusal:
        return refusal
    waiting = activity.capacity is not None and activity.waitlisted_count > 0
    registration.tenant = activity.tenant
    registration.created_at = now
    registration.status = WAITLISTED if waiting else RegistrationStatus.REGISTERED
    registration.waitlist_position = activity.waitlisted_count if waiting else None
    values = {column: getattr(registration, column) for column in _COLUMNS}
    if not await repository.insert_registration(session, values):
        return _Repeat()
    if not waiting:
        await add_event(session, registered_event(activity, registration))
    return None


_COLUMNS = (
    "id", "activity_id", "tenant", "name", "school", "phone", "level", "desa", "consent",
    "consent_version", "correlation_id", "created_at", "status", "waitlist_position", "code",
    "token_hash",
)  # fmt: skip


# Events this process counted a sign-up on, as they were then (counts aside): a sign-up checks
# its window and participant and builds its event from them before it takes the event's lock,
# and the statement's own row of the event tells whether they still hold (else the slow path).
_COUNTED: ProcessCache[uuid.UUID, Activity] = ProcessCache(size=1024)


def _terms(activity: Activity) -> tuple[object, ...]:
    """What a sign-up reads of its event besides the counts: window, tenant, event fields."""
    return tuple(getattr(activity, term) for term in repository.SIGN_UP_TERMS)


async def _sign_up_at_once(
    session: AsyncSession,
    known: Activity,
    registration: Registration,
    token: str,
    tenant_of: dict[str, Tenant],
    data: RegistrationCreate,
    answer: KeyedAnswer | None,
) -> SignUp | None:
    """The sign-up as one statement (repository.sign_up_at_once): the count, the registration,
    its event for a held place and the key's answer, all or nothing. None when the slow path
    must answer, with nothing written: the event as last counted refuses the sign-up or has
    changed since, the phone holds an active registration, or the key an answer.
    """
    now = utcnow()
    try:
        check_window(known, now)
        check_participant(tenant_for(tenant_of, known.tenant), data)
    except Problem:
        return None
    signup = SignUp(registration, created=True, token=token)
    values = _statement_values(known, registration, now)
    values.update({f"a_{term}": getattr(known, term) for term in repository.SIGN_UP_TERMS})
    waitlisted = ""
    if answer is not None:
        waitlisted = _keyed_values(values, signup, answer, now)
    done = await repository.sign_up_at_once(session, values)
    if done is None:
        return None
    registration.status, registration.waitlist_position = done.status, done.waitlist_position
    if registration.status == RegistrationStatus.REGISTERED:
        mark_after_commit(session)
    if answer is not None:
        signup.key_kept = True
        if registration.status == WAITLISTED:
            position = str(done.waitlist_position)
            signup.answer = json.loads(waitlisted.replace(values["k_mark"], position))
    return signup


def _statement_values(known: Activity, registration: Registration, now: datetime) -> dict[str, Any]:
    """The one statement's registration and outbox values, the event built as for a place."""
    registration.tenant = known.tenant
    registration.created_at = now
    registration.status = RegistrationStatus.REGISTERED
    registration.waitlist_position = None
    event = registered_event(known, registration)
    values: dict[str, Any] = {"activity_id": registration.activity_id}
    values.update({f"r_{c}": getattr(registration, c) for c in repository.SIGN_UP_COLUMNS})
    values.update({f"e_{c}": v for c, v in outbox_row(event, created_at=now).items()})
    return values


def _keyed_values(
    values: dict[str, Any], signup: SignUp, answer: KeyedAnswer, now: datetime
) -> str:
    """Adds the key's values: the answer for a place (kept as signup.answer) and the answer for
    the waiting list with a random number standing for the position (`k_mark`, which the
    statement replaces); returns the latter."""
    registration = signup.registration
    signup.answer = answer.render(signup)
    mark = str(secrets.randbelow(9 * 10**17) + 10**17)
    registration.status, registration.waitlist_position = WAITLISTED, int(mark)
    waitlisted = json.dumps(answer.render(signup), default=str)
    registration.status, registration.waitlist_position = RegistrationStatus.REGISTERED, None
    values.update(
        k_scope=answer.scope,
        k_key=answer.key,
        k_request_hash=answer.digest,
        k_status_code=201,
        k_created_at=now,
        k_registered=json.dumps(signup.answer, default=str),
        k_waitlisted=waitlisted,
        k_mark=mark,
    )
    return waitlisted


async def by_token(session: AsyncSession, token: str) -> Registration:
    """Gets the registration a confirmation token opens, or raises ConfirmationLinkUnknown."""
    registration = await repository.by_token_hash(session, hash_token(token))
    if registration is None:
        raise ConfirmationLinkUnknown()
    return registration


async def get_activity(session: AsyncSession, activity_id: uuid.UUID) -> Activity:
    """Gets an activity or raises ActivityNotFound."""
    activity = await repository.get_activity(session, activity_id)
    if activity is None:
        raise ActivityNotFound()
    return activity


async def cancel(
    session: AsyncSession,
    registration_id: uuid.UUID,
    *,
    by: str,
    actor: str,
    activity_id: uuid.UUID | None = None,
) -> tuple[Registration, Registration | None]:
    """Cancels a registration and promotes the first on the waiting list into a freed place.

    Returns (cancelled, promoted). Cancelling twice is harmless; a checked-in one is refused.
    With `activity_id`, a registration of another activity is not found.
    """
    found = await repository.get_registration(session, registration_id)
    if activity_id is not None and (found is None or found.activity_id != activity_id):
        raise RegistrationNotInActivity()
    if found is None:
        raise RegistrationNotFound()
    activity = await repository.lock_activity(session, found.activity_id)
    assert activity is not None  # a registration's activity is never deleted
    await session.refresh(found)
    registration = found
    if registration.status == RegistrationStatus.CANCELLED:
        return registration, None
    if registration.checked_in_at is not None:
        raise AlreadyAttended()
    previous = registration.status
    registration.cancelled_at = utcnow()
    registration.cancelled_by = actor
    promoted = await release_place(repository.SqlWaitingList(session), activity, registration)
    cancelled = ParticipantCancelledV1(
        tenant=activity.tenant,
        source=SOURCE,
        correlation_id=registration.correlation_id,
        registration_id=registration.id,
        activity_id=activity.id,
        cancelled_at=registration.cancelled_at,
        reason="dibatalkan peserta" if by == "participant" else "dibatalkan petugas",
        previous_status=previous,
        cancelled_by=by,
        promoted_registration_id=promoted.id if promoted else None,
    )
    await add_event(session, cancelled)
    if promoted is not None:
        event = registered_event(activity, promoted, causation_id=str(cancelled.event_id))
        await add_event(session, event)
    return registration, promoted
