"""Finding 9: public POSTs are rate limited per address and per phone, in Redis (shared by
replicas), with a friendly 429 and Retry-After; a class on one Wi-Fi and operators pass."""

from __future__ import annotations

import time

import pytest
from redis.asyncio import Redis

from services.registration.settings import Settings
from shared.auth import issue_token
from shared.ratelimit import RateLimiter, phone_identity
from tests.security.conftest import PARTICIPANT, ServiceRunner, create_event
from tests.support import ADMIN_TOKEN, auth, free_port

pytestmark = pytest.mark.integration
DEFAULT_PER_ADDRESS = Settings.model_fields["rate_limit_per_address"].default


def _phone(i: int) -> str:
    return f"0813{i:08d}"


async def test_a_class_of_40_on_one_wifi_registers_and_a_flood_is_refused_politely(
    service_app: ServiceRunner,
) -> None:
    async with service_app("registration", rate_limit_per_address=DEFAULT_PER_ADDRESS) as (
        _app,
        client,
    ):
        event_id = await create_event(client, ADMIN_TOKEN)
        url = f"/api/v1/events/{event_id}/registrations"
        for i in range(40):
            answer = await client.post(url, json={**PARTICIPANT, "phone": _phone(i)})
            assert answer.status_code == 201, (i, answer.text)
        statuses = [
            (await client.post(url, json={**PARTICIPANT, "phone": _phone(i)})).status_code
            for i in range(40, DEFAULT_PER_ADDRESS + 1)
        ]
        assert statuses[:-1] == [201] * (len(statuses) - 1) and statuses[-1] == 429
        refused = await client.post(url, json={**PARTICIPANT, "phone": _phone(999)})
    assert refused.status_code == 429
    assert 1 <= int(refused.headers["retry-after"]) <= 60
    body = refused.json()
    assert body["error"] == "terlalu_banyak_permintaan"
    assert "Silakan coba lagi dalam" in body["message"] and "detik" in body["message"]


async def test_the_limit_is_shared_by_replicas(service_app: ServiceRunner) -> None:
    async with (
        service_app("registration", rate_limit_per_address=5) as (_a, first),
        service_app("registration", rate_limit_per_address=5) as (_b, second),
    ):
        event_id = await create_event(first, ADMIN_TOKEN)
        url = f"/api/v1/events/{event_id}/registrations"
        statuses = [
            (
                await (first if i % 2 else second).post(
                    url, json={**PARTICIPANT, "phone": _phone(i)}
                )
            ).status_code
            for i in range(6)
        ]
    assert [s for s in statuses if s == 429] == [429], statuses


async def test_one_phone_in_any_spelling_is_limited(service_app: ServiceRunner) -> None:
    async with service_app("registration", rate_limit_per_phone=3) as (_app, client):
        events = [await create_event(client, ADMIN_TOKEN) for _ in range(4)]
        spellings = ["081234567890", "+62 812-3456-7890", "6281234567890", "0812 3456 7890"]
        answers = [
            await client.post(
                f"/api/v1/events/{event}/registrations", json={**PARTICIPANT, "phone": phone}
            )
            for event, phone in zip(events, spellings, strict=True)
        ]
    assert [a.status_code for a in answers] == [201, 201, 201, 429]
    assert "Nomor HP ini" in answers[-1].json()["message"]
    assert int(answers[-1].headers["retry-after"]) > 60


async def test_an_operator_typing_paper_forms_is_not_limited(service_app: ServiceRunner) -> None:
    operator = issue_token(ADMIN_TOKEN, role="operator", tenant="mojosari", subject="loket")
    mentor = issue_token(ADMIN_TOKEN, role="mentor", tenant="mojosari", subject="m")
    async with service_app("registration", rate_limit_per_address=2) as (_app, client):
        event_id = await create_event(client, ADMIN_TOKEN)
        url = f"/api/v1/events/{event_id}/registrations"
        typed = [
            (
                await client.post(
                    url, json={**PARTICIPANT, "phone": _phone(i)}, headers=auth(operator)
                )
            ).status_code
            for i in range(5)
        ]
        assert typed == [201] * 5
        for token in ("mj1.not.valid", mentor):  # a bad token or another role is no pass
            statuses = [
                (
                    await client.post(
                        url, json={**PARTICIPANT, "phone": _phone(50 + i)}, headers=auth(token)
                    )
                ).status_code
                for i in range(3)
            ]
            assert 429 in statuses, (token, statuses)


async def test_survey_responses_are_limited_per_address(service_app: ServiceRunner) -> None:
    async with service_app("survey", rate_limit_per_address=3) as (_app, client):
        url = "/api/v1/units/kantor-kecamatan/responses"
        # Four different answers: a resubmission would be collapsed, not limited.
        bodies = [{"scores": {f"U{i}": 1 + (i + n) % 4 for i in range(1, 10)}} for n in range(4)]
        statuses = [(await client.post(url, json=body)).status_code for body in bodies]
    assert statuses == [201, 201, 201, 429]


async def test_the_limiter_lets_requests_through_while_redis_is_down() -> None:
    dead = Redis(port=free_port(), socket_connect_timeout=0.2)
    limiter = RateLimiter(dead)
    started = time.monotonic()
    for _ in range(20):
        assert await limiter.hit("registration:address", "10.0.0.1", limit=1, window_s=60) is None
    assert time.monotonic() - started < 5
    await dead.aclose()


def test_phone_identity_ignores_spelling_and_unicode_digits() -> None:
    same = {"081234567890", "+62 812-3456-7890", "6281234567890", "０８１２３４５６７８９０"}
    assert {phone_identity(p) for p in same} == {"81234567890"}


def test_one_ipv6_device_counts_as_one_client_whatever_address_it_picks() -> None:
    from shared.ratelimit import address_identity

    a = address_identity("2001:db8:1:2:aaaa::1")
    assert a == address_identity("2001:db8:1:2:ffff:1:2:3") == "2001:db8:1:2::/64"
    assert a != address_identity("2001:db8:1:3::1")
    assert address_identity("::ffff:10.0.0.7") == address_identity("10.0.0.7") == "10.0.0.7"
