"""Issuing, numbering and revoking certificates, against an in-memory store (no database).

The component tests (test_certificates_lifecycle, test_certificates_api, ...) check the same
rules on SQLite and PostgreSQL with real streams and replicas racing; these pin the rules
themselves: which registration gets a number, which number, and what a revocation stops.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

import pytest

from services.certificates import policy, service
from services.certificates.models import (
    POLICY_ON_CHECK_IN,
    STATUS_REVOKED,
    STATUS_VALID,
    Certificate,
    Participant,
)
from services.certificates.service import FinishedRender
from shared.contracts import (
    CertificateIssuedV1,
    ParticipantCancelledV1,
    ParticipantCheckedInV1,
    ParticipantRegisteredV1,
)
from shared.tenants import Tenant

CODE = "SERT-MENJAMU"
URL = "https://menjamu.example"
MOJOSARI = Tenant(code="mojosari", name="Kecamatan Mojosari", timezone="Asia/Jakarta")
PUNGGING = Tenant(code="pungging", name="Kecamatan Pungging", timezone="Asia/Jakarta")
TENANTS = {t.code: t for t in (MOJOSARI, PUNGGING)}
ACTIVITY = uuid.uuid4()


class DuplicateKey(Exception):
    """What the database's unique constraints would raise."""


@dataclass
class FakeCertificates:
    """Certificates, counters and participants in dicts, with the table's unique keys (one
    certificate per registration, one number per kecamatan) checked the way the database does."""

    certificates: dict[uuid.UUID, Certificate] = field(default_factory=dict)
    counters: dict[tuple[str, int], int] = field(default_factory=dict)
    participants: dict[uuid.UUID, Participant] = field(default_factory=dict)

    async def get(self, certificate_id: uuid.UUID, *, lock: bool = False) -> Certificate | None:
        return self.certificates.get(certificate_id)

    async def find_by_registration(
        self, registration_id: uuid.UUID, *, lock: bool = False
    ) -> Certificate | None:
        found = [c for c in self.certificates.values() if c.registration_id == registration_id]
        return found[0] if found else None

    async def issued_registrations(self, registration_ids: set[uuid.UUID]) -> set[uuid.UUID]:
        return {c.registration_id for c in self.certificates.values()} & registration_ids

    async def next_sequence(self, tenant: str, year: int, count: int = 1) -> int:
        self.counters[(tenant, year)] = self.counters.get((tenant, year), 0) + count
        return self.counters[(tenant, year)]

    async def add_all(self, certificates: list[Certificate]) -> None:
        for certificate in certificates:
            for other in self.certificates.values():
                if other.registration_id == certificate.registration_id:
                    raise DuplicateKey("uq_certificate_registration")
                if (other.tenant, other.number) == (certificate.tenant, certificate.number):
                    raise DuplicateKey("uq_certificate_number")
            self.certificates[certificate.id] = certificate

    async def lock_participants(
        self, keys: list[tuple[uuid.UUID, str, uuid.UUID]]
    ) -> dict[uuid.UUID, Participant]:
        return {
            r: await self.lock_participant(registration_id=r, tenant=t, activity_id=a)
            for r, t, a in keys
        }

    async def lock_participant(
        self, *, registration_id: uuid.UUID, tenant: str, activity_id: uuid.UUID
    ) -> Participant:
        if registration_id not in self.participants:
            self.participants[registration_id] = Participant(
                registration_id=registration_id, tenant=tenant, activity_id=activity_id
            )
        return self.participants[registration_id]

    async def flush(self) -> None:
        return None

    async def finish(
        self, done: list[tuple[uuid.UUID, int, str]], *, now: datetime
    ) -> list[FinishedRender]:
        finished = [self._finish_one(i, generation=g, key=k, now=now) for i, g, k in done]
        return [f for f in finished if f is not None]

    def _finish_one(
        self, certificate_id: uuid.UUID, *, generation: int, key: str, now: datetime
    ) -> FinishedRender | None:
        c = self.certificates.get(certificate_id)
        if c is None or not c.needs_render:
            return None
        first = c.announced_at is None
        c.pdf_key, c.rendered_at, c.render_lease_until = key, now, None
        c.needs_render = c.generation != generation
        if first:
            c.announced_at = now
        else:
            c.reissued_at = now
        return FinishedRender(
            id=c.id,
            tenant=c.tenant,
            number=c.number,
            status=c.status,
            registration_id=c.registration_id,
            correlation_id=c.correlation_id,
            causation_id=c.causation_id,
            first=first,
        )

    async def mark_for_reissue(
        self,
        *,
        tenant: str,
        activity_id: uuid.UUID | None,
        certificate_id: uuid.UUID | None,
        activity_title: str | None,
    ) -> int:
        marked = [
            c
            for c in self.certificates.values()
            if c.tenant == tenant
            and c.status == STATUS_VALID
            and activity_id in (None, c.activity_id)
            and certificate_id in (None, c.id)
        ]
        for c in marked:
            c.needs_render, c.generation, c.render_lease_until = True, c.generation + 1, None
            c.activity_title = activity_title or c.activity_title
        return len(marked)

    async def render_progress(
        self, *, tenant: str, activity_id: uuid.UUID | None
    ) -> dict[str, int]:
        rows = [
            c
            for c in self.certificates.values()
            if c.tenant == tenant and activity_id in (None, c.activity_id)
        ]
        return {
            "total": len(rows),
            "waiting": sum(bool(c.needs_render) for c in rows),
            "revoked": sum(c.status != STATUS_VALID for c in rows),
            "reissued": sum(c.reissued_at is not None for c in rows),
        }

    def numbers(self, tenant: str) -> list[str]:
        """The kecamatan's certificate numbers in the order they were given."""
        return [c.number for c in self.certificates.values() if c.tenant == tenant]


def registered(
    tenant: str = "mojosari", policy_: str = "on_registration", **overrides: object
) -> ParticipantRegisteredV1:
    values: dict[str, object] = {
        "tenant": tenant,
        "source": "registration",
        "correlation_id": "c",
        "registration_id": uuid.uuid4(),
        "activity_id": ACTIVITY,
        "activity_title": "Sosialisasi Adminduk",
        "activity_date": date(2026, 12, 5),
        "activity_location": "Pendopo",
        "name": "Ayu Lestari",
        "school": "SMAN 1 Mojosari",
        "phone": "+6281234567890",
        "level": "SMA",
        "consent": True,
        "certificate_policy": policy_,
    }
    values.update(overrides)
    return ParticipantRegisteredV1.model_validate(values)


def checked_in(event: ParticipantRegisteredV1) -> ParticipantCheckedInV1:
    return ParticipantCheckedInV1(
        tenant=event.tenant,
        source="registration",
        correlation_id=event.correlation_id,
        registration_id=event.registration_id,
        activity_id=event.activity_id,
        checked_in_at=datetime(2026, 12, 5, 1, tzinfo=UTC),
    )


def cancelled(event: ParticipantRegisteredV1) -> ParticipantCancelledV1:
    return ParticipantCancelledV1(
        tenant=event.tenant,
        source="registration",
        correlation_id=event.correlation_id,
        registration_id=event.registration_id,
        activity_id=event.activity_id,
        cancelled_at=datetime(2026, 12, 4, 1, tzinfo=UTC),
    )


async def deliver(store: FakeCertificates, event: ParticipantRegisteredV1) -> Certificate | None:
    return await policy.on_registered(
        store, event, tenant=TENANTS.get(event.tenant), number_code=CODE
    )


async def scan(store: FakeCertificates, event: ParticipantRegisteredV1) -> Certificate | None:
    return await policy.on_checked_in(
        store, checked_in(event), tenant=TENANTS.get(event.tenant), number_code=CODE
    )


async def rendered(store: FakeCertificates, certificate: Certificate) -> CertificateIssuedV1 | None:
    return await service.finish_render(
        store,
        certificate.id,
        generation=certificate.generation,
        key=f"pdf/{certificate.id}",
        public_url=URL,
    )


def numbers(tenant: str, year: int, count: int) -> list[str]:
    return [f"{n:04d}/{CODE}/{tenant.upper()}/{year}" for n in range(1, count + 1)]


@pytest.fixture(autouse=True)
def in_2026(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setattr(service, "utcnow", lambda: datetime(2026, 12, 1, 3, tzinfo=UTC))
    yield


async def test_each_kecamatan_numbers_its_certificates_from_one_without_gaps() -> None:
    store = FakeCertificates()
    for tenant in ["mojosari", "pungging", "mojosari", "mojosari", "pungging", "mojosari"]:
        assert await deliver(store, registered(tenant)) is not None

    assert store.numbers("mojosari") == numbers("mojosari", 2026, 4)
    assert store.numbers("pungging") == numbers("pungging", 2026, 2)


async def test_a_second_delivery_of_a_registration_makes_no_second_certificate_nor_number() -> None:
    store = FakeCertificates()
    first = registered()
    certificate = await deliver(store, first)

    assert await deliver(store, first) is None  # the stream delivers again after a crash
    assert await deliver(store, registered()) is not None

    assert certificate is not None and certificate.number == numbers("mojosari", 2026, 1)[0]
    assert store.numbers("mojosari") == numbers("mojosari", 2026, 2)  # no number lost to it
    assert len(store.certificates) == 2


async def test_numbering_starts_again_at_one_in_the_kecamatans_new_year(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    store = FakeCertificates()
    # 23:00 WIB on 31 December, then 00:30 WIB on 1 January (17:30 UTC, still 2026 in UTC).
    for moment in (
        datetime(2026, 12, 31, 16, tzinfo=UTC),
        datetime(2026, 12, 31, 17, 30, tzinfo=UTC),
    ):
        monkeypatch.setattr(service, "utcnow", lambda moment=moment: moment)
        await deliver(store, registered())
        await deliver(store, registered())

    assert store.numbers("mojosari") == numbers("mojosari", 2026, 2) + numbers("mojosari", 2027, 2)


async def test_a_registration_cancelled_before_it_arrives_gets_no_certificate_nor_number() -> None:
    store = FakeCertificates()
    late = registered()
    assert await policy.on_cancelled(store, cancelled(late)) is None  # nothing to revoke yet

    assert await deliver(store, late) is None
    assert await scan(store, late) is None
    assert await deliver(store, registered()) is not None

    assert store.numbers("mojosari") == numbers("mojosari", 2026, 1)


async def test_an_event_that_issues_on_attendance_numbers_only_who_checked_in() -> None:
    store = FakeCertificates()
    absent, present = registered(policy_=POLICY_ON_CHECK_IN), registered(policy_=POLICY_ON_CHECK_IN)
    assert await deliver(store, absent) is None
    assert await deliver(store, present) is None

    certificate = await scan(store, present)
    assert await scan(store, present) is None  # a second scan at the door

    assert certificate is not None and certificate.registration_id == present.registration_id
    assert certificate.participant_name == "Ayu Lestari"  # printed from the registration
    assert store.numbers("mojosari") == numbers("mojosari", 2026, 1)


async def test_a_check_in_that_arrives_before_its_registration_issues_when_it_arrives() -> None:
    store = FakeCertificates()
    event = registered(policy_=POLICY_ON_CHECK_IN)

    assert await scan(store, event) is None  # the streams are separate: any order
    certificate = await deliver(store, event)

    assert certificate is not None and store.numbers("mojosari") == numbers("mojosari", 2026, 1)


async def test_cancelling_revokes_the_certificate_and_announces_it_once() -> None:
    store = FakeCertificates()
    event = registered()
    certificate = await deliver(store, event)
    assert certificate is not None

    revoked = await policy.on_cancelled(store, cancelled(event))
    again = await policy.on_cancelled(store, cancelled(event))

    assert revoked is not None and revoked.certificate_id == certificate.id
    assert revoked.reason == "Pendaftaran dibatalkan."
    assert again is None
    assert certificate.status == STATUS_REVOKED and certificate.needs_render is False
    with pytest.raises(service.CertificateRevoked):
        service.downloadable_key(certificate)


async def test_a_revoked_certificate_is_not_issued_again_by_a_late_delivery() -> None:
    store = FakeCertificates()
    event = registered(policy_=POLICY_ON_CHECK_IN)
    await deliver(store, event)
    certificate = await scan(store, event)
    assert certificate is not None
    await policy.on_cancelled(store, cancelled(event))

    assert await deliver(store, event) is None
    assert await scan(store, event) is None
    assert await rendered(store, certificate) is None  # its render finished after the revoke

    assert [c.status for c in store.certificates.values()] == [STATUS_REVOKED]
    assert certificate.announced_at is None and certificate.pdf_key is None
    await deliver(store, registered())
    assert store.numbers("mojosari") == numbers("mojosari", 2026, 2)  # its number is not reused


async def test_a_revoked_certificate_is_not_reissued() -> None:
    store = FakeCertificates()
    kept, dropped = registered(), registered()
    for event in (kept, dropped):
        certificate = await deliver(store, event)
        assert certificate is not None and await rendered(store, certificate) is not None
    revoked = await store.find_by_registration(dropped.registration_id)
    assert revoked is not None
    await service.revoke_certificate(store, revoked.id, reason="Data salah")

    with pytest.raises(service.NothingToReissue):
        await service.reissue(store, tenant="mojosari", certificate_id=revoked.id)
    progress = await service.reissue(store, tenant="mojosari", activity_id=ACTIVITY)

    assert progress == {"total": 2, "waiting": 1, "done": 0, "revoked": 1}
    assert revoked.needs_render is False and revoked.generation == 1


async def test_an_operator_revokes_a_certificate_once() -> None:
    store = FakeCertificates()
    certificate = await deliver(store, registered())
    assert certificate is not None

    revoked_row, announced = await service.revoke_certificate(
        store, certificate.id, reason="Data salah"
    )

    assert revoked_row is certificate and announced.reason == "Data salah"
    with pytest.raises(service.AlreadyRevoked):
        await service.revoke_certificate(store, certificate.id, reason="Lagi")
    with pytest.raises(service.CertificateNotFound):
        await service.revoke_certificate(store, uuid.uuid4(), reason="Tidak ada")
    assert certificate.revoke_reason == "Data salah"


async def test_a_certificate_is_announced_when_its_pdf_is_stored_and_never_again() -> None:
    store = FakeCertificates()
    certificate = await deliver(store, registered())
    assert certificate is not None

    issued = await rendered(store, certificate)
    replayed = await rendered(store, certificate)  # another replica finished the same row
    await service.reissue(store, tenant="mojosari", certificate_id=certificate.id)
    reissued = await rendered(store, certificate)

    assert issued is not None and issued.number == certificate.number
    assert issued.download_url == f"{URL}/api/v1/certificates/{certificate.id}/pdf"
    assert issued.verify_url == f"{URL}/verify/{certificate.id}"
    assert replayed is None and reissued is None
    assert certificate.reissued_at is not None and certificate.number == issued.number
    assert service.downloadable_key(certificate) == f"pdf/{certificate.id}"


async def test_a_batch_read_together_is_numbered_in_order_once_per_registration() -> None:
    store = FakeCertificates()
    first = registered("mojosari")
    await deliver(store, first)
    gone = registered("mojosari")
    await policy.on_cancelled(store, cancelled(gone))
    late = [registered("mojosari"), registered("pungging"), registered("mojosari")]
    batch = [first, late[0], gone, late[1], late[0], late[2]]

    numbered = await policy.on_registered_many(store, batch, tenants=TENANTS, number_code=CODE)

    # the one already numbered, the cancelled one and the repeat inside the batch take none
    assert sorted(c.registration_id for c in numbered) == sorted(e.registration_id for e in late)
    by_registration = {c.registration_id: c.number for c in numbered}
    assert by_registration[late[0].registration_id] == numbers("mojosari", 2026, 2)[1]
    assert by_registration[late[2].registration_id] == numbers("mojosari", 2026, 3)[2]
    assert store.numbers("mojosari") == numbers("mojosari", 2026, 3)
    assert store.numbers("pungging") == numbers("pungging", 2026, 1)
    assert [c.number for c in numbered if c.tenant == "mojosari"] == numbers("mojosari", 2026, 3)[
        1:
    ]
