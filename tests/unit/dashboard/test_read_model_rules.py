"""The dashboard's pure rules: what it keeps of an event, what it counts, its IKM."""

from __future__ import annotations

import uuid
from typing import Any, Literal

from services.dashboard import readmodel
from shared.contracts import Event
from tests.factories import participant_registered


class ConversationClosedV1(Event):
    """A consultation event as the consultation service might publish it (a future contract)."""

    type: Literal["consultation.conversation_closed"] = "consultation.conversation_closed"
    version: Literal[1] = 1
    conversation_id: uuid.UUID
    first_response_s: int | None = None


def test_the_read_model_keeps_no_name_school_or_phone_only_a_masked_phone() -> None:
    event = participant_registered(name="Ayu Lestari", phone="+6281234567890", desa="Sooko")
    summary = readmodel.summarize(event)
    text = str(summary)
    assert "Ayu" not in text and "SMAN" not in text and "+6281234567890" not in text
    assert summary["phone_masked"] == "+6281****90"
    assert summary["desa"] == "Sooko" and summary["level"] == "SMA"


def test_a_registration_counts_once_overall_per_desa_and_per_jenjang() -> None:
    counts = readmodel.counts_for(participant_registered(desa=None, level="SMP"))
    assert counts == [
        ("events", "registration.participant_registered", 1),
        ("registrations", "", 1),
        ("registrations.desa", "(tidak diisi)", 1),
        ("registrations.level", "SMP", 1),
    ]


def test_an_unknown_event_type_is_still_counted_by_type() -> None:
    closed = ConversationClosedV1(
        tenant="mojosari", source="consultation", correlation_id="c", conversation_id=uuid.uuid4()
    )
    assert readmodel.counts_for(closed) == [("events", "consultation.conversation_closed", 1)]
    assert readmodel.open_item_change(closed) == (
        "consultation",
        str(closed.conversation_id),
        "close",
    )


def test_first_response_time_is_read_when_the_event_carries_it() -> None:
    event: Any = ConversationClosedV1(
        tenant="mojosari", source="consultation", correlation_id="c",
        conversation_id=uuid.uuid4(), first_response_s=95,
    )  # fmt: skip
    assert readmodel.first_response_seconds(event) == 95
    assert readmodel.first_response_seconds(participant_registered()) is None


def test_ikm_is_the_mean_nrr_times_25_and_none_without_answers() -> None:
    sums = {"U1": 7, "U2": 6}
    answered = {"U1": 2, "U2": 2}
    assert readmodel.ikm_konversi(sums, answered) == round((3.5 + 3.0) / 2 * 25, 2)
    assert readmodel.ikm_konversi({}, {}) is None


def test_phone_keys_differ_per_tenant_and_hide_the_number() -> None:
    key = readmodel.phone_key("mojosari", "+6281234567890")
    assert key != readmodel.phone_key("pungging", "+6281234567890")
    assert "81234567890" not in key and len(key) == 64
