"""Messages other services ask for (WhatsAppMessageRequestedV1) reach the citizen once.

Requests go onto the real stream; the consultation service sends them through the Cloud API
adapter to the fake server over HTTP, and tells the requester what became of each one
(WhatsAppMessageStatusV1). The last test runs the survey service beside it: an operator's
reply to a saran ticket arrives at the fake server as a WhatsApp message.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import pytest
from faststream.redis.parser import BinaryMessageFormatV1
from redis.asyncio import Redis
from sqlalchemy import select

from services.consultation.app import MIGRATIONS, create_app
from services.consultation.models import OutboundMessage
from services.consultation.settings import Settings
from services.survey import app as survey_app
from services.survey.settings import Settings as SurveySettings
from shared.contracts import WhatsAppMessageRequestedV1, WhatsAppMessageStatusV1
from tests.component.consultation_support import citizen_says, received
from tests.factories import a_phone, publish
from tests.fakes import cloud_api
from tests.fakes.cloud_api import FakeCloudApi
from tests.support import auth, running_app, wait_for

pytestmark = pytest.mark.integration
REPLY = "Terima kasih atas saran Anda.\n\nTanggapan kami: loket kedua kini dibuka pukul 08.00."


def requested(phone: str, **overrides: Any) -> WhatsAppMessageRequestedV1:
    values: dict[str, Any] = {
        "tenant": "mojosari",
        "source": "survey",
        "correlation_id": f"corr-{uuid.uuid4()}",
        "phone": phone,
        "text": REPLY,
        "purpose": "survey_reply",
        "reference": str(uuid.uuid4()),
    }
    values.update(overrides)
    return WhatsAppMessageRequestedV1(**values)


async def statuses(redis: Redis, request: WhatsAppMessageRequestedV1) -> list[Any]:
    """The status events told back for one request, in order."""
    found = []
    for _id, fields in await redis.xrange(WhatsAppMessageStatusV1.STREAM):
        body, _headers = BinaryMessageFormatV1.parse(fields[b"__data__"])
        event = WhatsAppMessageStatusV1.model_validate_json(body)
        if event.request_event_id == request.event_id:
            found.append(event)
    return found


async def status_reached(redis: Redis, request: WhatsAppMessageRequestedV1, status: str) -> Any:
    async def probe() -> list[Any] | None:
        found = await statuses(redis, request)
        return found if any(e.status == status for e in found) else None

    return await wait_for(probe, timeout=60, what=f"a {status} status for the request")


async def webhook_status(client: Any, wamid: str, status: str, code: int | None = None) -> None:
    value = cloud_api.inbound_text_payload("628", "x", "w", 1)
    value["entry"][0]["changes"][0]["value"] = cloud_api.status_payload(wamid, status, code)
    raw, headers = cloud_api.signed(value)
    answer = await client.post("/webhooks/whatsapp", content=raw, headers=headers)
    assert answer.status_code == 200, answer.text


async def test_a_request_outside_the_window_goes_once_as_the_purpose_template(
    settings: Settings, fake: FakeCloudApi, redis_client: Redis
) -> None:
    phone = a_phone()
    request = requested(phone)
    async with running_app(create_app, settings, MIGRATIONS) as (_app, client):
        await publish(redis_client, request, times=2)  # the relay may publish twice
        [message] = await received(fake, phone, "menjamu_tanggapan_saran")
        params = message["template"]["components"][0]["parameters"]
        # Meta refuses new lines in template variables: the text arrives on one line, whole.
        assert params == [{"type": "text", "text": " ".join(REPLY.split())}]
        [sent] = await status_reached(redis_client, request, "sent")
        assert (sent.purpose, sent.reference, sent.rule) == ("survey_reply", request.reference,
                                                             "template")  # fmt: skip
        assert sent.correlation_id == request.correlation_id
        assert sent.causation_id == str(request.event_id) and sent.tenant == "mojosari"

        wamid = await _provider_id(client, phone)
        await webhook_status(client, wamid, "delivered")
        await webhook_status(client, wamid, "delivered")  # Meta repeats itself
        await webhook_status(client, wamid, "read")
        found = await status_reached(redis_client, request, "read")
        assert [e.status for e in found] == ["sent", "delivered", "read"]
        await publish(redis_client, request)  # a late redelivery changes nothing
        await wait_for(lambda: _drained(redis_client), what="the request stream to be handled")
    assert len(fake.sent_to(phone)) == 1


async def _provider_id(client: Any, phone: str) -> str:
    app = client._transport.app  # the ASGI app behind the test client
    async with app.state.runtime.db.session() as session:
        message = await session.scalar(
            select(OutboundMessage).where(OutboundMessage.to_phone == phone)
        )
    assert message is not None and message.provider_message_id
    return message.provider_message_id


async def _drained(redis: Redis) -> bool:
    groups = await redis.xinfo_groups(WhatsAppMessageRequestedV1.STREAM)
    group = next(g for g in groups if g["name"] == b"consultation.requested")
    return bool(group["pending"] == 0 and group["lag"] == 0)


async def test_a_request_inside_the_window_goes_free_form_with_its_line_breaks(
    settings: Settings, fake: FakeCloudApi, redis_client: Redis
) -> None:
    phone = a_phone()
    request = requested(phone)
    async with running_app(create_app, settings, MIGRATIONS) as (_app, client):
        await citizen_says(client, phone, "halo kak")  # opens the 24-hour window
        await received(fake, phone, "khusus konsultasi")
        await publish(redis_client, request)
        [message] = await received(fake, phone, "loket kedua")
        assert message["type"] == "text" and message["text"]["body"] == REPLY
        [sent] = await status_reached(redis_client, request, "sent")
        assert sent.rule == "free_form"


async def test_throttling_is_retried_and_a_dead_number_or_a_bad_one_fails_back(
    settings: Settings, fake: FakeCloudApi, redis_client: Redis
) -> None:
    throttled, dead = requested(a_phone()), requested(a_phone())
    invalid = requested("+1555123")
    async with running_app(create_app, settings, MIGRATIONS):
        fake.fail_next(429, 130429, "(#130429) Rate limit hit", times=2)
        await publish(redis_client, throttled)
        await received(fake, throttled.phone, "menjamu_tanggapan_saran")
        await status_reached(redis_client, throttled, "sent")

        fake.fail_next(400, 131026, "Message undeliverable")
        await publish(redis_client, dead)
        [failed] = await status_reached(redis_client, dead, "failed")
        assert failed.reason is not None and "131026" in failed.reason
        assert dead.phone[1:] not in failed.model_dump_json()  # no personal data told back

        await publish(redis_client, invalid)
        [refused] = await status_reached(redis_client, invalid, "failed")
        assert refused.reason == "invalid_phone"
    assert [status for status, _ in fake.refused] == [429, 429, 400]
    assert len(fake.sent_to(throttled.phone)) == 1 and not fake.sent_to(dead.phone)
    assert not fake.sent_to(invalid.phone)
    assert len(await statuses(redis_client, throttled)) == 1  # one `sent`, no retry noise


async def test_a_failed_delivery_report_fails_the_request_back(
    settings: Settings, fake: FakeCloudApi, redis_client: Redis
) -> None:
    phone = a_phone()
    request = requested(phone)
    async with running_app(create_app, settings, MIGRATIONS) as (_app, client):
        await publish(redis_client, request)
        await status_reached(redis_client, request, "sent")
        await webhook_status(client, await _provider_id(client, phone), "failed", 131049)
        found = await status_reached(redis_client, request, "failed")
        assert [e.status for e in found] == ["sent", "failed"]
        assert "131049" in (found[1].reason or "")


async def test_an_operators_reply_to_a_saran_reaches_the_citizen_on_whatsapp(
    settings: Settings,
    settings_for: Callable[..., Any],
    fake: FakeCloudApi,
    redis_client: Redis,
) -> None:
    survey_settings = settings_for(SurveySettings)
    async with (
        running_app(create_app, settings, MIGRATIONS),
        running_app(survey_app.create_app, survey_settings, survey_app.MIGRATIONS) as (_s, survey),
    ):
        submitted = await survey.post(
            "/api/v1/units/kantor-kecamatan/responses",
            json={"scores": {f"U{i}": 3 for i in range(1, 10)}, "suggestion": "Antrean lama",
                  "phone": "0812-3456-7890", "phone_consent": True},
        )  # fmt: skip
        assert submitted.status_code == 201, submitted.text
        [ticket] = (await survey.get("/api/v1/tickets", headers=auth())).json()["items"]
        answer = await survey.post(
            f"/api/v1/tickets/{ticket['id']}/reply",
            headers=auth(),
            json={"reply": "Loket kedua kini dibuka pukul 08.00."},
        )
        assert answer.status_code == 200 and answer.json()["reply_sent_by_whatsapp"], answer.text
        [message] = await received(fake, "+6281234567890", "Loket kedua kini dibuka")
        assert message["template"]["name"] == "menjamu_tanggapan_saran"

        async def told_back() -> list[Any] | None:
            found = []
            for _id, fields in await redis_client.xrange(WhatsAppMessageStatusV1.STREAM):
                body, _headers = BinaryMessageFormatV1.parse(fields[b"__data__"])
                found.append(WhatsAppMessageStatusV1.model_validate_json(body))
            return found or None

        [status] = await wait_for(told_back, timeout=60, what="the status told back")
        assert (status.status, status.reference) == ("sent", ticket["id"])
