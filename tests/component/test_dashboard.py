"""Dashboard service against a real database and the machine's Redis: events in, numbers out."""

from __future__ import annotations

import asyncio
import shutil
import uuid
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Literal

import pytest
from redis.asyncio import Redis

from services.dashboard import service
from services.dashboard.app import MIGRATIONS, create_app
from services.dashboard.settings import Settings
from shared.auth import issue_token
from shared.contracts import (
    CertificateIssuedV1,
    Event,
    InvitationSentV1,
    ResponseSubmittedV1,
    TicketClosedV1,
    TicketOpenedV1,
    TicketRepliedV1,
)
from shared.db import Database
from shared.migrations import upgrade
from shared.settings import PROJECT_ROOT
from shared.streams import dead_letter
from tests.factories import participant_registered, publish
from tests.support import ADMIN_TOKEN, auth, running_app, wait_for

pytestmark = pytest.mark.integration
DESA = ["Wonokusumo", "Sooko", "Modopuro", None]
LEVELS = ["SMA", "SMP", "Mahasiswa"]


@pytest.fixture
def tenants_dir(tmp_path: Path) -> Path:
    """Mojosari plus a second kecamatan, to prove one operator never sees the other's data."""
    folder = tmp_path / "tenants"
    folder.mkdir()
    source = PROJECT_ROOT / "deploy" / "tenants" / "mojosari.yaml"
    shutil.copy(source, folder / "mojosari.yaml")
    other = source.read_text().replace("code: mojosari", "code: pungging")
    (folder / "pungging.yaml").write_text(other.replace("Kecamatan Mojosari", "Kecamatan Pungging"))
    return folder


@pytest.fixture
def settings(settings_for: Callable[..., Settings], tenants_dir: Path) -> Settings:
    return settings_for(Settings, tenants_dir=tenants_dir, service_urls={})


def operator(tenant: str) -> dict[str, str]:
    return auth(issue_token(ADMIN_TOKEN, role="operator", tenant=tenant, subject="loket"))


def issued(registration: Any) -> CertificateIssuedV1:
    return CertificateIssuedV1.caused_by(
        registration,
        source="certificates",
        certificate_id=uuid.uuid4(),
        registration_id=registration.registration_id,
        number=f"{uuid.uuid4().hex[:4]}/SERT-MENJAMU/MOJOSARI/2026",
        download_url="http://x/pdf",
        verify_url="http://x/verify",
    )


def invited(registration: Any) -> InvitationSentV1:
    return InvitationSentV1.caused_by(
        registration,
        source="consultation",
        invitation_id=uuid.uuid4(),
        registration_id=registration.registration_id,
        group_id=uuid.uuid4(),
        gateway="dev",
    )


def answered(scores: dict[str, int | None]) -> ResponseSubmittedV1:
    now = datetime.now(UTC)
    return ResponseSubmittedV1(
        tenant="mojosari",
        source="survey",
        correlation_id=f"s-{uuid.uuid4().hex[:8]}",
        response_id=uuid.uuid4(),
        unit="kantor-kecamatan",
        submitted_at=now,
        local_date=now.date(),
        scores=scores,
    )


async def summary(client: Any, **params: Any) -> dict[str, Any]:
    response = await client.get("/api/v1/summary", params=params, headers=auth())
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_the_read_model_equals_the_sum_of_the_events_after_redeliveries(
    settings: Settings, redis_client: Redis
) -> None:
    registrations = [
        participant_registered(desa=DESA[i % 4], level=LEVELS[i % 3], occurred_at=datetime.now(UTC))
        for i in range(24)
    ]
    async with running_app(create_app, settings, MIGRATIONS) as (_app, client):
        for i, registration in enumerate(registrations):
            # Every event at least twice, some three times: the relay and replays do that.
            await publish(redis_client, registration, times=2 + i % 2)
            if i % 2 == 0:
                await publish(redis_client, issued(registration), times=2)
            if i % 3 == 0:
                await publish(redis_client, invited(registration), times=2)
        for scores in ({f"U{i}": 4 for i in range(1, 10)}, {f"U{i}": 2 for i in range(1, 10)}):
            await publish(redis_client, answered(scores), times=2)

        async def settled() -> dict[str, Any] | None:
            body = await summary(client)
            totals = body["totals"]
            done = (
                totals["registrations"]["today"] == 24
                and totals["certificates_issued"]["today"] == 12
                and totals["invitations_sent"]["today"] == 8
                and totals["survey_responses"]["today"] == 2
            )
            return body if done else None

        body = await wait_for(settled, timeout=60, what="the read model to count every event")
        # Published again after the fact (a DLQ replay): nothing changes.
        await publish(redis_client, registrations[0], times=3)
        await wait_for(lambda: _lag_zero(redis_client), what="the replayed copies to be read")
        again = await summary(client)

    desa = Counter(r.desa or "(tidak diisi)" for r in registrations)
    levels = Counter(r.level for r in registrations)
    assert {row["name"]: row["today"] for row in body["by_desa"]} == dict(desa)
    assert {row["name"]: row["month"] for row in body["by_level"]} == dict(levels)
    assert again["totals"] == body["totals"] and again["by_desa"] == body["by_desa"]
    assert body["ikm"]["period"] == 75.0  # NRR 3.0 on every unsur x 25
    assert body["daily"]["registrations"][-1] == 24


async def _lag_zero(redis: Redis) -> bool:
    groups = await redis.xinfo_groups("registration.participant_registered.v1")
    return all((g.get("lag") or 0) == 0 and g.get("pending") == 0 for g in groups)


async def test_a_journey_lists_every_step_in_time_order_for_its_own_kecamatan_only(
    settings: Settings, redis_client: Redis
) -> None:
    registration = participant_registered(desa="Sooko", phone="+6281234567001")
    async with running_app(create_app, settings, MIGRATIONS) as (_app, client):
        await publish(redis_client, registration)
        await publish(redis_client, issued(registration))
        url = f"/api/v1/journeys/{registration.registration_id}"

        async def two_steps() -> dict[str, Any] | None:
            response = await client.get(url, headers=operator("mojosari"))
            body = response.json()
            return body if response.status_code == 200 and len(body["steps"]) == 2 else None

        journey = await wait_for(two_steps, what="the journey's two steps")
        other = await client.get(url, headers=operator("pungging"))
        anonymous = await client.get(url)
        forged = await client.get(url, headers=auth("mj1.eyJyIjoiYWRtaW4ifQ.bad"))
        by_phone = await client.get(
            "/api/v1/journeys", params={"phone": "0812-3456-7001"}, headers=operator("mojosari")
        )
        by_phone_other = await client.get(
            "/api/v1/journeys", params={"phone": "0812-3456-7001"}, headers=operator("pungging")
        )
        bad_phone = await client.get(
            "/api/v1/journeys", params={"phone": "12ab"}, headers=operator("mojosari")
        )
        unknown = await client.get(f"/api/v1/journeys/{uuid.uuid4()}", headers=auth())
        # The invitation reaction gave up on this registration: the journey says so.
        stream = registration.STREAM
        message_id = (await redis_client.xrange(stream, count=1))[0][0].decode()
        fields = (await redis_client.xrange(stream, message_id, message_id))[0][1]
        await dead_letter(
            redis_client, stream=stream, group="consultation.invite", message_id=message_id,
            data=fields, deliveries=5, reason="gateway down", maxlen=1000,
        )  # fmt: skip
        with_dead = (await client.get(url, headers=operator("mojosari"))).json()

    assert [s["type"] for s in journey["steps"]] == [
        "registration.participant_registered",
        "certificates.certificate_issued",
    ]
    assert journey["phone_masked"] == "+6281****01"
    assert "+6281234567001" not in str(journey) and "Ayu" not in str(journey)
    assert journey["missing"] == ["undangan WhatsApp terkirim"]
    assert [(d["group"], d["reason"]) for d in with_dead["dead_letters"]] == [
        ("consultation.invite", "gateway down")
    ]
    assert other.status_code == 404 and unknown.status_code == 404
    assert anonymous.status_code == 401 and forged.status_code == 401
    assert [j["registration_id"] for j in by_phone.json()["journeys"]] == [
        str(registration.registration_id)
    ]
    assert by_phone_other.json()["journeys"] == []
    assert bad_phone.status_code == 422 and bad_phone.json()["fields"][0]["field"] == "phone"


async def test_an_operator_lists_and_replays_only_their_own_kecamatans_dead_letters(
    settings: Settings, redis_client: Redis
) -> None:
    stream = "registration.participant_registered.v1"
    async with running_app(create_app, settings, MIGRATIONS) as (_app, client):
        ids = {}
        for tenant in ("mojosari", "pungging"):
            event = participant_registered(tenant=tenant)
            [message_id] = await publish(redis_client, event)
            await redis_client.xgroup_create(stream, f"test.{tenant}", id="0", mkstream=True)
            fields = (await redis_client.xrange(stream, message_id, message_id))[0][1]
            await dead_letter(
                redis_client, stream=stream, group=f"certificates.{tenant}", message_id=message_id,
                data=fields, deliveries=5, reason="boom", maxlen=1000,
            )  # fmt: skip
            ids[tenant] = event
        listed = await client.get(
            "/api/v1/dead-letters", params={"stream": stream}, headers=operator("mojosari")
        )
        pungging_entry = (
            await client.get(
                "/api/v1/dead-letters", params={"stream": stream}, headers=operator("pungging")
            )
        ).json()[0]["id"]
        stolen = await client.post(
            "/api/v1/dead-letters/replay",
            json={"stream": stream, "ids": [pungging_entry]},
            headers=operator("mojosari"),
        )
        own = await client.post(
            "/api/v1/dead-letters/replay",
            json={"stream": stream, "ids": [listed.json()[0]["id"]]},
            headers=operator("mojosari"),
        )
        unknown_stream = await client.get(
            "/api/v1/dead-letters", params={"stream": "nope"}, headers=operator("mojosari")
        )
        mentor = await client.get(
            "/api/v1/dead-letters",
            params={"stream": stream},
            headers=auth(issue_token(ADMIN_TOKEN, role="mentor", tenant="mojosari", subject="m")),
        )
    rows = listed.json()
    assert [r["tenant"] for r in rows] == ["mojosari"]
    assert rows[0]["event_id"] == str(ids["mojosari"].event_id) and rows[0]["reason"] == "boom"
    assert stolen.json() == {"replayed": 0} and own.json() == {"replayed": 1}
    assert await redis_client.xlen(f"{stream}.dlq") == 1  # pungging's is still there
    assert unknown_stream.status_code == 422 and mentor.status_code == 403


async def test_business_counters_by_tenant_are_exported_and_metrics_need_the_token(
    settings_for: Callable[..., Settings], tenants_dir: Path, redis_client: Redis
) -> None:
    settings = settings_for(Settings, tenants_dir=tenants_dir, service_urls={}, metrics_token="m-t")
    async with running_app(create_app, settings, MIGRATIONS) as (_app, client):
        await publish(redis_client, participant_registered())

        async def scraped() -> str | None:
            response = await client.get("/metrics", headers=auth("m-t"))
            text = response.text
            return text if 'menjamu_registrations_total{tenant="mojosari"} 1.0' in text else None

        await client.get(f"/api/v1/journeys/{uuid.uuid4()}", headers=auth())
        text = await wait_for(scraped, what="the registration counter")
        refused = await client.get("/metrics")
        wrong = await client.get("/metrics", headers=auth("nope"))
    assert 'menjamu_registrations_total{tenant="pungging"} 0.0' in text
    assert 'menjamu_consumer_messages_total{group="dashboard.read_model",outcome="handled"' in text
    assert "menjamu_consumer_lag{" in text and "menjamu_outbox_backlog{" in text
    # Requests are labelled by route template, never by the raw path with its id.
    assert (
        'menjamu_http_requests_total{method="GET",route="/api/v1/journeys/{registration_id}",'
        'service="dashboard",status="404"}' in text
    )
    assert refused.status_code == 401 and wrong.status_code == 401


class ConversationAssignedV1(Event):
    """The consultation service's assignment event (its contract lands with that service)."""

    type: Literal["consultation.conversation_assigned"] = "consultation.conversation_assigned"
    version: Literal[1] = 1
    conversation_id: uuid.UUID


class ConversationClosedV1(Event):
    """The consultation service's closing event, with the first-response time."""

    type: Literal["consultation.conversation_closed"] = "consultation.conversation_closed"
    version: Literal[1] = 1
    conversation_id: uuid.UUID
    first_response_s: float | None = None


async def test_the_consultation_queue_counts_open_conversations_and_first_response_times(
    settings: Settings,
) -> None:
    await asyncio.to_thread(upgrade, settings, MIGRATIONS)
    db = Database(settings)
    now = datetime.now(UTC)
    envelope = {"tenant": "mojosari", "source": "consultation", "correlation_id": "c"}
    first, second = uuid.uuid4(), uuid.uuid4()
    hours = [3.0, 1.0, 5 / 60]  # the third is a reassignment (after the SLA) of the first
    events: list[Event] = [
        ConversationAssignedV1(
            **envelope, conversation_id=item, occurred_at=now - timedelta(hours=h)
        )
        for item, h in zip((first, second, first), hours, strict=True)
    ]
    events.append(ConversationClosedV1(**envelope, conversation_id=second, first_response_s=120.0))
    try:
        for event in events:
            async with db.session() as session:
                await service.record_event(session, event, "Asia/Jakarta")
        async with db.session() as session:
            queue = (await service.snapshot(session, "mojosari", now, "Asia/Jakarta"))["queue"]
    finally:
        await db.dispose()
    assert queue["consultations_open"] == 1
    assert queue["oldest_consultation_hours"] == 3.0
    assert queue["first_response_avg_s"] == 120
    assert queue["complaints_open"] == 0


async def test_the_login_form_refuses_a_flood_of_attempts_from_one_address_politely(
    settings: Settings,
) -> None:
    settings = settings.model_copy(update={"login_attempts_per_minute": 3})
    async with running_app(create_app, settings, MIGRATIONS) as (_app, client):
        for _ in range(3):
            wrong = await client.post("/dashboard/masuk", data={"token": "salah"})
            assert wrong.status_code == 401
        flooded = await client.post("/dashboard/masuk", data={"token": ADMIN_TOKEN})
        assert flooded.status_code == 429
        assert int(flooded.headers["Retry-After"]) > 0
        assert "Terlalu banyak percobaan masuk" in flooded.text
        assert "set-cookie" not in flooded.headers  # a right token in a flood still waits


async def test_the_journal_forgets_old_journeys_and_keeps_the_counters(
    settings_for: Callable[..., Settings], tenants_dir: Path, redis_client: Redis
) -> None:
    settings = settings_for(
        Settings, tenants_dir=tenants_dir, service_urls={}, journal_retention_days=30
    )
    now = datetime.now(UTC)
    old = participant_registered(occurred_at=now - timedelta(days=40))
    recent = participant_registered(occurred_at=now - timedelta(days=2))
    async with running_app(create_app, settings, MIGRATIONS) as (app, client):
        for registration in (old, recent):
            certificate = issued(registration).model_copy(
                update={"occurred_at": registration.occurred_at + timedelta(minutes=1)}
            )
            await publish(redis_client, registration)
            await publish(redis_client, certificate)

        async def journeys_of(registration: Any) -> int:
            url = f"/api/v1/journeys/{registration.registration_id}"
            response = await client.get(url, headers=auth())
            return len(response.json()["steps"]) if response.status_code == 200 else 0

        async def both_seen() -> bool:
            return await journeys_of(old) == 2 and await journeys_of(recent) == 2

        await wait_for(both_seen, timeout=60, what="both journeys in the journal")
        before = (await summary(client))["totals"]
        removed = await app.state.runtime.retention.apply(now)
        assert removed["journal_entries"] == 2
        gone = await client.get(f"/api/v1/journeys/{old.registration_id}", headers=auth())
        kept = await journeys_of(recent)
        after = (await summary(client))["totals"]
        again = await app.state.runtime.retention.apply(now)
    assert gone.status_code == 404 and kept == 2
    assert after == before  # the daily counters are not the journal
    assert again["journal_entries"] == 0


def _ticket(kind: type[Event], ticket: uuid.UUID, at: datetime, **fields: Any) -> Event:
    envelope = {"tenant": "mojosari", "source": "survey", "correlation_id": f"t-{ticket}"}
    return kind(**envelope, ticket_id=ticket, unit="kantor-kecamatan", occurred_at=at, **fields)


async def test_survey_complaint_tickets_fill_the_complaint_tiles(
    settings: Settings, redis_client: Redis
) -> None:
    now = datetime.now(UTC)
    t1, t2, t3, t4 = (uuid.uuid4() for _ in range(4))

    def opened(ticket: uuid.UUID, hours: float) -> Event:
        at = now - timedelta(hours=hours)
        return _ticket(TicketOpenedV1, ticket, at, response_id=uuid.uuid4(), opened_at=at)

    def replied(ticket: uuid.UUID, seconds: float, closed: bool) -> Event:
        return _ticket(
            TicketRepliedV1, ticket, now, replied_at=now, first_response_s=seconds,
            closed=closed, sent_by_whatsapp=False,
        )  # fmt: skip

    events = [
        opened(t1, 5), replied(t1, 3600, closed=False),  # answered, still open
        opened(t2, 2), replied(t2, 1800, closed=True),  # answered and closed
        opened(t3, 0.5),  # waiting for an answer
        _ticket(TicketClosedV1, t4, now, closed_at=now),  # closed before its opening arrives
        opened(t4, 8),
    ]  # fmt: skip
    async with running_app(create_app, settings, MIGRATIONS) as (_app, client):
        for event in events:
            await publish(redis_client, event, times=2)  # redelivered: counted once

        async def settled() -> dict[str, Any] | None:
            queue: dict[str, Any] = (await summary(client))["queue"]
            return queue if queue["complaint_response_avg_s"] == 2700 else None

        queue = await wait_for(settled, timeout=60, what="the tickets in the read model")
        for stream in (TicketOpenedV1.STREAM, TicketClosedV1.STREAM):
            await wait_for(lambda s=stream: _stream_read(redis_client, s), what=f"{stream} read")
        queue = (await summary(client))["queue"]
        page = await client.get("/dashboard", headers=auth())
    assert queue["complaints_open"] == 2  # t1 and t3
    assert queue["oldest_complaint_hours"] == 5.0
    assert queue["complaint_ages_hours"] == [5.0, 0.5]
    assert queue["first_response_avg_s"] is None  # complaints are not consultations
    assert page.status_code == 200 and "Saran/kritik terbuka" in page.text


async def _stream_read(redis: Redis, stream: str) -> bool:
    groups = await redis.xinfo_groups(stream)
    return bool(groups) and all((g.get("lag") or 0) == 0 and g.get("pending") == 0 for g in groups)


async def test_a_survey_a_guide_led_shows_in_the_guides_journey(
    settings: Settings, redis_client: Redis
) -> None:
    guide = participant_registered()
    guided = answered({f"U{i}": 4 for i in range(1, 10)}).model_copy(
        update={"guided": True, "guide_registration_id": guide.registration_id}
    )
    alone = answered({f"U{i}": 3 for i in range(1, 10)})
    async with running_app(create_app, settings, MIGRATIONS) as (_app, client):
        for event in (guide, guided, alone):
            await publish(redis_client, event)
        url = f"/api/v1/journeys/{guide.registration_id}"

        async def two_steps() -> dict[str, Any] | None:
            response = await client.get(url, headers=auth())
            body = response.json()
            return body if response.status_code == 200 and len(body["steps"]) == 2 else None

        journey = await wait_for(two_steps, timeout=60, what="the guided survey in the journey")

        async def both_counted() -> bool:
            return bool((await summary(client))["totals"]["survey_responses"]["today"] == 2)

        await wait_for(both_counted, timeout=60, what="both responses counted")
        again = (await client.get(url, headers=auth())).json()
    assert [s["type"] for s in journey["steps"]] == [
        "registration.participant_registered",
        "survey.response_submitted",
    ]
    assert journey["steps"][1]["label"] == (
        "survei diisi oleh warga yang dipandu (unit kantor-kecamatan)"
    )
    assert len(again["steps"]) == 2  # the unguided response is in nobody's journey
