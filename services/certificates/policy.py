"""Which registrations get a certificate, and when: the event's policy, check-ins and
cancellations (a cancelled registration gets none; one already issued is revoked)."""

from __future__ import annotations

import json
import uuid

from services.certificates import service
from services.certificates.models import (
    POLICY_ON_CHECK_IN,
    STATUS_REVOKED,
    Certificate,
    Participant,
)
from services.certificates.service import CertificateStore
from shared.contracts import (
    CertificateRevokedV1,
    ParticipantCancelledV1,
    ParticipantCheckedInV1,
    ParticipantRegisteredV1,
)
from shared.logging import get_logger
from shared.tenants import Tenant

CANCELLED_REASON = "Pendaftaran dibatalkan."
log = get_logger(__name__)


async def _participant(
    store: CertificateStore, registration_id: uuid.UUID, tenant: str, activity_id: uuid.UUID
) -> Participant:
    # Insert-if-absent, then lock: a registration, its check-in and its cancellation handled
    # at once by different consumers take turns on this row instead of racing.
    return await store.lock_participant(
        registration_id=registration_id, tenant=tenant, activity_id=activity_id
    )


async def on_registered(
    store: CertificateStore,
    event: ParticipantRegisteredV1,
    *,
    tenant: Tenant | None,
    number_code: str,
) -> Certificate | None:
    """Records a registration; issues now unless its event issues on check-in."""
    ids = service.log_ids(event)
    found = service.require_tenant(tenant, event.tenant, ids)
    participant = await _participant(store, event.registration_id, found.code, event.activity_id)
    participant.policy = event.certificate_policy
    if event.certificate_policy == POLICY_ON_CHECK_IN:
        # Kept for the check-in, without the phone: only what the certificate prints.
        participant.registered_event = event.model_dump_json(exclude={"phone"})
    await store.flush()
    return await _issue_if_due(store, participant, event, found, number_code)


async def on_registered_many(
    store: CertificateStore,
    events: list[ParticipantRegisteredV1],
    *,
    tenants: dict[str, Tenant],
    number_code: str,
) -> list[Certificate]:
    """on_registered for a batch in one transaction: the participants are recorded and locked
    in two statements and the due certificates numbered together (service.allocate_many)."""
    found = [
        service.require_tenant(tenants.get(e.tenant), e.tenant, service.log_ids(e)) for e in events
    ]
    keys = [(e.registration_id, t.code, e.activity_id) for e, t in zip(events, found, strict=True)]
    participants = await store.lock_participants(keys)
    for event in events:
        participant = participants[event.registration_id]
        participant.policy = event.certificate_policy
        if event.certificate_policy == POLICY_ON_CHECK_IN:
            participant.registered_event = event.model_dump_json(exclude={"phone"})
    await store.flush()
    due = [
        (event, tenant)
        for event, tenant in zip(events, found, strict=True)
        if _due(participants[event.registration_id], event)
    ]
    return await service.allocate_many(store, due, number_code=number_code)


async def on_checked_in(
    store: CertificateStore,
    event: ParticipantCheckedInV1,
    *,
    tenant: Tenant | None,
    number_code: str,
) -> Certificate | None:
    """Records a check-in; issues the certificate of an event that issues on attendance."""
    ids = service.log_ids(event)
    found = service.require_tenant(tenant, event.tenant, ids)
    participant = await _participant(store, event.registration_id, found.code, event.activity_id)
    participant.checked_in_at = participant.checked_in_at or event.checked_in_at
    await store.flush()
    if participant.registered_event is None:
        log.info("certificate.check_in_before_registration", **ids)
        return None
    registered = _registered_from(participant.registered_event)
    return await _issue_if_due(store, participant, registered, found, number_code)


def _registered_from(stored: str) -> ParticipantRegisteredV1:
    data = json.loads(stored)
    data["phone"] = ""  # never stored
    return ParticipantRegisteredV1.model_validate(data)


async def _issue_if_due(
    store: CertificateStore,
    participant: Participant,
    event: ParticipantRegisteredV1,
    tenant: Tenant,
    number_code: str,
) -> Certificate | None:
    if not _due(participant, event):
        return None
    return await service.allocate(store, event, tenant=tenant, number_code=number_code)


def _due(participant: Participant, event: ParticipantRegisteredV1) -> bool:
    ids = service.log_ids(event)
    if participant.cancelled_at is not None:
        log.info("certificate.not_issued_cancelled", **ids)
        return False
    if participant.policy == POLICY_ON_CHECK_IN and participant.checked_in_at is None:
        log.info("certificate.waiting_for_check_in", **ids)
        return False
    return True


async def on_cancelled(
    store: CertificateStore, event: ParticipantCancelledV1
) -> CertificateRevokedV1 | None:
    """A cancelled registration gets no certificate; one already issued is revoked."""
    participant = await _participant(store, event.registration_id, event.tenant, event.activity_id)
    participant.cancelled_at = participant.cancelled_at or event.cancelled_at
    certificate = await store.find_by_registration(event.registration_id, lock=True)
    if certificate is None or certificate.status == STATUS_REVOKED:
        return None
    revoked = service.revoke(certificate, CANCELLED_REASON, correlation_id=event.correlation_id)
    await store.flush()
    log.info("certificate.revoked", certificate_id=str(certificate.id), tenant=event.tenant)
    return revoked.model_copy(update={"causation_id": str(event.event_id)})
