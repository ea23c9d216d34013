"""`menjamu tenant init/check` and the start-up check: each mistake is named exactly."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from services.ops.tenant import render_tenant_file
from shared.settings import PROJECT_ROOT
from shared.tenant_check import check_tenant_text
from shared.tenants import TenantFileError, load_tenant_file, load_tenants

MOJOSARI = (PROJECT_ROOT / "deploy" / "tenants" / "mojosari.yaml").read_text()


def menjamu(
    *args: str, stdin: str = "", env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "services.cli", *args],
        input=stdin, capture_output=True, text=True, cwd=PROJECT_ROOT, env=env, timeout=60,
    )  # fmt: skip


def test_the_shipped_tenant_file_is_valid() -> None:
    assert check_tenant_text(MOJOSARI) == []


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        (
            lambda t: t.replace("  camat: Yulius Bakhtiar, S.P., M.M", "  camat: ''"),
            "tenant.camat: nama camat (penanda tangan e-sertifikat) belum diisi.",
        ),
        (
            lambda t: t.replace("timezone: Asia/Jakarta ", "timezone: Asia/Jakrta "),
            "tenant.timezone: zona waktu 'Asia/Jakrta' tidak dikenal; gunakan nama IANA "
            "(Asia/Jakarta untuk WIB, Asia/Makassar untuk WITA, Asia/Jayapura untuk WIT).",
        ),
        (
            lambda t: t.replace("    topic: KIA\n", "    topic: Paspor\n"),
            "requirements[10] (kia).topic: topik 'Paspor' tidak dikenal; pilih salah satu: "
            "Akta Kelahiran, Akta Kematian, KIA, KK, KTP, Pindah (atau tambahkan di 'topics:').",
        ),
        (
            lambda t: t.replace(
                "  si-genz-menjamu: Program SI GEN-Z MENJAMU\n",
                "  si-genz-menjamu: Program SI GEN-Z MENJAMU\n  kantor-kecamatan: Loket\n",
            ),
            "survey_units: kode unit 'kantor-kecamatan' ganda (baris {first} dan {again}).",
        ),
        (
            lambda t: t.replace('call_center: "+6285933871047"', 'call_center: "021-555-1234"'),
            "tenant.call_center: nomor '021-555-1234' tidak valid: harus nomor seluler Indonesia "
            "(diawali 08 atau +628).",
        ),
    ],
    ids=["missing camat", "bad timezone", "unknown topic", "duplicate unit", "invalid phone"],
)
def test_tenant_check_names_each_mistake_exactly(
    edit: object, expected: str, tmp_path: Path
) -> None:
    broken = edit(MOJOSARI)  # type: ignore[operator]
    assert broken != MOJOSARI
    lines = broken.splitlines()
    expected = expected.format(
        first=lines.index("  kantor-kecamatan: Kantor Kecamatan Mojosari") + 1,
        again=lines.index("  kantor-kecamatan: Loket") + 1
        if "  kantor-kecamatan: Loket" in lines
        else 0,
    )
    assert check_tenant_text(broken) == [expected]
    path = tmp_path / "mojosari.yaml"
    path.write_text(broken)
    result = menjamu("tenant", "check", str(path))
    assert result.returncode == 1
    assert expected in result.stderr
    # A service refuses to start on the same file, with the same message.
    with pytest.raises(TenantFileError) as refused:
        load_tenants.__wrapped__(tmp_path)
    assert expected in str(refused.value)


def test_extra_sections_from_other_features_are_allowed_and_topics_can_be_added() -> None:
    text = MOJOSARI.replace("    topic: KIA\n", "    topic: Paspor\n")
    text += "\ntopics: [Paspor]\nmoderation:\n  blocked_words: [hoax]\nmentors: []\n"
    assert check_tenant_text(text) == []


def test_duplicate_desa_codes_and_a_bad_invite_link_are_reported() -> None:
    # The real list (19 desa/kelurahan with Kemendagri codes): give Sarirejo Kauman's code.
    text = MOJOSARI.replace(
        '{code: "35.16.08.1005", name: Sarirejo', '{code: "35.16.08.1004", name: Sarirejo'
    ).replace("https://chat.whatsapp.com/MENJAMU-DEV-MOJOSARI", "https://example.com/x")
    assert check_tenant_text(text) == [
        "desa: kode desa '35.16.08.1004' ganda.",
        "whatsapp_groups[0].invite_link: tautan 'https://example.com/x' bukan tautan undangan "
        "grup WhatsApp (https://chat.whatsapp.com/...).",
    ]


def test_tenant_check_says_ok_for_a_good_file() -> None:
    result = menjamu("tenant", "check", str(PROJECT_ROOT / "deploy" / "tenants" / "mojosari.yaml"))
    assert result.returncode == 0 and result.stdout.strip().endswith("OK")


def test_tenant_init_from_flags_writes_a_file_every_service_can_load(tmp_path: Path) -> None:
    output = tmp_path / "pungging.yaml"
    result = menjamu(
        "tenant", "init", "pungging", "--no-input", "--output", str(output),
        "--name", "Kecamatan Pungging", "--kabupaten", "Kabupaten Mojokerto",
        "--provinsi", "Jawa Timur", "--camat", "Drs. Budi Santoso",
        "--call-center", "0812-1111-2222",
        "--desa", "Pungging, Tunggalpager",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    tenant = load_tenant_file(output)
    assert (tenant.code, tenant.name, tenant.camat) == (
        "pungging",
        "Kecamatan Pungging",
        "Drs. Budi Santoso",
    )
    assert tenant.timezone == "Asia/Jakarta" and tenant.desa == ["Pungging", "Tunggalpager"]
    assert tenant.participant_levels == ["SMP", "SMA", "Mahasiswa", "Organisasi Masyarakat"]
    assert set(tenant.survey_units) == {"kantor-kecamatan", "si-genz-menjamu"}
    assert len(tenant.raw["requirements"]) == 11  # copied from the template
    again = menjamu("tenant", "init", "pungging", "--no-input", "--output", str(output))
    assert again.returncode == 1 and "--force" in again.stderr


def test_tenant_init_asks_for_what_the_flags_left_out(tmp_path: Path) -> None:
    output = tmp_path / "dlanggu.yaml"
    answers = "\n".join(
        ["Kecamatan Dlanggu", "Kabupaten Mojokerto", "Jawa Timur", "35.16.10", "Siti Aminah",
         "", "Asia/Jakarta", "081233334444", "Jl. Raya Dlanggu", "", "SMA, Mahasiswa", ""]
    )  # fmt: skip
    result = menjamu("tenant", "init", "dlanggu", "--output", str(output), stdin=answers + "\n")
    assert result.returncode == 0, result.stderr
    tenant = load_tenant_file(output)
    assert tenant.camat == "Siti Aminah" and tenant.camat_title == "Camat"
    assert tenant.participant_levels == ["SMA", "Mahasiswa"] and tenant.desa == []


def test_tenant_init_refuses_to_write_an_invalid_file(tmp_path: Path) -> None:
    output = tmp_path / "x.yaml"
    result = menjamu(
        "tenant", "init", "x-kec", "--no-input", "--output", str(output), "--name", "Kec X",
        "--timezone", "WIB",
    )  # fmt: skip
    assert result.returncode == 1 and not output.exists()
    assert "tenant.camat: nama camat" in result.stderr and "zona waktu 'WIB'" in result.stderr


def test_render_keeps_the_tenant_code() -> None:
    values = {k: "" for k in ("name", "kabupaten", "provinsi", "kemendagri_code", "camat")}
    values |= {"camat_title": "Camat", "timezone": "Asia/Jakarta", "call_center": "",
               "address": "", "programme": "", "levels": "SMA", "desa": ""}  # fmt: skip
    assert "code: abc" in render_tenant_file("abc", values, {})


def test_a_service_refuses_to_start_on_an_invalid_tenant_file(tmp_path: Path) -> None:
    (tmp_path / "mojosari.yaml").write_text(
        MOJOSARI.replace("timezone: Asia/Jakarta ", "timezone: WIB ")
    )
    env = {
        "PATH": "/usr/bin:/bin",
        "MENJAMU_TENANTS_DIR": str(tmp_path),
        "MENJAMU_DATA_DIR": str(tmp_path),
        "MENJAMU_ADMIN_TOKEN": "t",
        "SURVEY_PORT": "0",
        "REDIS_URL": "redis://127.0.0.1:1/0",
    }
    result = menjamu("serve", "survey", env=env)
    assert result.returncode != 0
    assert "tenant.timezone: zona waktu 'WIB' tidak dikenal" in result.stderr + result.stdout


def test_two_files_with_the_same_tenant_code_stop_the_services(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(MOJOSARI)
    (tmp_path / "b.yaml").write_text(MOJOSARI)
    with pytest.raises(TenantFileError) as refused:
        load_tenants.__wrapped__(tmp_path)
    assert f"tenant.code: kode 'mojosari' sudah dipakai oleh {tmp_path / 'a.yaml'}." in str(
        refused.value
    )
