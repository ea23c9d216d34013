"""`menjamu asyncapi`: the event catalogue names every contract, its producer and its groups."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

import shared.contracts
from services.cli import main
from shared.contracts import (
    ActivityChangedV1,
    CertificateIssuedV1,
    CertificateRevokedV1,
    ConversationAssignedV1,
    ConversationClosedV1,
    Event,
    IkmUpdatedV1,
    InvitationClickedV1,
    InvitationDeliveredV1,
    InvitationSentV1,
    MessageModeratedV1,
    MessageReceivedV1,
    ParticipantCancelledV1,
    ParticipantCheckedInV1,
    ParticipantRegisteredV1,
    ResponseSubmittedV1,
    TicketClosedV1,
    TicketOpenedV1,
    TicketRepliedV1,
    WhatsAppMessageRequestedV1,
    WhatsAppMessageStatusV1,
)

DASHBOARD = "dashboard.read_model"

# The topology as the README describes it: who publishes each event, which groups react.
EXPECTED: dict[type[Event], tuple[str, set[str]]] = {
    ParticipantRegisteredV1: (
        "registration",
        {"certificates.issue", "consultation.invite", "survey.guides", DASHBOARD},
    ),
    ParticipantCheckedInV1: ("registration", {"certificates.check_in", DASHBOARD}),
    ParticipantCancelledV1: ("registration", {"certificates.cancel", DASHBOARD}),
    ActivityChangedV1: ("registration", {"consultation.activity_changed", DASHBOARD}),
    CertificateIssuedV1: (
        "certificates",
        {"registration.certificates", "consultation.certificate", DASHBOARD},
    ),
    CertificateRevokedV1: ("certificates", {DASHBOARD}),
    InvitationSentV1: ("consultation", {DASHBOARD}),
    InvitationDeliveredV1: ("consultation", {DASHBOARD}),
    InvitationClickedV1: ("consultation", {DASHBOARD}),
    MessageReceivedV1: ("consultation", {"consultation.inbound", DASHBOARD}),
    ConversationAssignedV1: ("consultation", {DASHBOARD}),
    ConversationClosedV1: ("consultation", {DASHBOARD}),
    MessageModeratedV1: ("consultation", {DASHBOARD}),
    ResponseSubmittedV1: ("survey", {"survey.aggregate", DASHBOARD}),
    IkmUpdatedV1: ("survey", {DASHBOARD}),
    TicketOpenedV1: ("survey", {DASHBOARD}),
    TicketRepliedV1: ("survey", {DASHBOARD}),
    TicketClosedV1: ("survey", {DASHBOARD}),
    WhatsAppMessageRequestedV1: ("survey", {"consultation.requested", DASHBOARD}),
    # Told back to the asking service; the dashboard counts them (survey could show it too).
    WhatsAppMessageStatusV1: ("consultation", {DASHBOARD}),
}


def _contracts() -> list[type[Event]]:
    """Every concrete contract defined in shared/contracts (not only those in ALL_EVENTS)."""
    found: list[type[Event]] = []
    todo = list(Event.__subclasses__())
    while todo:
        cls = todo.pop()
        todo += cls.__subclasses__()
        if cls.__module__.startswith(shared.contracts.__name__) and hasattr(cls, "STREAM"):
            found.append(cls)
    return found


@pytest.fixture(scope="module")
def document(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    output: Path = tmp_path_factory.mktemp("catalogue") / "asyncapi.json"
    assert main(["asyncapi", "--output", str(output)]) == 0
    loaded: dict[str, Any] = json.loads(output.read_text(encoding="utf-8"))
    return loaded


def _channels(document: dict[str, Any], stream: str, method: str) -> list[dict[str, Any]]:
    return [
        channel
        for channel in document["channels"].values()
        if channel["address"] == stream and channel["bindings"]["redis"]["method"] == method
    ]


def test_the_document_is_asyncapi_3(document: dict[str, Any]) -> None:
    assert document["asyncapi"] == "3.0.0"
    assert document["info"]["title"] == "Menjamu event catalogue"
    assert set(document["operations"]) == set(document["channels"])


@pytest.mark.parametrize("contract", _contracts(), ids=lambda c: c.__name__)
def test_every_contract_appears_with_its_producer_and_consumer_groups(
    document: dict[str, Any], contract: type[Event]
) -> None:
    assert contract in EXPECTED, f"{contract.__name__}: add it to ALL_EVENTS and this table"
    producer, groups = EXPECTED[contract]
    entry = document["x-streams"][contract.STREAM]
    assert entry["contract"] == contract.__name__
    assert entry["producers"] == [producer]
    assert set(entry["consumer_groups"]) == groups
    assert entry["dead_letters"] == f"{contract.STREAM}.dlq"
    # The channels say the same: one xadd per producer, one xreadgroup per consumer group.
    publishers = _channels(document, contract.STREAM, "xadd")
    assert [c["description"].split()[0] for c in publishers] == [producer]
    readers = _channels(document, contract.STREAM, "xreadgroup")
    assert {c["bindings"]["redis"]["groupName"] for c in readers} == groups


@pytest.mark.parametrize("contract", _contracts(), ids=lambda c: c.__name__)
def test_every_payload_schema_is_the_contracts_own(
    document: dict[str, Any], contract: type[Event]
) -> None:
    schema = document["components"]["schemas"][contract.__name__]
    expected = contract.model_json_schema()
    assert set(schema["properties"]) == set(expected["properties"])
    assert set(schema.get("required", [])) == set(expected.get("required", []))
    assert schema["properties"]["type"]["const"] == contract.TYPE
    messages = document["components"]["messages"]
    payloads = {
        messages[ref.rsplit("/", 1)[-1]]["payload"]["$ref"]
        for channel in document["channels"].values()
        if channel["address"] == contract.STREAM
        for ref in (m["$ref"] for m in channel["messages"].values())
    }
    assert payloads == {f"#/components/schemas/{contract.__name__}"}


async def test_each_service_serves_its_part_of_the_catalogue(tmp_path: Path) -> None:
    """GET /asyncapi.json: the streams the service publishes or consumes, nothing else."""
    import httpx

    from services.registration.app import create_app
    from services.registration.settings import Settings

    app = create_app(Settings(data_dir=tmp_path))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        response = await client.get("/asyncapi.json")
    assert response.status_code == 200
    streams = response.json()["x-streams"]
    published = {c for c, (producer, _groups) in EXPECTED.items() if producer == "registration"}
    consumed = {c for c, (_p, groups) in EXPECTED.items() if "registration.certificates" in groups}
    assert set(streams) == {c.STREAM for c in published | consumed}
    assert streams[CertificateIssuedV1.STREAM]["consumer_groups"] == ["registration.certificates"]
    assert streams[CertificateIssuedV1.STREAM]["producers"] == []
    assert streams[ParticipantRegisteredV1.STREAM]["producers"] == ["registration"]
