"""One participant's and one citizen's journey through all four running services."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

import httpx

from tests.support import auth


@dataclass(frozen=True)
class Urls:
    """Base URLs of the four services."""

    registration: str
    certificates: str
    consultation: str
    survey: str


async def _poll(
    client: httpx.AsyncClient,
    url: str,
    *,
    params: dict[str, str],
    token: str,
    timeout: float = 60.0,
) -> list[dict[str, Any]]:
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        response = await client.get(url, params=params, headers=auth(token))
        assert response.status_code == 200, response.text
        rows: list[dict[str, Any]] = response.json()
        if rows and all(r.get("status") in ("valid", "sent") for r in rows):
            return rows
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"nothing ready at {url} after {timeout}s: {rows}")
        await asyncio.sleep(0.2)


async def follow_registration(urls: Urls, token: str, correlation_id: str) -> dict[str, Any]:
    """Registers a participant; returns the certificate, its PDF and the invitation."""
    async with httpx.AsyncClient(timeout=30) as client:
        event = await client.post(
            f"{urls.registration}/api/v1/events",
            headers=auth(token),
            json={
                "title": "Sosialisasi Adminduk untuk Gen-Z",
                "date": "2026-12-05",
                "location": "Pendopo Mojosari",
            },
        )
        assert event.status_code == 201, event.text
        registered = await client.post(
            f"{urls.registration}/api/v1/events/{event.json()['id']}/registrations",
            headers={"X-Correlation-ID": correlation_id},
            json={
                "name": "Ayu Lestari",
                "school": "SMAN 1 Mojosari",
                "phone": "0812-3456-7890",
                "level": "SMA",
                "desa": "Wonokusumo",
                "consent": True,
            },
        )
        assert registered.status_code == 201, registered.text
        registration_id = registered.json()["registration"]["id"]
        params = {"registration_id": registration_id}
        certificates = await _poll(
            client, f"{urls.certificates}/api/v1/certificates", params=params, token=token
        )
        pdf = await client.get(certificates[0]["download_url"])
        invitations = await _poll(
            client, f"{urls.consultation}/api/v1/invitations", params=params, token=token
        )
    return {
        "registration_id": registration_id,
        "certificates": certificates,
        "pdf": pdf,
        "invitations": invitations,
    }


async def follow_survey(urls: Urls, token: str) -> dict[str, Any]:
    """Submits one survey response (4,3,3,4,3,3,4,4,3) and waits for the IKM to count it."""
    scores = dict(zip([f"U{i}" for i in range(1, 10)], [4, 3, 3, 4, 3, 3, 4, 4, 3], strict=True))
    async with httpx.AsyncClient(timeout=30) as client:
        posted = await client.post(
            f"{urls.survey}/api/v1/units/kantor-kecamatan/responses", json={"scores": scores}
        )
        assert posted.status_code == 201, posted.text
        deadline = asyncio.get_running_loop().time() + 60
        while True:
            ikm = await client.get(
                f"{urls.survey}/api/v1/ikm",
                headers=auth(token),
                params={"unit": "kantor-kecamatan"},
            )
            assert ikm.status_code == 200, ikm.text
            report: dict[str, Any] = ikm.json()
            if report["responses"] >= 1:
                return report
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"IKM never counted the response: {report}")
            await asyncio.sleep(0.2)
