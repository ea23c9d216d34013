"""Phone normalisation and masking of personal data in logs."""

from __future__ import annotations

import json
import logging

import pytest
import structlog

from shared.logging import configure_logging, get_logger
from shared.phone import normalize_phone
from shared.privacy import mask_phone, mask_text


@pytest.mark.parametrize(
    "raw",
    ["0812-3456-7890", "+62 812 3456 7890", "6281234567890", "812 3456 7890", "(0812) 3456-7890"],
)
def test_common_spellings_of_one_number_normalise_to_the_same_e164(raw: str) -> None:
    assert normalize_phone(raw) == "+6281234567890"


@pytest.mark.parametrize(
    ("raw", "hint"),
    [
        ("0212345678", "seluler"),
        ("08123", "panjangnya"),
        ("0812abc4567", "hanya boleh"),
        ("", "hanya boleh"),
    ],
)
def test_bad_numbers_are_refused_with_an_indonesian_reason(raw: str, hint: str) -> None:
    with pytest.raises(ValueError, match=hint):
        normalize_phone(raw)


def test_masked_phone_keeps_only_prefix_and_last_two_digits() -> None:
    assert mask_phone("+6281234567890") == "+6281****90"
    assert "34567" not in mask_text("hubungi 0812-3456-7890 ya")


def test_log_lines_never_carry_a_phone_or_a_name_in_clear(
    capsys: pytest.CaptureFixture[str],
) -> None:
    configure_logging("test", fmt="json")
    try:
        get_logger("t").info(
            "registration.received",
            phone="+6281234567890",
            name="Ayu Lestari",
            note="WA saya 081234567890",
        )
        logging.getLogger("uvicorn").info("from stdlib 081234567890")
        lines = [json.loads(line) for line in capsys.readouterr().err.splitlines() if line]
    finally:
        structlog.reset_defaults()
        logging.getLogger().handlers[:] = []
    text = json.dumps(lines)
    assert "1234567890" not in text and "Ayu Lestari" not in text
    assert lines[0]["event"] == "registration.received" and lines[0]["service"] == "test"
    assert lines[0]["phone"] == "+6281****90"
