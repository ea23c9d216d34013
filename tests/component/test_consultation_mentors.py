"""The mentor roster API: validation in Bahasa Indonesia, rota, duty, tenant scoping."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from services.consultation.app import MIGRATIONS, create_app
from services.consultation.settings import Settings
from shared.auth import issue_token
from tests.support import ADMIN_TOKEN, auth, running_app

pytestmark = pytest.mark.integration
SARI = {"name": "Sari", "phone": "0812-1111-2222", "topics": ["KK", "Akta"], "capacity": 3}


@pytest.fixture
def settings(settings_for: Callable[..., Settings]) -> Settings:
    return settings_for(Settings)


async def test_a_mentor_is_added_with_a_normalised_phone_and_off_duty_until_the_rota(
    settings: Settings,
) -> None:
    async with running_app(create_app, settings, MIGRATIONS) as (_app, client):
        created = await client.post("/api/v1/mentors", headers=auth(), json=SARI)
        assert created.status_code == 201, created.text
        mentor = created.json()
        assert mentor["phone"] == "+6281211112222" and mentor["on_duty_now"] is False
        whole_week = [{"day": d, "start": "00:00", "end": "24:00"} for d in range(7)]
        rota = await client.put(
            f"/api/v1/mentors/{mentor['id']}/rota", headers=auth(), json={"slots": whole_week}
        )
        assert rota.status_code == 200 and rota.json()["on_duty_now"] is True
        coverage = await client.get("/api/v1/rota/coverage", headers=auth())
        assert coverage.json()["uncovered"] == []
        off = await client.post(
            f"/api/v1/mentors/{mentor['id']}/duty", headers=auth(), json={"on_duty": False}
        )
        assert off.json()["on_duty_now"] is False and off.json()["duty"] == "off"
        back = await client.post(
            f"/api/v1/mentors/{mentor['id']}/duty", headers=auth(), json={"on_duty": None}
        )
        assert back.json()["on_duty_now"] is True and back.json()["duty"] == "rota"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"phone": "0212-555-1234"}, "phone"),
        ({"topics": ["Paspor"]}, "topics"),
        ({"topics": []}, "topics"),
        ({"capacity": "5"}, "capacity"),
        ({"capacity": 0}, "capacity"),
        ({"extra": 1}, "extra"),
    ],
)
async def test_bad_mentor_input_names_the_field(
    settings: Settings, change: dict[str, object], field: str
) -> None:
    async with running_app(create_app, settings, MIGRATIONS) as (_app, client):
        response = await client.post("/api/v1/mentors", headers=auth(), json={**SARI, **change})
        assert response.status_code == 422, response.text
        assert field in [f["field"].split(".")[0] for f in response.json()["fields"]]


async def test_bad_rota_slots_are_refused(settings: Settings) -> None:
    async with running_app(create_app, settings, MIGRATIONS) as (_app, client):
        mentor = (await client.post("/api/v1/mentors", headers=auth(), json=SARI)).json()
        for slot in (
            {"day": 7, "start": "08:00", "end": "09:00"},
            {"day": 1, "start": "16:00", "end": "08:00"},
            {"day": 1, "start": "8am", "end": "09:00"},
        ):
            response = await client.put(
                f"/api/v1/mentors/{mentor['id']}/rota", headers=auth(), json={"slots": [slot]}
            )
            assert response.status_code == 422, slot


async def test_another_kecamatans_operator_cannot_see_or_change_the_roster(
    settings: Settings,
) -> None:
    other = issue_token(ADMIN_TOKEN, role="operator", tenant="trawas", subject="Operator Trawas")
    mentor_token = issue_token(ADMIN_TOKEN, role="mentor", tenant="mojosari", subject="not-a-uuid")
    async with running_app(create_app, settings, MIGRATIONS) as (_app, client):
        mentor = (await client.post("/api/v1/mentors", headers=auth(), json=SARI)).json()
        assert (await client.get("/api/v1/mentors", headers=auth(other))).json() == []
        duty = await client.post(
            f"/api/v1/mentors/{mentor['id']}/duty", headers=auth(other), json={"on_duty": True}
        )
        assert duty.status_code == 403
        token = await client.post(f"/api/v1/mentors/{mentor['id']}/token", headers=auth(other))
        assert token.status_code == 403
        assert (
            await client.get("/api/v1/conversations", headers=auth(mentor_token))
        ).status_code == 403
        assert (
            await client.get("/api/v1/conversations", headers=auth("mj1.a.b"))
        ).status_code == 401
        unknown = await client.post(
            "/api/v1/mentors/00000000-0000-0000-0000-000000000000/duty",
            headers=auth(),
            json={"on_duty": True},
        )
        assert unknown.status_code == 404
