"""The brochure and the sticker, rendered from the tenant file, as people download them."""

from __future__ import annotations

import re
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from services.certificates.app import MIGRATIONS, create_app
from services.certificates.settings import Settings
from tests.certificates_support import need_tool, pdf_text, qr_codes
from tests.support import running_app

pytestmark = pytest.mark.integration
TENANT_FILE = Path(__file__).resolve().parents[2] / "deploy" / "tenants" / "mojosari.yaml"


def squeeze(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def everything_the_brochure_must_say() -> list[str]:
    """Every service, requirement, contact, motto and value of the tenant file."""
    data = yaml.safe_load(TENANT_FILE.read_text(encoding="utf-8"))
    facts = data["tenant"]
    wanted = [*data["services"], facts["address"], facts["call_center"], facts["motto"]]
    for requirement in data["requirements"]:
        wanted += [requirement["title"], *requirement["documents"]]
    wanted += [str(v) for v in facts["social"].values()]
    for name, meaning in facts["values"].items():
        wanted += [name, meaning]
    for span in facts["office_hours"].values():
        if span:
            wanted.append(f"{span[0]} - {span[1]}")
    return wanted


async def test_the_brochure_is_a5_and_says_every_requirement_of_the_tenant_file(
    settings_for: Callable[..., Settings], tmp_path: Path
) -> None:
    settings = settings_for(Settings, render_workers=1)
    async with running_app(create_app, settings, MIGRATIONS) as (_app, client):
        response = await client.get("/brosur.pdf")
        again = await client.get("/brosur.pdf", params={"tenant": "mojosari"})
        unknown = await client.get("/brosur.pdf", params={"tenant": "atlantis"})
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/pdf"
    assert again.content == response.content
    assert unknown.status_code == 404 and "atlantis" in unknown.json()["message"]

    text = squeeze(pdf_text(response.content, tmp_path))
    missing = [item for item in everything_the_brochure_must_say() if squeeze(item) not in text]
    assert missing == []
    assert "GRATIS" in text and "Sabtu Libur" in text
    source = tmp_path / "brosur.pdf"
    source.write_bytes(response.content)
    info = subprocess.run(
        [need_tool("pdfinfo"), str(source)], capture_output=True, check=True, text=True
    ).stdout
    width, height = map(float, re.search(r"Page size:\s+([\d.]+) x ([\d.]+)", info).groups())  # type: ignore[union-attr]
    assert (round(width / 72 * 25.4), round(height / 72 * 25.4)) == (148, 210)  # A5, in mm


async def test_the_sticker_qr_code_opens_a_whatsapp_chat_with_the_consultation_number(
    settings_for: Callable[..., Settings], tmp_path: Path
) -> None:
    settings = settings_for(Settings, render_workers=1)
    async with running_app(create_app, settings, MIGRATIONS) as (_app, client):
        response = await client.get("/stiker.pdf")
    assert response.status_code == 200
    assert qr_codes(response.content, tmp_path) == ["https://wa.me/6285933871047"]
    assert "+6285933871047" in pdf_text(response.content, tmp_path)
