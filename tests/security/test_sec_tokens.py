"""Findings 1 and 3: malformed tokens are a 401, and nobody mints a token wider than their own."""

from __future__ import annotations

import json
import logging

import pytest

from shared.auth import verify_token
from tests.security.conftest import SERVICES, ServiceRunner
from tests.support import ADMIN_TOKEN, auth

pytestmark = pytest.mark.integration

MALFORMED = [
    "mj1.a.\u00e9",  # the reported one: non-ASCII made compare_digest raise -> 500
    "\u00e9\u00e9\u00e9",
    "mj1.a.b",
    "mj1..",
    "mj1.!!!.???",
    "mj1.eyJyIjoiYWRtaW4ifQ.c2lnbmF0dXJl",
    "mj1." + "A" * 5000 + ".x",
    "a.b.c.d",
    "Bearer",
]
PROTECTED = {
    "registration": "/api/v1/events",
    "certificates": "/api/v1/certificates",
    "consultation": "/api/v1/invitations",
    "survey": "/api/v1/ikm?unit=kantor-kecamatan",
}


@pytest.mark.parametrize("name", SERVICES)
async def test_every_malformed_token_gets_a_401_in_every_service(
    service_app: ServiceRunner, name: str
) -> None:
    async with service_app(name) as (_app, client):
        for token in MALFORMED:
            header = f"Bearer {token}".encode()
            response = await client.get(PROTECTED[name], headers={"Authorization": header})
            assert response.status_code == 401, (token[:20], response.text)
            assert response.json()["error"] == "tidak_berwenang"
            assert response.headers["www-authenticate"] == "Bearer"


async def _token(client: object, issuer: str, **body: object) -> object:
    payload = {"role": "operator", "tenant": "mojosari", "subject": "loket-1", **body}
    return await client.post("/api/v1/tokens", json=payload, headers=auth(issuer))  # type: ignore[attr-defined]


async def test_a_kecamatan_admin_cannot_mint_a_token_for_all_kecamatan(
    service_app: ServiceRunner,
) -> None:
    async with service_app("registration") as (_app, client):
        scoped = await _token(client, ADMIN_TOKEN, role="admin", tenant="mojosari")
        assert scoped.status_code == 201, scoped.text
        scoped_admin = scoped.json()["token"]
        wider = await _token(client, scoped_admin, role="admin", tenant="*")
        assert wider.status_code == 403, wider.text
        assert "semua kecamatan" in wider.json()["message"]
        # Nor one for another kecamatan, of any role.
        other = await _token(client, scoped_admin, role="operator", tenant="bangsal")
        assert other.status_code in (403, 422), other.text
        # Its own kecamatan, same or narrower role: allowed.
        same = await _token(client, scoped_admin, role="operator", tenant="mojosari")
        assert same.status_code == 201, same.text
        operator = same.json()["token"]
        assert (await _token(client, operator, role="mentor")).status_code == 403
        # Nor one that outlives its own: its life is capped at the issuer's expiry.
        own = verify_token(ADMIN_TOKEN, scoped_admin).expires
        assert own is not None
        for ttl in (400, None):
            minted = await _token(client, scoped_admin, ttl_days=ttl)
            assert minted.status_code == 201
            expires = verify_token(ADMIN_TOKEN, minted.json()["token"]).expires
            assert expires is not None and expires <= own
        short = (await _token(client, scoped_admin, ttl_days=30)).json()["token"]
        assert (verify_token(ADMIN_TOKEN, short).expires or 0) < own - 300 * 86400


async def test_tokens_are_only_issued_for_a_kecamatan_that_exists(
    service_app: ServiceRunner,
) -> None:
    async with service_app("registration") as (_app, client):
        unknown = await _token(client, ADMIN_TOKEN, tenant="atlantis")
        assert unknown.status_code == 422, unknown.text
        assert unknown.json()["fields"][0]["field"] == "tenant"
        assert (await _token(client, ADMIN_TOKEN, tenant="*", role="admin")).status_code == 201


async def test_token_issuing_is_audited_without_the_token(
    service_app: ServiceRunner, capsys: pytest.CaptureFixture[str]
) -> None:
    async with service_app("registration", log_format="json") as (_app, client):
        issued = await _token(client, ADMIN_TOKEN, role="mentor", subject="mentor-sari")
        assert issued.status_code == 201
        token = issued.json()["token"]
        logging.getLogger().handlers[0].flush()
    lines = [json.loads(x) for x in capsys.readouterr().err.splitlines() if x.startswith("{")]
    audit = [line for line in lines if line["event"] == "auth.token_issued"]
    assert len(audit) == 1
    assert audit[0]["by"] == "bootstrap-admin"
    assert (audit[0]["role"], audit[0]["tenant"], audit[0]["subject"]) == (
        "mentor",
        "mojosari",
        "mentor-sari",
    )
    assert audit[0]["token_id"]
    everything = json.dumps(lines)
    assert token not in everything and token.split(".")[2] not in everything
    assert ADMIN_TOKEN not in everything
