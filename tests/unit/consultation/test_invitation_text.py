"""Invitation wording, group rules, invite links and back-off: pure rules, no I/O."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from services.consultation.messages import (
    backoff_s,
    first_name,
    invitation_body,
    is_invite_link,
    is_link_preview,
    rule_lines,
)
from services.consultation.settings import Settings
from shared.settings import PROJECT_ROOT
from shared.tenants import load_tenant_file

MOJOSARI = load_tenant_file(PROJECT_ROOT / "deploy" / "tenants" / "mojosari.yaml")


def test_mojosari_rules_become_three_short_indonesian_lines() -> None:
    assert rule_lines(MOJOSARI.consultation_rules) == [
        "Grup hanya untuk konsultasi Adminduk",
        "Dilarang SARA, hoaks dan pornografi",
        "Konsultasi dibuka 24 jam",
    ]


def test_a_rule_already_written_in_indonesian_is_kept_as_written() -> None:
    assert rule_lines(["Gunakan bahasa yang sopan.", "", "Sampaikan saran dengan santun"]) == [
        "Gunakan bahasa yang sopan",
        "Sampaikan saran dengan santun",
    ]


def test_invitation_greets_by_first_name_and_carries_the_link_and_rules() -> None:
    body = invitation_body(
        name="Ayu Lestari",
        activity_title="Sosialisasi Adminduk",
        link="https://k.test/i/abc",
        rules=MOJOSARI.consultation_rules,
        tenant_name=MOJOSARI.name,
    )
    assert body.startswith("Halo Ayu,\n")
    assert '"Sosialisasi Adminduk"' in body
    assert "\nhttps://k.test/i/abc\n" in body
    assert "- Konsultasi dibuka 24 jam" in body
    assert body.endswith("Salam, Kecamatan Mojosari")


def test_invitation_without_name_or_rules_still_reads_well() -> None:
    body = invitation_body(name="  ", activity_title="X", link="L", rules=[], tenant_name="")
    assert body.startswith("Halo,\n")
    assert "Aturan grup" not in body
    assert first_name("Muhammad  Rizki") == "Muhammad"


@pytest.mark.parametrize(
    ("link", "ok"),
    [
        ("https://chat.whatsapp.com/AbCdEf123", True),
        ("https://chat.whatsapp.com/AbC?mode=ems_copy_t", True),
        ("https://chat.whatsapp.com/", False),
        ("http://chat.whatsapp.com/AbC", False),
        ("https://wa.me/6281234567890", False),
        ("https://chat.whatsapp.com.evil.test/AbC", False),
        ("https://chat.whatsapp.com/Ab C", False),
    ],
)
def test_only_whatsapp_group_invite_links_are_accepted(link: str, ok: bool) -> None:
    assert is_invite_link(link) is ok


def test_retry_waits_double_each_time_up_to_the_cap() -> None:
    waits = [backoff_s(n, base_s=5, max_s=60) for n in range(1, 7)]
    assert waits == [5, 10, 20, 40, 60, 60]


def test_unknown_gateway_name_stops_the_service_with_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="CONSULTATION_WHATSAPP_GATEWAY='twilio'"):
        Settings.model_validate({"whatsapp_gateway": "twilio", "data_dir": tmp_path})
    assert Settings.model_validate({"whatsapp_gateway": "DEV"}).whatsapp_gateway == "dev"


def test_gateway_setting_is_read_from_its_env_name(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CONSULTATION_WHATSAPP_GATEWAY", "cloud")
    with pytest.raises(ValidationError, match="needs CONSULTATION_CLOUD_PHONE_NUMBER_ID"):
        Settings()
    for name in ("PHONE_NUMBER_ID", "ACCESS_TOKEN", "APP_SECRET"):
        monkeypatch.setenv(f"CONSULTATION_CLOUD_{name}", f"x-{name.lower()}")
    assert Settings().cloud_access_token.get_secret_value() == "x-access_token"
    monkeypatch.setenv("CONSULTATION_WHATSAPP_GATEWAY", "dev")
    monkeypatch.setenv("CONSULTATION_SEND_MAX_ATTEMPTS", "3")
    assert Settings().send_max_attempts == 3


def test_production_refuses_the_development_gateway_at_start_up(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("MENJAMU_ENV", "production")
    monkeypatch.setenv("MENJAMU_ADMIN_TOKEN", "a-production-token")
    monkeypatch.setenv("CONSULTATION_WHATSAPP_GATEWAY", "dev")
    with pytest.raises(
        ValidationError, match="WHATSAPP_GATEWAY=dev is refused when MENJAMU_ENV=production"
    ):
        Settings()


def test_the_example_production_env_file_does_not_select_the_dev_gateway() -> None:
    example = Path(__file__).parents[3] / "deploy" / "kecamatan" / "mojosari.env.example"
    lines = [line.strip() for line in example.read_text().splitlines()]
    chosen = [
        line.split("=", 1)[1] for line in lines if line.startswith("CONSULTATION_WHATSAPP_GATEWAY=")
    ]
    assert chosen == ["cloud"]


def test_link_preview_fetchers_are_not_counted_as_clicks() -> None:
    assert is_link_preview("WhatsApp/2.24.1.6 A")
    assert is_link_preview(
        "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)"
    )
    assert not is_link_preview("Mozilla/5.0 (Linux; Android 14) Chrome/126.0 Mobile Safari/537.36")
    assert not is_link_preview("")
