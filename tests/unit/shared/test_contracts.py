"""Event contracts: a breaking edit to a published event fails here."""

from __future__ import annotations

import json
import os
import uuid
from pathlib import Path

import pytest
from pydantic import ValidationError

from shared.contracts import ALL_EVENTS, Event, ParticipantRegisteredV1
from tests.factories import participant_registered

SNAPSHOTS = Path(__file__).parent / "contract_snapshots"


@pytest.mark.parametrize("model", ALL_EVENTS, ids=lambda m: m.__name__)
def test_event_schema_matches_its_snapshot(model: type[Event]) -> None:
    """A changed schema needs a new version (new stream), or a deliberate snapshot update."""
    path = SNAPSHOTS / f"{model.__name__}.json"
    schema = json.dumps(model.model_json_schema(), indent=2, sort_keys=True) + "\n"
    if os.environ.get("MENJAMU_UPDATE_SNAPSHOTS") == "1":
        path.write_text(schema)
    assert path.exists(), f"no snapshot for {model.__name__}: run with MENJAMU_UPDATE_SNAPSHOTS=1"
    assert schema == path.read_text(), (
        f"{model.__name__} changed. Additive change: add an optional field and update the "
        "snapshot. Breaking change: publish a new version on a new stream."
    )


def test_every_event_has_a_versioned_stream_and_unique_name() -> None:
    streams = [m.STREAM for m in ALL_EVENTS]
    assert len(set(streams)) == len(streams)
    for model in ALL_EVENTS:
        assert model.STREAM == f"{model.TYPE}.v{model.VERSION}"
        assert model.__name__.endswith(f"V{model.VERSION}")


def _registered(**overrides: object) -> ParticipantRegisteredV1:
    return participant_registered(correlation_id="corr-1", **overrides)


def test_a_newer_producer_adding_a_field_does_not_break_old_consumers() -> None:
    event = _registered()
    payload = json.loads(event.model_dump_json())
    payload["added_later"] = "x"
    assert ParticipantRegisteredV1.model_validate(payload).event_id == event.event_id


def test_an_event_of_another_type_is_refused() -> None:
    payload = json.loads(_registered().model_dump_json())
    payload["type"] = "certificates.certificate_issued"
    with pytest.raises(ValidationError):
        ParticipantRegisteredV1.model_validate(payload)


def test_caused_event_keeps_tenant_and_correlation_and_points_at_its_cause() -> None:
    from shared.contracts import CertificateIssuedV1

    cause = _registered()
    child = CertificateIssuedV1.caused_by(
        cause,
        source="certificates",
        certificate_id=uuid.uuid4(),
        registration_id=cause.registration_id,
        number="0001/X",
        download_url="u",
        verify_url="v",
    )
    assert (child.tenant, child.correlation_id) == ("mojosari", "corr-1")
    assert child.causation_id == str(cause.event_id)
    assert child.event_id != cause.event_id


def test_naive_timestamps_are_refused() -> None:
    with pytest.raises(ValidationError):
        _registered(occurred_at="2026-12-05T10:00:00")
