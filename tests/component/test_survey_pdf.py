"""The IKM report PDF and the QR poster, read back as text the way an office would read them."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from services.survey.app import MIGRATIONS, create_app
from services.survey.settings import Settings
from tests.certificates_support import qr_codes
from tests.support import auth, running_app, wait_for

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(shutil.which("pdftotext") is None, reason="pdftotext is not installed"),
]
EXAMPLE = dict(zip([f"U{i}" for i in range(1, 10)], [4, 3, 3, 4, 3, 3, 4, 4, 3], strict=True))


@pytest.fixture
def settings(settings_for: Callable[..., Settings]) -> Settings:
    return settings_for(Settings)


def pdf_text(content: bytes, tmp_path: Path) -> str:
    assert content.startswith(b"%PDF")
    path = tmp_path / "doc.pdf"
    path.write_bytes(content)
    text = subprocess.run(
        ["pdftotext", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout
    return " ".join(text.split())  # lines wrap where the page is narrow


async def test_the_report_pdf_has_the_headline_tables_and_sample_check(
    settings: Settings, tmp_path: Path
) -> None:
    async with running_app(create_app, settings, MIGRATIONS) as (_app, client):
        answer = await client.post(
            "/api/v1/units/kantor-kecamatan/responses",
            json={"scores": EXAMPLE, "suggestion": "Kursi ruang tunggu kurang"},
        )
        assert answer.status_code == 201
        ticket = (await client.get("/api/v1/tickets", headers=auth())).json()["items"][0]
        replied = await client.post(
            f"/api/v1/tickets/{ticket['id']}/reply", json={"reply": "Kursi ditambah."},
            headers=auth(),
        )  # fmt: skip
        assert replied.status_code == 200

        async def aggregated() -> Any:
            body = (await client.get("/api/v1/ikm", headers=auth())).json()
            return body["responses"] == 1

        await wait_for(aggregated, what="one aggregated response")
        pdf = await client.get(
            "/api/v1/exports/ikm.pdf",
            params={"unit": "kantor-kecamatan", "population": 100},
            headers=auth(),
            timeout=120,
        )
        assert pdf.status_code == 200, pdf.text
        text = pdf_text(pdf.content, tmp_path)
        assert "Kantor Kecamatan Mojosari" in text
        assert "IKM 86.11" in text and "mutu B (Baik)" in text
        assert "Biaya/tarif" in text and "Sangat Baik" in text  # per-unsur and interval tables
        assert "sampel minimal 80" in text and "belum memenuhi" in text
        assert "Tren bulanan" in text and "Pemandu Gen-Z" in text
        # Saran and kritik: one ticket, answered within the hour (0.0 hours to the reply).
        saran = text[text.index("Saran dan kritik") : text.index("Jumlah sampel")]
        assert "Tiket Baru Ditanggapi Selesai 1 0 1 0" in saran, saran
        assert "Median jam sampai tanggapan" in saran and saran.count("0.0") == 3, saran
        assert (await client.get("/api/v1/exports/ikm.pdf")).status_code == 401


async def test_a_unit_poster_names_the_unit_and_carries_its_survey_address(
    settings: Settings, tmp_path: Path
) -> None:
    async with running_app(create_app, settings, MIGRATIONS) as (_app, client):
        poster = await client.get(
            "/api/v1/units/si-genz-menjamu/poster.pdf", headers=auth(), timeout=120
        )
        assert poster.status_code == 200, poster.text
        text = pdf_text(poster.content, tmp_path)
        assert "Survei Kepuasan Masyarakat" in text and "Pindai kode QR" in text
        assert "/survei/si-genz-menjamu" in text
        codes = qr_codes(poster.content, tmp_path)  # the printed QR code, decoded from the page
        assert len(codes) == 1 and codes[0].endswith("/survei/si-genz-menjamu"), codes
        assert codes[0] in text
        missing = await client.get("/api/v1/units/tidak-ada/poster.pdf", headers=auth())
        assert missing.status_code == 404


async def test_report_pdf_refuses_impossible_periods_in_bahasa_and_renders_edge_years(
    settings: Settings, tmp_path: Path
) -> None:
    # The fuzz once got 500 here: year 0000 and dates near 9999-12-31 reached date arithmetic.
    async with running_app(create_app, settings, MIGRATIONS) as (_app, client):
        cases = [
            ({"period": "0000"}, "period", "Tahun pada periode harus 2000 sampai 2100."),
            ({"period": "9999-12"}, "period", "Tahun pada periode harus 2000 sampai 2100."),
            ({"to": "9999-12-31"}, "to", "Tanggal akhir (to) harus antara tahun 2000 dan 2100."),
            ({"from": "9999-12-05", "to": "9999-12-31"}, "from", "Tanggal awal (from)"),
            ({"from": "0001-01-01"}, "from", "Tanggal awal (from)"),
            ({"period": "2025", "from": "2025-01-01"}, "period", "tidak keduanya"),
        ]
        for params, field, message in cases:
            for path in ("/api/v1/exports/ikm.pdf", "/api/v1/ikm", "/api/v1/responses"):
                answer = await client.get(path, params=params, headers=auth(), timeout=120)
                assert answer.status_code == 422, (path, params, answer.text)
                body = answer.json()
                assert body["fields"][0]["field"] == field
                assert message in body["fields"][0]["message"], body
        # The first and last years a report may cover still give a real PDF.
        for params in ({"period": "2000-01"}, {"from": "2100-12-01", "to": "2100-12-31"}):
            pdf = await client.get(
                "/api/v1/exports/ikm.pdf", params=params, headers=auth(), timeout=120
            )
            assert pdf.status_code == 200, pdf.text
            text = pdf_text(pdf.content, tmp_path)
            assert "IKM belum dapat ditetapkan" in text and "Belum ada jawaban" in text
            assert f"Periode {params.get('from', '2000-01-01')}" in text
