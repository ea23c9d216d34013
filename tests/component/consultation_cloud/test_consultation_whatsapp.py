"""Consultation over WhatsApp, end to end against a fake Cloud API server on localhost.

Signed webhooks go into the real service (real Redis streams, SQLite and PostgreSQL); what the
service sends arrives at the fake over HTTP, as it would at Meta.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from faststream.redis.parser import BinaryMessageFormatV1
from redis.asyncio import Redis

from services.consultation.app import MIGRATIONS, create_app
from services.consultation.settings import Settings
from shared.contracts import ConversationAssignedV1, ConversationClosedV1
from tests.component.consultation_support import (
    add_mentor,
    assigned_to,
    citizen_says,
    conversations,
    received,
)
from tests.factories import a_phone
from tests.fakes import cloud_api
from tests.fakes.cloud_api import FakeCloudApi
from tests.support import auth, running_app

pytestmark = pytest.mark.integration


async def stream_events(redis: Redis, model: Any) -> list[Any]:
    events = []
    for _id, fields in await redis.xrange(model.STREAM):
        body, _headers = BinaryMessageFormatV1.parse(fields[b"__data__"])
        events.append(model.model_validate_json(body))
    return events


async def test_meta_verification_handshake_echoes_the_challenge_only_for_the_right_token(
    settings: Settings,
) -> None:
    async with running_app(create_app, settings, MIGRATIONS) as (_app, client):
        params = {"hub.mode": "subscribe", "hub.verify_token": cloud_api.VERIFY_TOKEN}
        ok = await client.get(
            "/webhooks/whatsapp", params={**params, "hub.challenge": "1158201444"}
        )
        assert ok.status_code == 200 and ok.text == "1158201444"
        bad = await client.get(
            "/webhooks/whatsapp",
            params={**params, "hub.verify_token": "guess", "hub.challenge": "1"},
        )
        assert bad.status_code == 403


async def test_unsigned_or_wrongly_signed_webhooks_get_401_and_nothing_is_stored(
    settings: Settings, fake: FakeCloudApi, redis_client: Redis
) -> None:
    phone = a_phone()
    payload = cloud_api.inbound_text_payload(phone[1:], "syarat KK?", "wamid.forged", 1_790_000_000)
    raw, headers = cloud_api.signed(payload, secret="not-the-app-secret")
    async with running_app(create_app, settings, MIGRATIONS) as (_app, client):
        forged = await client.post("/webhooks/whatsapp", content=raw, headers=headers)
        unsigned = await client.post("/webhooks/whatsapp", content=raw)
        assert forged.status_code == 401 and unsigned.status_code == 401
        assert "Tanda tangan" in forged.json()["message"]
        garbage, garbage_headers = cloud_api.signed({"object": "page", "entry": []})
        malformed = await client.post(
            "/webhooks/whatsapp", content=garbage, headers=garbage_headers
        )
        assert malformed.status_code == 400
        # A later genuine message is answered, the forged one never was.
        await citizen_says(client, phone, "halo")
        await received(fake, phone, "khusus konsultasi")
    assert await redis_client.xlen("consultation.message_received.v1") == 1
    assert all("Persyaratan" not in str(m) for m in fake.sent_to(phone))


async def test_a_requirement_question_is_answered_automatically_once(
    settings: Settings, fake: FakeCloudApi
) -> None:
    phone = a_phone()
    async with running_app(create_app, settings, MIGRATIONS) as (_app, client):
        message_id = await citizen_says(client, phone, "syarat pecah KK apa saja?")
        await citizen_says(client, phone, "syarat pecah KK apa saja?", message_id=message_id)
        [answer] = await received(fake, phone, "Persyaratan Pecah KK")
        assert answer["type"] == "text"  # inside the 24-hour window: free-form
        assert "1. KK Asli" in answer["text"]["body"]
        assert (
            "Jl. Hayam Wuruk" in answer["text"]["body"] and "Balas MENTOR" in answer["text"]["body"]
        )
        # Javanese; and the duplicate delivery above produced no second answer.
        await citizen_says(client, phone, "akte lair syarate opo wae?")
        await received(fake, phone, "Persyaratan Akta Kelahiran")
        assert len([m for m in fake.sent_to(phone) if "Pecah KK" in str(m)]) == 1


async def test_mentor_request_assigns_a_mentor_whose_reply_reaches_the_citizen(
    settings: Settings, fake: FakeCloudApi, redis_client: Redis
) -> None:
    citizen, mentor_phone = a_phone(), a_phone()
    async with running_app(create_app, settings, MIGRATIONS) as (_app, client):
        mentor_id, token = await add_mentor(client, "Sari", mentor_phone, topics=["KK"])
        await citizen_says(client, citizen, "syarat pecah KK apa saja?")
        await received(fake, citizen, "Persyaratan Pecah KK")
        await citizen_says(client, citizen, "MENTOR")
        conv = await assigned_to(client, token)
        assert conv["mentor_id"] == mentor_id and conv["topic"] == "KK"
        assert 0 < conv["window_left_s"] <= 24 * 3600
        assert conv["phone"] != citizen and "*" in conv["phone"]  # masked for mentors
        await received(fake, citizen, "diteruskan kepada mentor Sari")
        [notice] = await received(fake, mentor_phone, "menjamu_pemberitahuan")
        assert notice["type"] == "template"  # the mentor never wrote: outside the window
        reply = await client.post(
            f"/api/v1/conversations/{conv['id']}/messages",
            headers=auth(token),
            json={"text": "Bawa KK asli dan fotokopi buku nikah ya."},
        )
        assert reply.status_code == 200, reply.text
        [sent] = await received(fake, citizen, "Bawa KK asli")
        assert sent["type"] == "text"
        detail = await client.get(f"/api/v1/conversations/{conv['id']}", headers=auth(token))
        authors = [m["author"] for m in detail.json()["messages"]]
        assert authors[:2] == ["citizen", "bot"] and "mentor" in authors
        assert any("Pecah KK" in c for c in detail.json()["canned_answers"])
    assigned = await stream_events(redis_client, ConversationAssignedV1)
    assert [str(e.conversation_id) for e in assigned] == [conv["id"]]


async def test_a_mentor_sees_only_their_own_conversations(
    settings: Settings, fake: FakeCloudApi
) -> None:
    async with running_app(create_app, settings, MIGRATIONS) as (_app, client):
        _a, token_a = await add_mentor(client, "Ani", a_phone(), topics=["KTP"], capacity=1)
        citizen = a_phone()
        await citizen_says(client, citizen, "MENTOR")
        conv = await assigned_to(client, token_a)
        _b, token_b = await add_mentor(client, "Budi", a_phone(), topics=["KTP"])
        assert await conversations(client, token_b) == []
        other = await client.get(f"/api/v1/conversations/{conv['id']}", headers=auth(token_b))
        assert other.status_code == 404
        hijack = await client.post(
            f"/api/v1/conversations/{conv['id']}/messages",
            headers=auth(token_b),
            json={"text": "x"},
        )
        assert hijack.status_code == 404
        assert [c["id"] for c in await conversations(client, "test-admin-token")] == [conv["id"]]
        mentors = await client.get("/api/v1/mentors", headers=auth(token_a))
        assert mentors.status_code == 403  # the roster is the operators'


async def test_sla_reassigns_an_unanswered_conversation_and_tells_both(
    settings: Settings, fake: FakeCloudApi, redis_client: Redis
) -> None:
    citizen, slow_phone, quick_phone = a_phone(), a_phone(), a_phone()
    async with running_app(create_app, settings, MIGRATIONS) as (app, client):
        slow_id, slow_token = await add_mentor(client, "Lambat", slow_phone, topics=["Akta"])
        await citizen_says(client, citizen, "anak saya lahir kemarin, mau tanya akta")
        conv = await assigned_to(client, slow_token)
        quick_id, quick_token = await add_mentor(client, "Sigap", quick_phone, topics=["Akta"])
        app.state.consultation.clock.advance(timedelta(minutes=11))
        moved = await assigned_to(client, quick_token)
        assert moved["id"] == conv["id"]
        assert await conversations(client, slow_token) == []
        await received(fake, slow_phone, "dialihkan ke mentor lain")
        await received(fake, quick_phone, "dialihkan kepada Anda")
        await received(fake, citizen, "kini ditangani mentor Sigap")
        mentors = {m["id"]: m for m in (await client.get("/api/v1/mentors", headers=auth())).json()}
        assert mentors[slow_id]["open_conversations"] == 0
        assert mentors[quick_id]["open_conversations"] == 1
    events = await stream_events(redis_client, ConversationAssignedV1)
    assert [e.reassigned for e in events] == [False, True]


async def test_when_nobody_is_free_the_citizen_is_queued_and_the_queue_drains_on_close(
    settings: Settings, fake: FakeCloudApi, redis_client: Redis
) -> None:
    first, second = a_phone(), a_phone()
    async with running_app(create_app, settings, MIGRATIONS) as (_app, client):
        _id, token = await add_mentor(client, "Tunggal", a_phone(), topics=["Pindah"], capacity=1)
        await citizen_says(client, first, "mau tanya soal pindah domisili")
        conv = await assigned_to(client, token)
        await citizen_says(client, second, "mau tanya soal pindah domisili juga")
        await received(fake, second, "antrean nomor 1")
        closed = await client.post(f"/api/v1/conversations/{conv['id']}/close", headers=auth(token))
        assert closed.status_code == 200 and closed.json()["status"] == "closed"
        await received(fake, first, "angka 1 (sangat buruk) sampai 5")
        await received(fake, second, "diteruskan kepada mentor Tunggal")
        await citizen_says(client, first, "5")
        await received(fake, first, "Terima kasih atas penilaian Anda")
        metrics = await client.get("/api/v1/consultation/metrics", headers=auth())
        assert metrics.json()["closed"] == 1 and metrics.json()["rating_avg"] == 5
        assert metrics.json()["assigned"] == 1
    [closed_event] = await stream_events(redis_client, ConversationClosedV1)
    assert str(closed_event.conversation_id) == conv["id"] and closed_event.resolution_s >= 0


async def test_offensive_messages_are_refused_counted_and_repeat_offenders_flagged(
    settings: Settings, fake: FakeCloudApi
) -> None:
    phone = a_phone()
    async with running_app(create_app, settings, MIGRATIONS) as (_app, client):
        _id, token = await add_mentor(client, "Mentor", a_phone(), topics=["KK"])
        for text in ("k4f1r semua", "b o k e p", "sebarkan sebelum dihapus"):
            await citizen_says(client, phone, text)
        refusals = await received(fake, phone, "tidak dapat kami proses", count=3)
        assert "Dilarang SARA, hoaks dan pornografi" in refusals[0]["text"]["body"]
        await citizen_says(client, phone, "MENTOR")
        conv = await assigned_to(client, token)
        assert conv["repeat_offender"] is True
        metrics = (await client.get("/api/v1/consultation/metrics", headers=auth())).json()
        assert metrics["moderated"] == {"sara": 1, "pornografi": 1, "hoaks": 1}
        detail = (
            await client.get(f"/api/v1/conversations/{conv['id']}", headers=auth(token))
        ).json()
        assert all("k4f1r" not in m["body"] for m in detail["messages"])  # refused text not kept


async def test_the_inbox_page_is_served_without_data_until_a_token_is_given(
    settings: Settings,
) -> None:
    async with running_app(create_app, settings, MIGRATIONS) as (_app, client):
        page = await client.get("/inbox")
        assert page.status_code == 200 and "Kotak masuk mentor" in page.text
        assert "/conversations" in page.text and "+62" not in page.text
        assert (await client.get("/api/v1/conversations")).status_code == 401
        assert (await client.get("/dev/whatsapp")).status_code == 404  # cloud gateway: no dev page


async def test_a_burst_handled_as_one_batch_gives_each_citizen_one_conversation_in_order(
    settings: Settings, fake: FakeCloudApi
) -> None:
    """Several messages in one transaction (the batch reader's path), two from one citizen."""
    from services.consultation.handlers import Reactions
    from shared.contracts import MessageReceivedV1, utcnow

    asker, second, third = a_phone(), a_phone(), a_phone()

    def says(phone: str, text: str) -> MessageReceivedV1:
        return MessageReceivedV1(
            tenant="mojosari", source="consultation", correlation_id=f"wa-{phone}-{text}",
            gateway="cloud", provider_message_id=f"wamid.burst.{phone}.{text}", phone=phone,
            text=text, received_at=utcnow(),
        )  # fmt: skip

    burst = [
        says(asker, "syarat pecah KK apa saja?"),
        says(asker, "MENTOR"),
        says(second, "MENTOR"),
        says(third, "MENTOR"),
    ]
    async with running_app(create_app, settings, MIGRATIONS) as (app, client):
        mentor_id, token = await add_mentor(client, "Dewi", a_phone(), topics=["KK", "Lainnya"],
                                            capacity=2)  # fmt: skip
        async with app.state.runtime.db.session() as session:
            caused = await Reactions(app.state.consultation).answer_many(session, burst)
        assert sorted(type(e).__name__ for e in caused) == ["ConversationAssignedV1"] * 2
        await received(fake, asker, "Persyaratan Pecah KK")
        await received(fake, asker, "diteruskan kepada mentor Dewi")
        await received(fake, third, "antrean nomor 1")
        mine = await conversations(client, token)
        assert sorted(c["status"] for c in mine) == ["assigned", "assigned"]
        everyone = await conversations(client, "test-admin-token")
        assert len(everyone) == 3  # one conversation per citizen, the asker's included
        by_status = sorted(c["status"] for c in everyone)
        assert by_status == ["assigned", "assigned", "queued"]
        assert next(c for c in mine if c["topic"] == "KK")
        detail = await client.get(
            f"/api/v1/conversations/{next(c for c in mine if c['topic'] == 'KK')['id']}",
            headers=auth(token),
        )
        authors = [m["author"] for m in detail.json()["messages"]]
        assert authors[:3] == ["citizen", "bot", "citizen"]  # the order they wrote in
        roster = {m["id"]: m for m in (await client.get("/api/v1/mentors", headers=auth())).json()}
        assert roster[mentor_id]["open_conversations"] == 2
