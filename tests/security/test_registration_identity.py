"""Finding 4: registering again with someone's phone answered with their name, school and id."""

from __future__ import annotations

import uuid
from collections.abc import Callable

import pytest

from services.registration.app import MIGRATIONS, create_app
from services.registration.settings import Settings
from tests.registration_support import PARTICIPANT, create_event, register, token_of
from tests.support import auth, running_app

pytestmark = pytest.mark.integration


@pytest.fixture
def settings(settings_for: Callable[..., Settings]) -> Settings:
    return settings_for(Settings)


async def test_a_repeat_with_someone_elses_phone_reveals_nothing_about_them(
    settings: Settings,
) -> None:
    async with running_app(create_app, settings, MIGRATIONS) as (_app, client):
        event_id = await create_event(client)
        first = await register(client, event_id, **PARTICIPANT)
        first_body = first.json()
        stranger = {**PARTICIPANT, "name": "Orang Lain", "school": "SMP Lain", "desa": "Seduri"}
        again = await register(client, event_id, **stranger)
        assert again.status_code == 200
        text = again.text
        assert again.json()["already_registered"] is True
        assert again.json()["registration"] is None
        assert again.json()["confirmation_url"] is None
        for secret in (
            "Ayu Lestari",
            "SMAN 1 Mojosari",
            "Wonokusumo",
            "6281234567890",
            first_body["registration"]["id"],
            first_body["registration"]["code"],
            token_of(first_body["confirmation_url"]),
        ):
            assert secret not in text


async def test_only_the_secret_link_opens_a_registration(settings: Settings) -> None:
    async with running_app(create_app, settings, MIGRATIONS) as (_app, client):
        event_id = await create_event(client)
        body = (await register(client, event_id, **PARTICIPANT)).json()
        token = token_of(body["confirmation_url"])
        assert len(token) >= 40  # 32 random bytes, URL-safe
        page = await client.get(f"/konfirmasi/{token}")
        assert page.status_code == 200
        assert body["registration"]["code"] in page.text and "Ayu Lestari" in page.text
        for guess in (body["registration"]["id"], body["registration"]["code"], token[:-1] + "x"):
            refused = await client.get(f"/konfirmasi/{guess}")
            assert refused.status_code == 404
            assert "Ayu" not in refused.text
        # The id alone opens nothing public either.
        assert (
            await client.get(f"/api/v1/registrations/{body['registration']['id']}")
        ).status_code == 404
        assert (await client.get(f"/konfirmasi/{uuid.uuid4()}")).status_code == 404


async def test_the_secret_link_never_reaches_a_log_line(
    settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    async with running_app(create_app, settings, MIGRATIONS) as (_app, client):
        event_id = await create_event(client)
        body = (await register(client, event_id, **PARTICIPANT)).json()
        token = token_of(body["confirmation_url"])
        assert (await client.get(f"/konfirmasi/{token}")).status_code == 200
        await client.post(f"/konfirmasi/{token}/batal", data={"yakin": "ya"})
    logs = capsys.readouterr()
    assert "/konfirmasi/" in logs.err  # the requests were logged ...
    assert token not in logs.err + logs.out  # ... without the token
    assert token[:20] not in logs.err + logs.out


async def test_an_event_whose_tenant_file_is_gone_answers_503_and_stores_nothing(
    settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    async with running_app(create_app, settings, MIGRATIONS) as (app, client):
        event_id = await create_event(client)
        app.state.runtime.tenants = {}  # the tenant file was removed
        refused = await register(client, event_id, **PARTICIPANT)
        assert refused.status_code == 503
        assert "belum diproses" in refused.json()["message"]
        assert (await client.get(f"/daftar/{event_id}")).status_code == 503
        rows = await client.get(f"/api/v1/events/{event_id}/registrations", headers=auth())
        assert rows.json() == []
    logs = capsys.readouterr().err
    assert "tenant.file_missing" in logs
    assert "http.unhandled_error" not in logs and "KeyError" not in logs
    assert "Ayu Lestari" not in logs
