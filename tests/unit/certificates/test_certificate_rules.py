"""Certificate numbers, file names, the verify page and unknown kecamatan, without I/O."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from typing import Any

import pytest

from services.certificates import policy, service
from services.certificates.models import Certificate
from services.certificates.numbering import format_number, pdf_filename
from services.certificates.pages import render_verify_page
from services.certificates.render import CertificateContent
from shared.contracts import ParticipantRegisteredV1
from shared.tenants import Tenant


def test_numbers_are_four_digits_then_code_kecamatan_and_year() -> None:
    assert format_number(1, code="SERT-MENJAMU", tenant_code="mojosari", year=2026) == (
        "0001/SERT-MENJAMU/MOJOSARI/2026"
    )
    assert format_number(12345, code="SERT", tenant_code="pungging", year=2027) == (
        "12345/SERT/PUNGGING/2027"
    )
    with pytest.raises(ValueError):
        format_number(0, code="SERT", tenant_code="mojosari", year=2026)


def test_download_name_replaces_slashes() -> None:
    assert pdf_filename("0001/SERT-MENJAMU/MOJOSARI/2026") == (
        "sertifikat-0001-SERT-MENJAMU-MOJOSARI-2026.pdf"
    )
    assert pdf_filename('7/A "B"/X') == "sertifikat-7-A-B-X.pdf"


def _certificate(**overrides: Any) -> Certificate:
    values: dict[str, Any] = {
        "id": uuid.uuid4(),
        "tenant": "mojosari",
        "registration_id": uuid.uuid4(),
        "number": "0001/SERT-MENJAMU/MOJOSARI/2026",
        "participant_name": "<script>x</script>",
        "school": "SMAN 1",
        "level": "SMA",
        "activity_title": "Sosialisasi",
        "activity_date": date(2026, 12, 5),
        "activity_location": "Pendopo",
        "status": "valid",
        "issued_at": datetime(2026, 12, 1, 3, tzinfo=UTC),
        "correlation_id": "c",
    }
    values.update(overrides)
    return Certificate(**values)


def test_verify_page_escapes_names_and_says_asli_or_dicabut() -> None:
    valid = render_verify_page(_certificate(), issuer="Kecamatan Mojosari")
    assert "<script>x</script>" not in valid
    assert "&lt;script&gt;" in valid
    assert "Sertifikat ASLI / valid" in valid and "5 Desember 2026" in valid
    revoked = render_verify_page(
        _certificate(
            status="revoked",
            revoke_reason="Data salah",
            revoked_at=datetime(2026, 12, 2, 20, tzinfo=UTC),
        ),
        issuer="Kecamatan Mojosari",
    )
    assert "DICABUT" in revoked and "Data salah" in revoked and "3 Desember 2026" in revoked
    assert "Sertifikat tidak ditemukan" in render_verify_page(None)


async def test_an_event_for_an_unknown_kecamatan_is_refused_loudly() -> None:
    event = ParticipantRegisteredV1(
        tenant="atlantis",
        source="registration",
        correlation_id="c",
        registration_id=uuid.uuid4(),
        activity_id=uuid.uuid4(),
        activity_title="T",
        activity_date=date(2026, 12, 5),
        activity_location="L",
        name="N",
        school="S",
        phone="+6281234567890",
        level="SMA",
        consent=True,
    )

    with pytest.raises(service.UnknownTenant, match="atlantis"):
        await policy.on_registered(
            None,  # type: ignore[arg-type]
            event,
            tenant=None,
            number_code="S",
        )


def test_a_failed_render_is_retried_later_and_later_but_within_the_lease() -> None:
    waits = [
        (service.retry_at(attempt, lease_s=130) - datetime.now(UTC)).total_seconds()
        for attempt in (1, 3, 10)
    ]
    assert 1 < waits[0] < waits[1] < waits[2] <= 130


def test_verify_page_shows_the_reissue_date() -> None:
    page = render_verify_page(
        _certificate(reissued_at=datetime(2026, 12, 9, 18, tzinfo=UTC)), issuer="Kecamatan X"
    )
    assert "Diterbitkan ulang" in page and "10 Desember 2026" in page
    assert "Diterbitkan ulang" not in render_verify_page(_certificate(), issuer="Kecamatan X")


class FakeRenderer:
    """An in-memory renderer: keeps what it was asked to print, returns a marker PDF."""

    def __init__(self) -> None:
        self.rendered: list[tuple[CertificateContent, str | None, str | None]] = []

    async def render(
        self, content: CertificateContent, template: str | None = None, logo: str | None = None
    ) -> bytes:
        self.rendered.append((content, template, logo))
        return b"%PDF-fake " + content.number.encode()


async def test_a_certificate_prints_its_kecamatan_signer_and_local_issue_date() -> None:
    renderer = FakeRenderer()
    certificate = _certificate(issued_at=datetime(2026, 12, 31, 18, tzinfo=UTC))
    tenant = Tenant(
        code="mojosari", name="Kecamatan Mojosari", camat="Budi", timezone="Asia/Jayapura"
    )

    pdf = await service.render_certificate(
        renderer,
        certificate,
        tenant,
        template="<p>{{ number }}</p>",
        logo="data:image/png;base64,AA==",
        public_url="https://menjamu.example",
    )

    assert pdf == b"%PDF-fake 0001/SERT-MENJAMU/MOJOSARI/2026"
    [(content, template, logo)] = renderer.rendered
    assert content.participant_name == "<script>x</script>"
    assert content.tenant_name == "Kecamatan Mojosari" and content.signer_name == "Budi"
    assert content.issued_on == date(2027, 1, 1)  # 18:00 UTC is already New Year in Jayapura
    assert content.verify_url == f"https://menjamu.example/verify/{certificate.id}"
    assert template == "<p>{{ number }}</p>" and logo == "data:image/png;base64,AA=="


async def test_a_certificate_of_an_unknown_kecamatan_is_not_rendered() -> None:
    renderer = FakeRenderer()

    with pytest.raises(service.UnknownTenant, match="mojosari"):
        await service.render_certificate(
            renderer, _certificate(), None, template=None, logo=None, public_url="https://x"
        )
    assert renderer.rendered == []
