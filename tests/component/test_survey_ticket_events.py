"""A saran's ticket announces its life on the streams: opened, replied, closed (no text, no phone).

The dashboard's complaint tiles are fed by these events; the second test drives both services.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from redis.asyncio import Redis

from services.dashboard.app import MIGRATIONS as DASHBOARD_MIGRATIONS
from services.dashboard.app import create_app as create_dashboard
from services.dashboard.settings import Settings as DashboardSettings
from services.survey.app import MIGRATIONS, create_app
from services.survey.settings import Settings
from shared.contracts import Event, TicketClosedV1, TicketOpenedV1, TicketRepliedV1
from shared.settings import PROJECT_ROOT
from shared.wire import DATA_FIELD, decode
from tests.support import auth, running_app, wait_for

pytestmark = pytest.mark.integration
URL = "/api/v1/units/kantor-kecamatan/responses"
SCORES = {f"U{i}": 3 for i in range(1, 10)}
PRIVATE = {"text", "phone", "suggestion", "reply", "name"}


@pytest.fixture
def settings(settings_for: Callable[..., Settings]) -> Settings:
    return settings_for(Settings)


async def payloads(redis: Redis, contract: type[Event]) -> list[dict[str, Any]]:
    """The events on a contract's stream, as published (JSON payloads, in order)."""
    entries = await redis.xrange(contract.STREAM)
    return [json.loads(decode(fields[DATA_FIELD.encode()])[0]) for _id, fields in entries]


async def until(redis: Redis, contract: type[Event], count: int) -> list[dict[str, Any]]:
    """The stream's payloads once it holds `count` events."""

    async def enough() -> list[dict[str, Any]] | None:
        found = await payloads(redis, contract)
        return found if len(found) >= count else None

    return await wait_for(enough, timeout=60, what=f"{count} events on {contract.STREAM}")


async def submit(client: Any, agent: str, **body: Any) -> None:
    answer = await client.post(URL, json={"scores": SCORES, **body}, headers={"User-Agent": agent})
    assert answer.status_code == 201, answer.text


async def act(client: Any, ticket: dict[str, Any], what: str, **body: Any) -> Any:
    """POST /api/v1/tickets/{id}/reply or /close as the operator."""
    return await client.post(f"/api/v1/tickets/{ticket['id']}/{what}", headers=auth(), json=body)


async def tickets_by_text(client: Any) -> dict[str, dict[str, Any]]:
    listed = (await client.get("/api/v1/tickets", headers=auth())).json()
    return {t["suggestion"]: t for t in listed["items"]}


async def test_a_tickets_life_publishes_opened_replied_and_closed(
    settings: Settings, redis_client: Redis
) -> None:
    async with running_app(create_app, settings, MIGRATIONS) as (_app, client):
        await submit(client, "a", suggestion="Antrean lama", phone="081234567890",
                     phone_consent=True)  # fmt: skip
        await submit(client, "b", suggestion="Kursi kurang")
        await submit(client, "c")  # no saran: no ticket, no event
        by_text = await tickets_by_text(client)
        slow, quick = by_text["Antrean lama"], by_text["Kursi kurang"]
        opened = await until(redis_client, TicketOpenedV1, 2)
        assert {e["ticket_id"] for e in opened} == {slow["id"], quick["id"]}
        assert {e["unit"] for e in opened} == {"kantor-kecamatan"}

        reply = {"reply": "Loket kedua dibuka pukul 08.00."}
        answer = await client.post(
            f"/api/v1/tickets/{slow['id']}/reply", headers=auth(), json=reply
        )
        assert answer.status_code == 200, answer.text
        first = (await until(redis_client, TicketRepliedV1, 1))[0]
        assert (first["ticket_id"], first["closed"], first["sent_by_whatsapp"]) == (
            slow["id"], False, True,
        )  # fmt: skip
        assert 0 <= first["first_response_s"] < 600
        assert await payloads(redis_client, TicketClosedV1) == []  # replied, still open

        closing = {"reply": "Kursi ditambah.", "close": True}
        answer = await client.post(
            f"/api/v1/tickets/{quick['id']}/reply", headers=auth(), json=closing
        )
        assert answer.json()["status"] == "selesai"
        assert (await client.post(f"/api/v1/tickets/{slow['id']}/close", headers=auth())).json()[
            "status"
        ] == "selesai"
        # No-ops publish nothing: closing a closed ticket, replying to one (409).
        assert (
            await client.post(f"/api/v1/tickets/{quick['id']}/close", headers=auth())
        ).is_success
        refused = await client.post(
            f"/api/v1/tickets/{quick['id']}/reply", headers=auth(), json=reply
        )
        assert refused.status_code == 409
        await submit(client, "d", suggestion="Parkir sempit")  # a marker after the no-ops
        await until(redis_client, TicketOpenedV1, 3)

        replied = await until(redis_client, TicketRepliedV1, 2)
        closed = await until(redis_client, TicketClosedV1, 2)
    assert len(replied) == 2 and len(closed) == 2
    assert (replied[1]["ticket_id"], replied[1]["closed"], replied[1]["sent_by_whatsapp"]) == (
        quick["id"], True, False,
    )  # fmt: skip
    closes = {e["ticket_id"]: e for e in closed}
    assert closes[slow["id"]]["first_response_s"] == first["first_response_s"]
    assert closes[quick["id"]]["first_response_s"] == replied[1]["first_response_s"]
    for event in opened + replied + closed:
        assert not PRIVATE & set(event), event
        assert event["tenant"] == "mojosari" and event["source"] == "survey"


@pytest.fixture
def tenants_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "tenants"
    folder.mkdir()
    shutil.copy(PROJECT_ROOT / "deploy" / "tenants" / "mojosari.yaml", folder / "mojosari.yaml")
    return folder


async def test_the_dashboards_complaint_tiles_follow_the_survey_tickets(
    settings: Settings, settings_for: Callable[..., Any], tenants_dir: Path
) -> None:
    board = settings_for(DashboardSettings, tenants_dir=tenants_dir, service_urls={})
    async with (
        running_app(create_dashboard, board, DASHBOARD_MIGRATIONS) as (_board, dashboard),
        running_app(create_app, settings, MIGRATIONS) as (_app, client),
    ):

        async def queue(expected_open: int, answered: bool) -> dict[str, Any] | None:
            body = (await dashboard.get("/api/v1/summary", headers=auth())).json()["queue"]
            done = body["complaint_response_avg_s"] is not None
            return body if body["complaints_open"] == expected_open and done == answered else None

        await submit(client, "a", suggestion="Antrean lama")
        await submit(client, "b", suggestion="Kursi kurang")
        await wait_for(lambda: queue(2, False), timeout=60, what="two open complaints")
        by_text = await tickets_by_text(client)
        answer = await act(client, by_text["Kursi kurang"], "reply", reply="Ditambah.", close=True)
        assert answer.status_code == 200, answer.text
        tiles = await wait_for(lambda: queue(1, True), timeout=60, what="one complaint answered")
    assert tiles["complaint_response_avg_s"] >= 0
    assert tiles["first_response_avg_s"] is None  # complaints are not consultations
