"""Check-in at the door, lists and exports, the per-desa report, Idempotency-Key, the poster."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import re
import shutil
import subprocess
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from openpyxl import load_workbook
from redis.asyncio import Redis
from sqlalchemy import select, update

from services.registration import replay
from services.registration.app import MIGRATIONS, create_app
from services.registration.models import IdempotencyRecord
from services.registration.settings import Settings
from shared.contracts import CertificateIssuedV1, ParticipantCheckedInV1
from tests.factories import publish
from tests.registration_support import create_event, listed, participant, register, stream_events
from tests.support import auth, running_app, wait_for

pytestmark = pytest.mark.integration


@pytest.fixture
def settings(settings_for: Callable[..., Settings]) -> Settings:
    return settings_for(Settings)


async def test_check_in_by_code_once_and_a_second_scan_says_so(
    settings: Settings, redis_url: str
) -> None:
    async with running_app(create_app, settings, MIGRATIONS) as (_app, client):
        event_id = await create_event(client, capacity=1, certificate_policy="on_check_in")
        held = (await register(client, event_id, **participant(name="Budi Santoso"))).json()
        waiting = (await register(client, event_id, **participant())).json()
        code = held["registration"]["code"]
        url = f"/api/v1/events/{event_id}/check-ins"
        first = await client.post(url, json={"code": code.lower()}, headers=auth())
        assert first.status_code == 200, first.text
        assert first.json()["already_checked_in"] is False
        assert first.json()["message"] == "Budi Santoso tercatat hadir."
        second = await client.post(url, json={"code": code}, headers=auth())
        assert second.json()["already_checked_in"] is True
        assert "sudah tercatat hadir" in second.json()["message"]
        queued = await client.post(
            url, json={"code": waiting["registration"]["code"]}, headers=auth()
        )
        assert queued.status_code == 409 and "daftar tunggu" in queued.json()["message"]
        other = await create_event(client)
        elsewhere = await client.post(
            f"/api/v1/events/{other}/check-ins", json={"code": code}, headers=auth()
        )
        assert elsewhere.status_code == 404
        assert elsewhere.json()["message"] == "Kode ini tidak terdaftar untuk kegiatan ini."
        assert (await client.post(url, json={"code": code})).status_code == 401
        redis = Redis.from_url(redis_url)
        events = await wait_for(
            lambda: stream_events(redis, ParticipantCheckedInV1), what="the check-in event"
        )
        await redis.aclose()
        assert len(events) == 1 and str(events[0].registration_id) == held["registration"]["id"]
        assert events[0].certificate_policy == "on_check_in"
        attended = await listed(client, event_id, status="checked_in")
        assert [r["code"] for r in attended] == [code]


async def test_cancelled_participant_is_refused_at_the_door(settings: Settings) -> None:
    async with running_app(create_app, settings, MIGRATIONS) as (_app, client):
        event_id = await create_event(client)
        body = (await register(client, event_id, **participant())).json()
        await client.post(
            f"/api/v1/events/{event_id}/cancellations",
            json={"registration_id": body["registration"]["id"]},
            headers=auth(),
        )
        refused = await client.post(
            f"/api/v1/events/{event_id}/check-ins",
            json={"code": body["registration"]["code"]},
            headers=auth(),
        )
        assert refused.status_code == 409
        assert refused.json()["message"] == "Pendaftaran ini sudah dibatalkan."


async def test_search_by_name_or_phone_and_masked_exports(settings: Settings) -> None:
    async with running_app(create_app, settings, MIGRATIONS) as (_app, client):
        event_id = await create_event(client)
        await register(client, event_id, **participant(name="Siti Aminah", phone="0813-1111-2222"))
        await register(client, event_id, **participant(name="=HYPERLINK(1)", desa="Kauman"))
        by_name = await listed(client, event_id, q="aminah")
        by_phone = await listed(client, event_id, q="+62 813 1111 2222")
        assert [r["name"] for r in by_name] == [r["name"] for r in by_phone] == ["Siti Aminah"]
        assert by_name[0]["phone"] == "+6281****22"
        shown = await listed(client, event_id, q="aminah", show_phone="true")
        assert shown[0]["phone"] == "+6281311112222"
        exported = await client.get(
            f"/api/v1/events/{event_id}/registrations/export", headers=auth()
        )
        assert exported.headers["content-type"].startswith("text/csv")
        table = list(csv.reader(io.StringIO(exported.content.decode("utf-8-sig"))))
        assert table[0][:3] == ["kode", "nama", "asal_sekolah"]
        assert "+6281****22" in table[1] and "+6281311112222" not in exported.text
        assert table[2][1] == "'=HYPERLINK(1)"  # no formula injection in spreadsheets
        xlsx = await client.get(
            f"/api/v1/events/{event_id}/registrations/export",
            params={"format": "xlsx", "show_phone": "true"},
            headers=auth(),
        )
        sheet = load_workbook(io.BytesIO(xlsx.content)).active
        values = [[c.value for c in row] for row in sheet.iter_rows()]
        assert values[1][1] == "Siti Aminah" and values[1][5] == "+6281311112222"


async def test_per_desa_summary_counts_by_jenjang_with_issued_certificates(
    settings: Settings, redis_client: Redis
) -> None:
    async with running_app(create_app, settings, MIGRATIONS) as (_app, client):
        on_door = await create_event(client, certificate_policy="on_check_in", capacity=2)
        at_once = await create_event(client)
        a = (await register(client, on_door, **participant(desa="Seduri"))).json()
        await register(client, on_door, **participant(desa="Seduri", level="SMP"))
        await register(client, on_door, **participant(desa="Seduri"))  # waitlisted
        b = (await register(client, at_once, **participant(desa="Seduri"))).json()
        await client.post(
            f"/api/v1/events/{on_door}/check-ins",
            json={"code": a["registration"]["code"]},
            headers=auth(),
        )
        issued = certificate_issued(b["registration"]["id"])
        await publish(redis_client, issued, times=2)  # a redelivery changes nothing

        async def summary() -> dict[tuple[str, str], dict[str, int]]:
            report = await client.get("/api/v1/reports/desa", headers=auth())
            rows = {(r["desa"], r["jenjang"]): r for r in report.json()["rows"]}
            return rows if rows[("Seduri", "SMA")]["certificates"] == 1 else {}

        rows = await wait_for(summary, what="the issued certificate in the report")
        sma = rows[("Seduri", "SMA")]
        assert (sma["registrations"], sma["waitlisted"], sma["attendance"]) == (2, 1, 1)
        assert sma["certificates_due"] == 2  # one checked in, one issued at registration
        assert rows[("Seduri", "SMP")]["certificates_due"] == 0
        listed_b = await listed(client, at_once)
        assert listed_b[0]["certificate_issued_at"] is not None


def certificate_issued(registration_id: str) -> CertificateIssuedV1:
    """A CertificateIssuedV1 as the certificates service publishes it."""
    return CertificateIssuedV1(
        tenant="mojosari",
        source="certificates",
        correlation_id="corr-cert",
        certificate_id=uuid.uuid4(),
        registration_id=uuid.UUID(registration_id),
        number="0001/SERT-MENJAMU/MOJOSARI/2026",
        download_url="http://sertifikat/1.pdf",
        verify_url="http://sertifikat/verify/1",
    )


async def test_idempotency_key_replays_the_answer_and_refuses_another_body(
    settings: Settings,
) -> None:
    async with running_app(create_app, settings, MIGRATIONS) as (_app, client):
        event_id = await create_event(client)
        url = f"/api/v1/events/{event_id}/registrations"
        body = participant()
        headers = {"Idempotency-Key": "form-123"}
        first = await client.post(url, json=body, headers=headers)
        again = await client.post(url, json=dict(reversed(body.items())), headers=headers)
        assert first.status_code == again.status_code == 201
        assert again.json() == first.json()
        other = await client.post(url, json=participant(), headers=headers)
        assert other.status_code == 422
        assert other.json()["fields"][0]["field"] == "Idempotency-Key"
        assert len(await listed(client, event_id)) == 1


async def test_an_idempotency_key_is_forgotten_after_a_day(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with running_app(create_app, settings, MIGRATIONS) as (app, client):
        event_id = await create_event(client)
        url = f"/api/v1/events/{event_id}/registrations"
        headers = {"Idempotency-Key": "old-form"}
        await client.post(url, json=participant(), headers=headers)
        await client.post(url, json=participant(), headers={"Idempotency-Key": "another-form"})
        monkeypatch.setattr(replay, "_last_prune", float("-inf"))  # the periodic prune is due
        async with app.state.runtime.db.session() as session:
            await session.execute(
                update(IdempotencyRecord).values(created_at=datetime.now(UTC) - timedelta(days=2))
            )
        later = await client.post(url, json=participant(), headers=headers)
        assert later.status_code == 201
        async with app.state.runtime.db.session() as session:
            kept = (await session.scalars(select(IdempotencyRecord))).all()
        assert [k.key for k in kept] == ["old-form"]  # the old answers (and links) are gone
        assert (
            json.loads(kept[0].response_body)["registration"]["id"]
            == later.json()["registration"]["id"]
        )


async def test_a_double_tap_with_one_key_gets_one_registration_and_one_answer(
    settings: Settings,
) -> None:
    async with running_app(create_app, settings, MIGRATIONS) as (_app, client):
        event_id = await create_event(client)
        url = f"/api/v1/events/{event_id}/registrations"
        body, headers = participant(), {"Idempotency-Key": "tap-tap"}
        answers = await asyncio.gather(
            *(client.post(url, json=body, headers=headers) for _ in range(5))
        )
        assert [a.status_code for a in answers] == [201] * 5
        assert len({a.json()["confirmation_url"] for a in answers}) == 1
        assert len(await listed(client, event_id)) == 1


async def test_poster_is_a_pdf_with_the_event_and_its_sign_up_qr(settings: Settings) -> None:
    async with running_app(create_app, settings, MIGRATIONS) as (_app, client):
        event_id = await create_event(client, title="Sosialisasi Akta Kelahiran")
        poster = await client.get(f"/api/v1/events/{event_id}/poster.pdf")
        assert poster.status_code == 200
        assert poster.content.startswith(b"%PDF")
        if shutil.which("pdftotext") is None:
            pytest.skip("pdftotext (poppler-utils) is not installed")
        text = subprocess.run(
            ["pdftotext", "-", "-"], input=poster.content, capture_output=True, check=True
        ).stdout.decode()
        assert "Sosialisasi Akta Kelahiran" in text
        assert f"/daftar/{event_id}" in text.replace("\n", "")


async def test_the_door_page_loads_its_scanner_and_script_from_the_service(
    settings: Settings,
) -> None:
    async with running_app(create_app, settings, MIGRATIONS) as (_app, client):
        event_id = await create_event(client)
        page = await client.get(f"/operator/kegiatan/{event_id}/check-in")
        assert page.status_code == 200
        scripts = re.findall(r'<script src="([^"]+)"', page.text)
        assert scripts == ["/static/vendor/jsQR.js", "/static/checkin.js"]
        for src in scripts:
            served = await client.get(src)
            assert served.status_code == 200, src
            assert served.headers["content-type"].startswith("text/javascript")
        assert "jsQR" in (await client.get(scripts[0])).text
        # Only the files the service names are served, not whatever lies in its folder.
        for other in ("/static/jsQR.js", "/static/vendor/jsQR.LICENSE", "/static/../pages.py"):
            assert (await client.get(other)).status_code == 404, other
