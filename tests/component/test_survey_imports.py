"""Paper forms in bulk: CSV and XLSX, every bad row reported, good rows imported whole."""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

import pytest
from openpyxl import Workbook, load_workbook

from services.survey.app import MIGRATIONS, create_app
from services.survey.settings import Settings
from tests.support import auth, running_app, wait_for

pytestmark = pytest.mark.integration
URL = "/api/v1/units/kantor-kecamatan/imports"
HEADER = "tanggal,U1,U2,U3,U4,U5,U6,U7,U8,U9,jenis_kelamin,usia,no_hp,bersedia_dihubungi"
CSV = "\n".join(
    [
        HEADER,
        "2025-03-10,4,4,4,4,4,4,4,4,4,P,30,,tidak",  # row 2: good
        "2025-03-11,4,4,5,4,4,4,4,4,4,L,,,",  # row 3: U3 = 5
        "2025-03-12T09:00:00,4,4,4,4,4,4,4,4,4,X,abc,,",  # row 4: no offset, gender, age
        "",  # an empty line is no form
        "2025-03-31T23:30:00+07:00,2,2,2,2,2,2,2,,2,,,0812-3456-7890,ya",  # row 6: good, U8 blank
        ",,,,,,,,,,L,,,",  # row 7: nothing answered
    ]
)


@pytest.fixture
def settings(settings_for: Callable[..., Settings]) -> Settings:
    return settings_for(Settings)


async def upload(client: Any, name: str, content: bytes, headers: Any = None) -> Any:
    return await client.post(
        URL, files={"file": (name, content)}, headers=auth() if headers is None else headers
    )


async def march(client: Any, expected: int) -> dict[str, Any]:
    async def probe() -> dict[str, Any] | None:
        body: dict[str, Any] = (
            await client.get("/api/v1/ikm", params={"period": "2025-03"}, headers=auth())
        ).json()
        return body if body["responses"] >= expected else None

    return await wait_for(probe, what=f"{expected} imported responses aggregated")


async def test_a_csv_imports_good_rows_and_names_every_bad_cell(settings: Settings) -> None:
    async with running_app(create_app, settings, MIGRATIONS) as (_app, client):
        answer = await upload(client, "kertas.csv", CSV.encode())
        assert answer.status_code == 200, answer.text
        body = answer.json()
        assert (body["imported"], body["duplicates"], body["rejected_rows"]) == (2, 0, [3, 4, 7])
        problems = {(p["row"], p["column"]) for p in body["problems"]}
        assert {(3, "U3"), (4, "tanggal"), (4, "jenis_kelamin"), (4, "usia")} <= problems
        assert (7, "U1..U9") in problems
        u3 = next(p for p in body["problems"] if p["row"] == 3)
        assert "antara 1 dan 4" in u3["message"]
        again = (await upload(client, "kertas.csv", CSV.encode())).json()
        assert (again["imported"], again["duplicates"]) == (0, 2)
        report = await march(client, 2)
        assert report["responses"] == 2
        u8 = report["unsur"][7]
        assert (u8["answered"], u8["score_sum"]) == (1, 4)  # the blank U8 is not in its count


async def test_an_xlsx_imports_like_a_csv_and_the_template_round_trips(settings: Settings) -> None:
    async with running_app(create_app, settings, MIGRATIONS) as (_app, client):
        template = await client.get("/api/v1/imports/template.xlsx")
        assert template.status_code == 200
        sheet = load_workbook(io.BytesIO(template.content)).active
        assert [c.value for c in sheet[1]][:10] == ["tanggal", *[f"U{i}" for i in range(1, 10)]]
        filled = await upload(client, "templat-skm.xlsx", template.content)
        assert filled.json()["imported"] == 1, filled.text
        csv_template = await client.get("/api/v1/imports/template.csv")
        assert csv_template.text.startswith("tanggal,U1,U2")

        book = Workbook()
        rows = [HEADER.split(","), ["2025-03-05", 3, 3, 3, 3, 3, 3, 3, 3, 3.0, "L", 41, None, None]]
        for row in rows:
            book.active.append(row)
        out = io.BytesIO()
        book.save(out)
        answer = await upload(client, "kertas.xlsx", out.getvalue())
        assert answer.json()["imported"] == 1, answer.text
        report = await march(client, 2)
        assert report["profile"]["gender"] == {"L": 1, "P": 1}


async def test_imports_need_an_operator_and_a_readable_file(settings: Settings) -> None:
    async with running_app(create_app, settings, MIGRATIONS) as (_app, client):
        assert (await upload(client, "a.csv", CSV.encode(), headers={})).status_code == 401
        wrong = await upload(client, "a.pdf", b"%PDF-1.4")
        assert wrong.status_code == 422 and "csv atau .xlsx" in wrong.json()["message"]
        broken = await upload(client, "a.xlsx", b"not a zip")
        assert broken.status_code == 422 and "XLSX" in broken.json()["message"]
        headless = await upload(client, "a.csv", b"nama,usia\nAyu,20\n")
        assert headless.status_code == 422 and "U1" in headless.json()["message"]
