"""The e-certificate PDF as a participant and an operator see it."""

from __future__ import annotations

import logging
import re
import shutil
import socket
import subprocess
import sys
import time
import zlib
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Any

import pytest

# The project root, for runs where nothing else put it on sys.path (no __init__.py here).
PROJECT_ROOT = str(Path(__file__).resolve().parents[3])
if PROJECT_ROOT not in sys.path:
    sys.path.insert(0, PROJECT_ROOT)

from services.certificates import render as render_module  # noqa: E402
from services.certificates.render import (  # noqa: E402
    CertificateContent,
    CertificateRenderer,
    format_date_id,
    harfbuzz_subset_available,
    warn_if_slow_fonts,
)

PDFTOTEXT = shutil.which("pdftotext")
NEEDS_PDFTOTEXT = pytest.mark.skipif(
    PDFTOTEXT is None,
    reason="pdftotext (Debian package poppler-utils) is not installed: cannot read the PDF's text",
)

CONTENT = CertificateContent(
    number="0001/SERT-MENJAMU/MOJOSARI/2026",
    participant_name="Ayu Lestari Wulandari",
    school="SMA Negeri 1 Mojosari",
    level="SMA",
    event_title="Sosialisasi Administrasi Kependudukan",
    event_date=date(2026, 11, 28),
    event_location="Pendopo Kecamatan Mojosari",
    tenant_name="Kecamatan Mojosari",
    kabupaten="Kabupaten Mojokerto",
    programme="SI GEN-Z MENJAMU (Siapkan Generasi Milenial - Z Menjadi Pemandu)",
    signer_name="Yulius Bakhtiar, S.P., M.M",
    signer_title="Plt. Camat Mojosari",
    verify_url="https://mojosari.example.id/v/0001",
    issued_on=date(2026, 12, 1),
)


@pytest.fixture(scope="module")
def renderer() -> CertificateRenderer:
    return CertificateRenderer()


def pdf_objects_text(pdf: bytes) -> bytes:
    """The PDF's bytes plus every Flate stream inflated (pages may sit in object streams)."""
    parts = [pdf]
    for match in re.finditer(rb"stream\r?\n", pdf):
        start = match.end()
        try:
            parts.append(zlib.decompressobj().decompress(pdf[start:]))
        except zlib.error:
            continue
    return b"\n".join(parts)


def page_count(pdf: bytes) -> int:
    return len(re.findall(rb"/Type\s*/Page(?![A-Za-z])", pdf_objects_text(pdf)))


def pdf_text(pdf: bytes, tmp_path: Path) -> str:
    assert PDFTOTEXT is not None
    path = tmp_path / "certificate.pdf"
    path.write_bytes(pdf)
    result = subprocess.run(
        [PDFTOTEXT, "-enc", "UTF-8", str(path), "-"],
        check=True,
        capture_output=True,
        timeout=60,
    )
    return result.stdout.decode("utf-8")


def test_output_is_a_one_page_a4_landscape_pdf(renderer: CertificateRenderer) -> None:
    pdf = renderer.render(CONTENT)

    assert pdf.startswith(b"%PDF-")
    assert pdf.rstrip().endswith(b"%%EOF")
    assert page_count(pdf) == 1
    box = re.search(rb"/MediaBox\s*\[\s*0\s+0\s+([\d.]+)\s+([\d.]+)\s*\]", pdf_objects_text(pdf))
    assert box is not None
    width, height = float(box[1]), float(box[2])
    assert width == pytest.approx(841.89, abs=1)  # 297 mm
    assert height == pytest.approx(595.28, abs=1)  # 210 mm


@NEEDS_PDFTOTEXT
def test_certificate_shows_title_name_number_and_indonesian_text(
    renderer: CertificateRenderer, tmp_path: Path
) -> None:
    text = pdf_text(renderer.render(CONTENT), tmp_path)

    assert "SERTIFIKAT" in text
    assert "PEMERINTAH KABUPATEN MOJOKERTO" in text
    assert "KECAMATAN MOJOSARI" in text
    assert "Ayu Lestari Wulandari" in text
    assert "0001/SERT-MENJAMU/MOJOSARI/2026" in text
    assert "diberikan kepada" in text
    assert "atas partisipasinya sebagai peserta" in text
    assert "28 November 2026" in text  # event date
    assert "Mojosari, 1 Desember 2026" in text  # place and issue date
    assert "Plt. Camat Mojosari" in text
    assert "Yulius Bakhtiar, S.P., M.M" in text
    assert "SMA Negeri 1 Mojosari" in text
    assert "Pindai kode QR untuk memverifikasi keaslian sertifikat ini" in text
    assert CONTENT.verify_url in re.sub(r"\s+", "", text)


@NEEDS_PDFTOTEXT
def test_html_in_a_name_is_printed_literally(renderer: CertificateRenderer, tmp_path: Path) -> None:
    content = replace(CONTENT, participant_name="<b>Ani</b>", school="SMP <i>Satu</i> & Dua")

    html = renderer.render_html(content)
    assert "<b>Ani</b>" not in html
    assert "&lt;b&gt;Ani&lt;/b&gt;" in html

    text = pdf_text(renderer.render(content), tmp_path)
    assert "<b>Ani</b>" in text
    assert "SMP <i>Satu</i> & Dua" in text


def test_a_very_long_name_still_fits_one_page(renderer: CertificateRenderer) -> None:
    content = replace(CONTENT, participant_name="Raden Mas Muhammad Fadhil Abdurrahman " * 4)

    assert page_count(renderer.render(content)) == 1


def test_the_certificate_embeds_a_qr_code_of_the_verification_url(
    renderer: CertificateRenderer,
) -> None:
    html = renderer.render_html(CONTENT)

    svg = re.search(r"<svg[^>]*class=\"qr\"[^>]*>.*?</svg>", html, re.S)
    assert svg is not None
    assert "<path" in svg[0]


def test_renders_reuse_one_font_configuration_and_stylesheet(
    renderer: CertificateRenderer,
) -> None:
    font_config, stylesheet = renderer.font_config, renderer.stylesheet
    renderer.render(CONTENT)  # warm-up

    timings = []
    for index in range(3):
        started = time.perf_counter()
        pdf = renderer.render(
            replace(CONTENT, number=f"{index + 2:04d}/SERT-MENJAMU/MOJOSARI/2026")
        )
        timings.append(time.perf_counter() - started)
        assert pdf.startswith(b"%PDF-")

    assert renderer.font_config is font_config
    assert renderer.stylesheet is stylesheet
    per_render = sum(timings) / len(timings)
    print(
        f"\ncertificate render: {per_render * 1000:.0f} ms per certificate "
        f"(min {min(timings) * 1000:.0f} ms, harfbuzz-subset "
        f"{'present' if harfbuzz_subset_available() else 'MISSING'})"
    )
    # Generous bound: ~0.1 s with libharfbuzz-subset0, ~0.8 s without it.
    assert per_render < 5


def test_the_renderer_fetches_only_data_urls(renderer: CertificateRenderer) -> None:
    for url in (
        "http://10.255.255.1/logo.png",
        "https://example.org/a.css",
        "file:///etc/passwd",
        "ftp://example.org/x",
    ):
        with pytest.raises(ValueError):
            renderer.url_fetcher.fetch(url)

    response = renderer.url_fetcher.fetch("data:text/plain;base64,b2s=")
    assert response.read() == b"ok"
    response.close()


def test_a_template_pointing_at_the_network_does_not_hang(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    connections: list[Any] = []
    monkeypatch.setattr(socket.socket, "connect", lambda self, address: connections.append(address))
    templates = Path(render_module.__file__).parent / "templates"
    shutil.copy(templates / "certificates.css", tmp_path / "certificates.css")
    (tmp_path / "certificate.html").write_text(
        "<html><head><link rel='stylesheet' href='http://10.255.255.1/x.css'></head>"
        "<body><img src='http://10.255.255.1/logo.png'><img src='file:///etc/hostname'>"
        "<p>SERTIFIKAT {{ c.participant_name }}</p></body></html>",
        encoding="utf-8",
    )
    renderer = CertificateRenderer(templates_dir=tmp_path)

    started = time.perf_counter()
    with caplog.at_level(logging.WARNING, logger="weasyprint"):
        pdf = renderer.render(CONTENT)

    assert time.perf_counter() - started < 5
    assert connections == []
    refused = [r.getMessage() for r in caplog.records if "disallowed protocol" in r.getMessage()]
    assert len(refused) == 3, [r.getMessage() for r in caplog.records]
    assert page_count(pdf) == 1


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (date(2026, 1, 1), "1 Januari 2026"),
        (date(2026, 5, 17), "17 Mei 2026"),
        (date(2026, 8, 17), "17 Agustus 2026"),
        (date(2026, 11, 28), "28 November 2026"),
        (date(2026, 12, 31), "31 Desember 2026"),
    ],
)
def test_dates_are_written_in_indonesian(value: date, expected: str) -> None:
    assert format_date_id(value) == expected


class RecordingLog:
    def __init__(self) -> None:
        self.warnings: list[tuple[str, dict[str, Any]]] = []

    def warning(self, event: str, /, **kw: Any) -> None:
        self.warnings.append((event, kw))


def test_start_up_warns_when_libharfbuzz_subset_is_missing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(render_module.ctypes.util, "find_library", lambda name: None)
    log = RecordingLog()

    assert harfbuzz_subset_available() is False
    warn_if_slow_fonts(log)

    assert len(log.warnings) == 1
    event, fields = log.warnings[0]
    assert event == "certificates.harfbuzz_subset_missing"
    assert "apt-get install libharfbuzz-subset0" in fields["hint"]


def test_start_up_is_quiet_when_libharfbuzz_subset_is_present(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(render_module.ctypes.util, "find_library", lambda name: f"lib{name}.so.0")
    log = RecordingLog()

    warn_if_slow_fonts(log)

    assert harfbuzz_subset_available() is True
    assert log.warnings == []


@pytest.mark.parametrize(
    "name",
    ["Nguyễn Thị Ánh Ŝtefan Çağlar", "Σωκράτης Παπαδόπουλος", "Людмила Иванова"],
    ids=["latin-diacritics", "greek", "cyrillic"],
)
def test_names_in_other_scripts_print_with_the_bundled_font(
    renderer: CertificateRenderer, tmp_path: Path, name: str
) -> None:
    from tests.certificates_support import pdf_text

    pdf = renderer.render(replace(CONTENT, participant_name=name))
    assert name in pdf_text(pdf, tmp_path)  # no missing-glyph boxes: each letter is text


def test_a_name_of_two_hundred_letters_prints_whole_on_one_page(
    renderer: CertificateRenderer, tmp_path: Path
) -> None:
    from tests.certificates_support import pdf_text

    name = " ".join(["Raden Ajeng Kartini Wulandari Sekar"] * 6)[:200]
    pdf = renderer.render(replace(CONTENT, participant_name=name))
    assert page_count(pdf) == 1
    assert " ".join(name.split()) in " ".join(pdf_text(pdf, tmp_path).split())
