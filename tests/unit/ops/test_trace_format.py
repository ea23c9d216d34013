"""`menjamu trace` output: one line per step, the dead letter that explains a missing step."""

from __future__ import annotations

from services.ops.trace import format_journey


def test_a_journey_with_a_dead_letter_says_what_failed_and_how_to_replay_it() -> None:
    text = format_journey(
        {
            "registration_id": "r-1", "tenant": "mojosari", "phone_masked": "+6281****90",
            "correlation_id": "c-1",
            "steps": [{"occurred_at": "2026-11-28T09:12:03.5+00:00", "source": "registration",
                       "label": "terdaftar (SMA, Kauman)"}],
            "dead_letters": [{"at": "2026-11-28T09:20:00+00:00", "group": "certificates.issue",
                              "reason": "max deliveries exceeded", "id": "1-0",
                              "stream": "registration.participant_registered.v1"}],
            "missing": ["sertifikat terbit"],
        }
    )  # fmt: skip
    assert text.splitlines() == [
        "registration r-1  tenant mojosari  phone +6281****90  correlation c-1",
        "  2026-11-28T09:12:03  registration  terdaftar (SMA, Kauman)",
        "  2026-11-28T09:20:00  certificates.issue gagal, masuk dead letter: max deliveries "
        "exceeded (menjamu dlq replay registration.participant_registered.v1 --id 1-0)",
        "  belum terjadi: sertifikat terbit",
    ]
