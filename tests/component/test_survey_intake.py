"""How answers come in: resubmissions collapse, strict types, operators type in paper forms."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from typing import Any

import pytest
from redis.asyncio import Redis
from sqlalchemy import event, text

from services.survey import repository, service
from services.survey.app import MIGRATIONS, create_app
from services.survey.settings import Settings
from shared.auth import issue_token
from shared.contracts import ResponseSubmittedV1
from shared.wire import DATA_FIELD, decode
from tests.factories import participant_registered, publish
from tests.support import ADMIN_TOKEN, auth, running_app, wait_for

pytestmark = pytest.mark.integration

URL = "/api/v1/units/kantor-kecamatan/responses"
ALL_FOUR = {f"U{i}": 4 for i in range(1, 10)}
ALL_TWO = {f"U{i}": 2 for i in range(1, 10)}


@pytest.fixture
def settings(settings_for: Callable[..., Settings]) -> Settings:
    return settings_for(Settings)


def operator() -> dict[str, str]:
    return auth(issue_token(ADMIN_TOKEN, role="operator", tenant="mojosari", subject="loket"))


async def report(app: Any, client: Any, expected: int, **params: Any) -> dict[str, Any]:
    """The IKM report once the aggregator has handled every event on the stream."""
    redis = app.state.runtime.redis

    async def drained() -> bool:
        groups = await redis.xinfo_groups(ResponseSubmittedV1.STREAM)
        group = next(g for g in groups if g["name"] == b"survey.aggregate")
        return bool(group["pending"] == 0 and group["lag"] == 0)

    async def probe() -> dict[str, Any] | None:
        if not await drained():
            return None
        body: dict[str, Any] = (
            await client.get("/api/v1/ikm", params=params, headers=auth())
        ).json()
        return body if body["responses"] >= expected else None

    body = await wait_for(probe, what=f"{expected} aggregated responses")
    assert body["responses"] == expected, body["responses"]
    return body


async def test_the_same_idempotency_key_stores_and_counts_one_response(settings: Settings) -> None:
    async with running_app(create_app, settings, MIGRATIONS) as (app, client):
        key = {"Idempotency-Key": "form-123"}
        first = await client.post(URL, json={"scores": ALL_FOUR}, headers=key)
        again = await client.post(URL, json={"scores": ALL_FOUR}, headers=key)
        assert (first.status_code, again.status_code) == (201, 200)
        assert first.json()["id"] == again.json()["id"]
        reused = await client.post(URL, json={"scores": ALL_TWO}, headers=key)
        assert reused.status_code == 409
        assert reused.json()["fields"][0]["field"] == "Idempotency-Key"
        other = await client.post(URL, json={"scores": ALL_TWO}, headers={"Idempotency-Key": "b"})
        assert other.status_code == 201
        body = await report(app, client, 2)
        assert body["konversi_display"] == "75.00"


async def test_simultaneous_double_taps_store_one_response(settings: Settings) -> None:
    async with running_app(create_app, settings, MIGRATIONS) as (_app, client):
        key = {"Idempotency-Key": "double-tap"}
        answers = await asyncio.gather(
            *(client.post(URL, json={"scores": ALL_FOUR}, headers=key) for _ in range(5))
        )
        assert sorted(a.status_code for a in answers) == [200, 200, 200, 200, 201]
        assert len({a.json()["id"] for a in answers}) == 1


async def test_an_identical_body_from_the_same_device_within_minutes_collapses(
    settings: Settings,
) -> None:
    async with running_app(create_app, settings, MIGRATIONS) as (app, client):
        phone_a = {"User-Agent": "HP-A"}
        first = await client.post(URL, json={"scores": ALL_FOUR}, headers=phone_a)
        again = await client.post(URL, json={"scores": ALL_FOUR}, headers=phone_a)
        assert (first.status_code, again.status_code) == (201, 200)
        # Another device (its own form cookie) with the same answers is another respondent.
        client.cookies.set("survei_perangkat", "perangkat-b")
        phone_b = await client.post(URL, json={"scores": ALL_FOUR}, headers=phone_a)
        assert phone_b.status_code == 201
        changed = await client.post(URL, json={"scores": ALL_TWO}, headers=phone_a)
        assert changed.status_code == 201
        await report(app, client, 3)


async def test_strict_types_refuse_text_for_numbers_and_booleans(settings: Settings) -> None:
    async with running_app(create_app, settings, MIGRATIONS) as (_app, client):
        cases = {
            "age": {"scores": ALL_FOUR, "age": "25"},
            "phone_consent": {"scores": ALL_FOUR, "phone_consent": "yes"},
            "scores.U1": {"scores": {**ALL_FOUR, "U1": "4"}},
            "gender": {"scores": ALL_FOUR, "gender": 1},
        }
        for field, body in cases.items():
            answer = await client.post(URL, json=body)
            assert answer.status_code == 422, (field, answer.text)
            assert answer.json()["fields"][0]["field"] == field
        ok = await client.post(URL, json={"scores": ALL_FOUR, "age": 25, "phone_consent": True})
        assert ok.status_code == 201


async def test_a_paper_form_counts_on_its_own_local_date_and_blanks_stay_out(
    settings: Settings,
) -> None:
    async with running_app(create_app, settings, MIGRATIONS) as (app, client):
        public = await client.post(
            URL, json={"scores": ALL_FOUR, "submitted_at": "2025-03-01T09:00:00+07:00"}
        )
        assert public.status_code == 422
        assert public.json()["fields"][0]["field"] == "submitted_at"
        # 23:30 WIB on 31 March is 16:30 UTC: the local date (31 March) decides the month.
        paper = {**ALL_FOUR, "U8": None}
        typed = await client.post(
            URL,
            json={"scores": paper, "submitted_at": "2025-03-31T23:30:00+07:00"},
            headers=operator(),
        )
        assert typed.status_code == 201, typed.text
        naive = await client.post(
            URL,
            json={"scores": ALL_FOUR, "submitted_at": "2025-03-31T23:30:00"},
            headers=operator(),
        )
        assert naive.status_code == 422
        assert naive.json()["fields"][0]["field"] == "submitted_at"
        body = await report(app, client, 1, period="2025-03")
        assert body["unsur"][7]["answered"] == 0 and body["unsur"][0]["answered"] == 1
        assert body["headline"]["status"] == "tidak_lengkap"
        assert body["mutu"] is None and body["konversi_display"] is None
        april = await client.get("/api/v1/ikm", params={"period": "2025-04"}, headers=auth())
        assert april.json()["responses"] == 0


async def test_a_bad_operator_token_is_refused_not_treated_as_public(settings: Settings) -> None:
    async with running_app(create_app, settings, MIGRATIONS) as (_app, client):
        answer = await client.post(
            URL, json={"scores": ALL_FOUR}, headers={"Authorization": "Bearer nope"}
        )
        assert answer.status_code == 401
        other = issue_token(ADMIN_TOKEN, role="operator", tenant="lain", subject="x")
        refused = await client.post(
            URL + "?tenant=mojosari", json={"scores": ALL_FOUR}, headers=auth(other)
        )
        assert refused.status_code == 403


async def test_a_guide_code_from_a_registration_marks_the_response_guided(
    settings: Settings, redis_url: str
) -> None:
    redis = Redis.from_url(redis_url)
    async with running_app(create_app, settings, MIGRATIONS) as (app, client):
        guide = participant_registered()
        await publish(redis, guide)
        code = guide.registration_id.hex[:8]  # typed in lower case on a phone

        async def known() -> bool:
            probe = await client.post(
                URL, json={"scores": ALL_TWO, "guide_code": code}, headers=operator()
            )
            return probe.status_code == 201

        await wait_for(known, what="the guide recorded from the registration event")
        unknown = await client.post(URL, json={"scores": ALL_FOUR, "guide_code": "ZZZZ9999"})
        assert unknown.status_code == 422
        assert unknown.json()["fields"][0]["field"] == "guide_code"
        plain = await client.post(URL, json={"scores": ALL_FOUR})
        assert plain.status_code == 201
        body = await report(app, client, 2)
        guided, unguided = body["guided"]["guided"], body["guided"]["unguided"]
        assert (guided["responses"], guided["konversi_display"]) == (1, "50.00")
        assert (unguided["responses"], unguided["konversi_display"]) == (1, "100.00")
        entries = await redis.xrange(ResponseSubmittedV1.STREAM)
        events = [
            ResponseSubmittedV1.model_validate_json(decode(fields[DATA_FIELD.encode()])[0])
            for _id, fields in entries
        ]
        # The guide's journey on the dashboard finds the response by its registration id.
        assert sorted((e.guided, e.guide_registration_id is not None) for e in events) == [
            (False, False), (True, True),
        ]  # fmt: skip
        assert {e.guide_registration_id for e in events if e.guided} == {guide.registration_id}
    await redis.aclose()


async def test_forgotten_device_keys_let_the_same_answers_count_again(settings: Settings) -> None:
    async with running_app(create_app, settings, MIGRATIONS) as (app, client):
        phone = {"User-Agent": "HP-A"}
        assert (await client.post(URL, json={"scores": ALL_FOUR}, headers=phone)).status_code == 201
        assert (await client.post(URL, json={"scores": ALL_FOUR}, headers=phone)).status_code == 200
        async with app.state.runtime.db.session() as session:
            # A window of -1 hour: every key is "old"; Idempotency-Keys would stay.
            assert await service.prune_device_keys(session, -3600) == 1
        assert (await client.post(URL, json={"scores": ALL_FOUR}, headers=phone)).status_code == 201


async def test_a_paper_form_dated_outside_the_survey_years_or_in_the_future_is_refused(
    settings: Settings,
) -> None:
    async with running_app(create_app, settings, MIGRATIONS) as (_app, client):
        for when, reason in [
            ("0001-01-01T00:00:00+07:00", "tahunnya harus 2000 sampai 2100"),
            ("9999-12-31T23:00:00-05:00", "tahunnya harus 2000 sampai 2100"),
            ("2099-01-01T08:00:00+07:00", "tidak boleh sesudah saat ini"),
        ]:
            answer = await client.post(
                URL, json={"scores": ALL_FOUR, "submitted_at": when}, headers=auth()
            )
            assert answer.status_code == 422, answer.text
            field = answer.json()["fields"][0]
            assert field["field"] == "submitted_at" and reason in field["message"]
        kept = await client.post(
            URL, json={"scores": ALL_FOUR, "submitted_at": "2025-03-10T09:30:00+07:00"},
            headers=auth(),
        )  # fmt: skip
        assert kept.status_code == 201, kept.text


def form_token_of(page: str) -> str:
    match = re.search(r'<input type="hidden" name="form_token" value="([^"]+)"', page)
    assert match, "the form page carries no form_token field"
    return match.group(1)


async def test_a_shared_tablet_counts_each_form_load_and_collapses_its_resubmissions(
    settings: Settings,
) -> None:
    async with running_app(create_app, settings, MIGRATIONS) as (app, client):
        tablet = {"User-Agent": "Tablet-Loket-1"}  # one device, one address: the office's tablet
        page = await client.get("/survei/kantor-kecamatan", headers=tablet)
        assert page.headers["cache-control"] == "no-store"
        first_token = form_token_of(page.text)
        body = {"scores": ALL_FOUR, "form_token": first_token}
        first = await client.post(URL, json=body, headers=tablet)
        again = await client.post(URL, json=body, headers=tablet)  # double tap / lost answer
        assert (first.status_code, again.status_code) == (201, 200)
        assert first.json()["id"] == again.json()["id"]
        changed = await client.post(URL, json={**body, "scores": ALL_TWO}, headers=tablet)
        assert changed.status_code == 409
        assert changed.json()["fields"][0]["field"] == "form_token"
        assert "Muat ulang halaman" in changed.json()["message"]

        # The next citizen, same tablet, same answers: the answer's next token, or a new load.
        following = first.json()["next_form_token"]
        assert following and following != first_token
        second = await client.post(
            URL, json={"scores": ALL_FOUR, "form_token": following}, headers=tablet
        )
        reloaded = form_token_of((await client.get("/survei/kantor-kecamatan")).text)
        assert reloaded not in (first_token, following)
        third = await client.post(
            URL, json={"scores": ALL_FOUR, "form_token": reloaded}, headers=tablet
        )
        assert (second.status_code, third.status_code) == (201, 201)
        # An API client's own keys are honoured the same way; without any key, one device's
        # identical answers within the window still count once.
        keyed = [
            await client.post(
                URL, json={"scores": ALL_FOUR}, headers={**tablet, "Idempotency-Key": key}
            )
            for key in ("kiosk-app-1", "kiosk-app-2", "kiosk-app-2")
        ]
        assert [a.status_code for a in keyed] == [201, 201, 200]
        bare = [await client.post(URL, json={"scores": ALL_FOUR}, headers=tablet) for _ in "ab"]
        assert [a.status_code for a in bare] == [201, 200]
        assert "next_form_token" not in bare[0].json() or bare[0].json()["next_form_token"] is None
        await report(app, client, 6)


async def count_rows(app: Any) -> tuple[int, int, int]:
    """How many responses, submission keys and ResponseSubmittedV1 outbox rows are stored."""
    queries = [
        "SELECT count(*) FROM responses",
        "SELECT count(*) FROM submission_keys",
        f"SELECT count(*) FROM outbox WHERE stream = '{ResponseSubmittedV1.STREAM}'",
    ]
    async with app.state.runtime.db.session() as session:
        counts = [(await session.execute(text(q))).scalar_one() for q in queries]
    return counts[0], counts[1], counts[2]


async def test_a_write_that_fails_leaves_nothing_so_the_same_key_stores_the_answers_again(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The keys, the response and its event are written together or not at all: a failure
    while storing must not leave a key that later replays point to a missing response."""
    async with running_app(create_app, settings, MIGRATIONS) as (app, client):
        before = await count_rows(app)
        real_outbox_row = service.outbox_row

        def broken(event: Any) -> dict[str, object]:
            return {**real_outbox_row(event), "payload": None}  # NOT NULL: the insert fails

        monkeypatch.setattr(service, "outbox_row", broken)
        key = {"Idempotency-Key": "gagal-sekali"}
        failed = await client.post(URL, json={"scores": ALL_FOUR}, headers=key)
        assert failed.status_code >= 500, failed.text
        assert await count_rows(app) == before
        monkeypatch.setattr(service, "outbox_row", real_outbox_row)
        stored = await client.post(URL, json={"scores": ALL_FOUR}, headers=key)
        replay = await client.post(URL, json={"scores": ALL_FOUR}, headers=key)
        assert (stored.status_code, replay.status_code) == (201, 200)
        assert stored.json()["id"] == replay.json()["id"]
        assert await count_rows(app) == (before[0] + 1, before[1] + 1, before[2] + 1)
        await report(app, client, 1)


async def test_twins_with_one_form_token_and_their_own_keys_store_one_response(
    settings: Settings,
) -> None:
    """Simultaneous posts of one form load, each with its own Idempotency-Key: one response;
    every key, also one a twin claimed before losing the form token, replays that response."""
    async with running_app(create_app, settings, MIGRATIONS) as (app, client):
        body = {"scores": ALL_FOUR, "form_token": "muat-formulir-0001"}
        keys = [f"kios-{i}" for i in range(4)]
        answers = await asyncio.gather(
            *(client.post(URL, json=body, headers={"Idempotency-Key": k}) for k in keys)
        )
        assert sorted(a.status_code for a in answers) == [200, 200, 200, 201]
        ids = {a.json()["id"] for a in answers}
        assert len(ids) == 1
        for k in keys:
            again = await client.post(URL, json=body, headers={"Idempotency-Key": k})
            assert (again.status_code, again.json()["id"]) == (200, *ids)
        assert (await count_rows(app))[0] == 1
        await report(app, client, 1)


async def test_a_unit_another_replica_closed_stops_taking_answers_within_the_cache_time(
    settings: Settings,
) -> None:
    """Each process keeps a copy of the active units (UnitCache): a unit dropped from the tenant
    file by another replica's seeding still takes answers here until the copy is older than
    its time, then is refused with the usual Indonesian message."""
    async with running_app(create_app, settings, MIGRATIONS) as (app, client):
        app.state.survey.units.ttl_s = 5.0
        assert (await client.post(URL, json={"scores": ALL_FOUR})).status_code == 201
        async with app.state.runtime.db.session() as session:
            await repository.deactivate_units_except(session, "mojosari", ["si-genz-menjamu"])
        cached = await client.post(URL, json={"scores": ALL_TWO})
        assert cached.status_code == 201, "the copy is younger than its time"

        async def closed() -> bool:
            return (await client.get("/survei/kantor-kecamatan")).status_code == 404

        await wait_for(closed, what="the unit's copy to expire")
        refused = await client.post(URL, json={"scores": ALL_FOUR, "age": 30})
        assert refused.status_code == 404
        assert "Unit layanan 'kantor-kecamatan'" in refused.json()["message"]


async def test_a_citizens_response_is_one_statement_on_postgresql(settings: Settings) -> None:
    """The keys, the response and the event go in one statement on PostgreSQL (one round trip
    between BEGIN and COMMIT), in three on SQLite; the unit comes from the process's copy."""
    async with running_app(create_app, settings, MIGRATIONS) as (app, client):
        assert (await client.post(URL, json={"scores": ALL_TWO})).status_code == 201
        await report(app, client, 1)  # the aggregator is idle again
        sent: list[str] = []

        def capture(*args: Any) -> None:
            sent.append(args[2])

        engine = app.state.runtime.db.engine.sync_engine
        event.listen(engine, "before_cursor_execute", capture)
        try:
            answer = await client.post(URL, json={"scores": ALL_FOUR}, headers={"User-Agent": "B"})
        finally:
            event.remove(engine, "before_cursor_execute", capture)
        assert answer.status_code == 201
        # The relay (reads and marks outbox rows) and the aggregator may run meanwhile.
        mine = re.compile(r"\b(responses|submission_keys|INSERT INTO outbox)\b")
        writes = [s for s in sent if mine.search(s)]
        expected = 1 if app.state.runtime.db.dialect == "postgresql" else 3
        assert len(writes) == expected, writes
        assert not [s for s in sent if "FROM units" in s], "the unit is read from the copy"
