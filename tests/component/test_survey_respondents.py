"""The respondents list and exports an operator uses: search, filters, pages, masked phones."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from typing import Any

import pytest
from openpyxl import load_workbook

from services.survey.app import MIGRATIONS, create_app
from services.survey.settings import Settings
from shared.auth import issue_token
from tests.support import ADMIN_TOKEN, auth, running_app, wait_for

pytestmark = pytest.mark.integration
URL = "/api/v1/units/{unit}/responses"
EXAMPLE = [4, 3, 3, 4, 3, 3, 4, 4, 3]


@pytest.fixture
def settings(settings_for: Callable[..., Settings]) -> Settings:
    return settings_for(Settings)


async def fill(client: Any) -> None:
    """Five respondents: two named with phones, one complaint, two units."""
    bodies = [
        {"name": "Ayu Lestari", "phone": "0812-3456-7890", "gender": "P",
         "suggestion": "Antrean KTP terlalu lama"},
        {"name": "Budi", "phone": "081298765432", "gender": "L"},
        {"gender": "P", "education": "SMA"},
        {"gender": "L", "suggestion": "=HYPERLINK(\"http://x\",\"klik\")"},
        {"gender": "P"},
    ]  # fmt: skip
    for i, body in enumerate(bodies):
        unit = "kantor-kecamatan" if i < 4 else "si-genz-menjamu"
        scores = dict(zip([f"U{k}" for k in range(1, 10)], EXAMPLE, strict=True))
        answer = await client.post(
            URL.format(unit=unit), json={"scores": scores, **body}, headers={"User-Agent": str(i)}
        )
        assert answer.status_code == 201, answer.text


async def listing(client: Any, **params: Any) -> dict[str, Any]:
    answer = await client.get("/api/v1/responses", params=params, headers=auth())
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


async def test_search_filters_pages_and_masked_phones(
    settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    async with running_app(create_app, settings, MIGRATIONS) as (_app, client):
        await fill(client)
        everyone = await listing(client)
        assert everyone["total"] == 5 and len(everyone["items"]) == 5
        phones = {i["phone"] for i in everyone["items"]} - {None}
        assert phones == {"+6281****90", "+6281****32"}
        assert (await listing(client, q="antrean"))["total"] == 1
        assert (await listing(client, q="AYU"))["items"][0]["name"] == "Ayu Lestari"
        assert (await listing(client, gender="P"))["total"] == 3
        assert (await listing(client, unit="si-genz-menjamu"))["total"] == 1
        assert (await listing(client, education="SMA", gender="P"))["total"] == 1
        first, second = await listing(client, limit=3), await listing(client, limit=3, offset=3)
        ids = [i["id"] for i in first["items"] + second["items"]]
        assert len(ids) == len(set(ids)) == 5
        capsys.readouterr()
        shown = await listing(client, q="ayu", show_phone="true")
        assert shown["items"][0]["phone"] == "+6281234567890"
        logs = capsys.readouterr().err
        # Who asked for the phones is logged, the numbers themselves are not.
        assert "survey.phones_revealed" in logs and "rows=1" in logs
        assert "6281234567890" not in logs and "3456" not in logs
        assert (await listing(client, period="2020"))["total"] == 0


async def test_exports_csv_and_the_office_workbook(settings: Settings) -> None:
    async with running_app(create_app, settings, MIGRATIONS) as (_app, client):
        await fill(client)
        text = (await client.get("/api/v1/exports/respondents.csv", headers=auth())).text
        rows = list(csv.reader(io.StringIO(text)))
        assert rows[0][:2] == ["No", "Tanggal"] and len(rows) == 6
        assert "+6281****90" in text and "3456" not in text
        assert "'=HYPERLINK" in text  # a saran is never a formula in a spreadsheet

        async def aggregated() -> bool:
            body = (await client.get("/api/v1/ikm", headers=auth())).json()
            return bool(body["responses"] == 5)

        await wait_for(aggregated, what="five aggregated responses")
        answer = await client.get(
            "/api/v1/exports/ikm.xlsx", params={"unit": "kantor-kecamatan"}, headers=auth()
        )
        assert answer.status_code == 200, answer.text
        sheet = load_workbook(io.BytesIO(answer.content)).active
        values = [[c.value for c in row] for row in sheet.iter_rows()]
        header = values[2]
        u1 = header.index("U1")
        respondents = [r for r in values[3:] if isinstance(r[0], int)]
        assert len(respondents) == 4 and respondents[0][u1 : u1 + 9] == EXAMPLE
        by_label = {r[1]: r for r in values if isinstance(r[1], str)}
        assert by_label["Jumlah nilai per unsur"][u1 : u1 + 9] == [e * 4 for e in EXAMPLE]
        assert by_label["NRR per unsur"][u1] == 4.0
        assert by_label["Konversi IKM (x 25)"][u1] == 86.11
        assert by_label["Mutu pelayanan"][u1] == "B"
        saran = [c for row in sheet.iter_rows() for c in row if str(c.value).startswith("=HYP")]
        assert saran and all(c.data_type == "s" for c in saran)


async def test_respondents_of_another_kecamatan_are_refused(settings: Settings) -> None:
    async with running_app(create_app, settings, MIGRATIONS) as (_app, client):
        await fill(client)
        other = issue_token(ADMIN_TOKEN, role="operator", tenant="lain", subject="x")
        for path in ("/api/v1/responses", "/api/v1/exports/respondents.csv"):
            refused = await client.get(path, params={"tenant": "mojosari"}, headers=auth(other))
            assert refused.status_code == 403
            assert (await client.get(path)).status_code == 401
