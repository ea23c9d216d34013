"""Findings 1 and 2: tracebacks print no local variables, every log line is masked, a missing
kecamatan is a clear 503, and the start-up banner shows the admin token only when generated."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from services.supervisor import _banner
from shared.settings import PROJECT_ROOT
from shared.tenants import load_tenants
from tests.security.conftest import PARTICIPANT, ServiceRunner, create_event
from tests.support import ADMIN_TOKEN

pytestmark = pytest.mark.integration
SECRETS = ("Ayu Lestari", "Lestari", "81234567890", "812-3456", "812 3456", ADMIN_TOKEN)


@pytest.mark.parametrize("fmt", ["console", "json"])
async def test_a_crash_logs_a_plain_masked_traceback_and_tells_the_user_the_truth(
    service_app: ServiceRunner, capsys: pytest.CaptureFixture[str], fmt: str
) -> None:
    async with service_app("registration", log_format=fmt) as (app, client):

        async def crash() -> None:
            admin_token = ADMIN_TOKEN  # a local the old console traceback printed
            body = {"name": "Ayu Lestari", "phone": "+6281234567890"}
            raise RuntimeError(f"boom for {body['phone']} ({len(admin_token)})")

        app.router.add_api_route("/api/v1/crash", crash, methods=["POST"])
        capsys.readouterr()
        response = await client.post(
            "/api/v1/crash", json=PARTICIPANT, headers={"X-Correlation-ID": "crash-1"}
        )
        err = capsys.readouterr().err
    assert response.status_code == 500
    message = response.json()["message"]
    assert "tidak hilang" not in message and "crash-1" in message
    assert "Traceback" in err and "RuntimeError" in err and "http.unhandled_error" in err
    for secret in SECRETS:
        assert secret not in err, secret
    assert "admin_token = " not in err.split("File", 1)[0]  # no locals block
    assert "╭" not in err and "locals" not in err.lower()
    assert len(err) < 20_000
    assert err.count("Traceback") == 1  # logged once, not again by the server


async def test_a_missing_tenant_file_is_a_clear_503_and_an_operator_log_line(
    service_app: ServiceRunner, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    tenants = tmp_path / "tenants"
    tenants.mkdir()
    shutil.copy(PROJECT_ROOT / "deploy" / "tenants" / "mojosari.yaml", tenants)
    other = yaml.safe_load((tenants / "mojosari.yaml").read_text())
    other["tenant"]["code"] = "bangsal"
    (tenants / "bangsal.yaml").write_text(yaml.safe_dump(other))
    data_dir = tmp_path / "reg"
    async with service_app("registration", data_dir=data_dir, tenants_dir=tenants) as (_, client):
        event_id = await create_event(client, ADMIN_TOKEN)
    (tenants / "mojosari.yaml").unlink()
    load_tenants.cache_clear()
    try:
        async with service_app(
            "registration", data_dir=data_dir, tenants_dir=tenants, log_format="json"
        ) as (_, client):
            capsys.readouterr()
            response = await client.post(
                f"/api/v1/events/{event_id}/registrations", json=PARTICIPANT
            )
            page = await client.get(f"/daftar/{event_id}")
            err = capsys.readouterr().err
    finally:
        load_tenants.cache_clear()
    assert response.status_code == 503, response.text
    assert response.json()["error"] == "kecamatan_tidak_tersedia"
    assert "belum diproses" in response.json()["message"]
    assert page.status_code == 503 and page.headers["content-type"].startswith("text/html")
    assert '"event": "tenant.file_missing"' in err and '"tenant": "mojosari"' in err
    assert "Traceback" not in err
    for secret in SECRETS:
        assert secret not in err, secret


def test_the_banner_shows_the_admin_token_only_when_it_generated_it(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    _banner([], "kept-secret-token", False, tmp_path)
    assert "kept-secret-token" not in capsys.readouterr().out
    _banner([], "fresh-token", True, tmp_path)
    assert "fresh-token" in capsys.readouterr().out


def test_exception_text_that_quotes_request_data_is_masked() -> None:
    from pydantic import BaseModel, field_validator

    from shared.privacy import mask_event_dict

    class Person(BaseModel):
        name: str

        @field_validator("name")
        @classmethod
        def refuse(cls, value: str) -> str:
            raise ValueError("no")

    try:
        Person(name="Ayu Lestari")
    except ValueError as exc:
        pydantic_text = str(exc)
    sql_text = (
        "(sqlite3.IntegrityError) UNIQUE constraint failed\n[SQL: INSERT INTO r VALUES (?, ?)]\n"
        "[parameters: ('Ayu Lestari', '+6281234567890')]\n(Background on this error at: x)"
    )
    masked = mask_event_dict(
        None,
        "error",
        {
            "exception": pydantic_text + "\n" + sql_text,
            "url": "redis://:s3cret-pass@redis:6379/0",
            "header": f"Authorization: Bearer {ADMIN_TOKEN}",
            "token": "mj1.abc.def",
        },
    )
    text = str(masked)
    for secret in (*SECRETS, "s3cret-pass", "mj1.abc.def"):
        assert secret not in text, secret
    assert "UNIQUE constraint failed" in text  # the operator still learns what happened
