"""PDF storage: a real S3-compatible server (moto in server mode, its own process on a
localhost port), and the migration that moves PDFs out of the database."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import boto3
import pytest
import sqlalchemy as sa
from redis.asyncio import Redis

from services.certificates.app import MIGRATIONS, create_app
from services.certificates.s3storage import S3PdfStore
from services.certificates.settings import Settings
from services.certificates.storage import LocalPdfStore
from shared.db import Database
from shared.migrations import upgrade
from tests.factories import participant_registered, publish
from tests.support import auth, free_port, port_open, running_app, wait_for

pytestmark = pytest.mark.integration
BUCKET = "sertifikat"
CREDENTIALS = {"aws_access_key_id": "test", "aws_secret_access_key": "test"}


@pytest.fixture(scope="module")
def s3_endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """moto's S3-compatible server in its own process; an empty bucket is created."""
    port = free_port()
    log = (tmp_path_factory.mktemp("moto") / "moto.log").open("wb")
    server = subprocess.Popen(
        [str(Path(sys.executable).parent / "moto_server"), "-H", "127.0.0.1", "-p", str(port)],
        stdout=log,
        stderr=log,
    )
    try:
        deadline = time.monotonic() + 60
        while not port_open("127.0.0.1", port):  # poll: the server takes a moment to listen
            assert server.poll() is None, "moto_server exited"
            assert time.monotonic() < deadline, "moto_server did not start"
            time.sleep(0.1)
        endpoint = f"http://127.0.0.1:{port}"
        _client(endpoint).create_bucket(Bucket=BUCKET)
        yield endpoint
    finally:
        server.terminate()
        server.wait(10)


def _client(endpoint: str) -> Any:
    return boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1", **CREDENTIALS)


def s3_settings(settings_for: Callable[..., Settings], endpoint: str, prefix: str) -> Settings:
    return settings_for(
        Settings,
        render_workers=1,
        storage="s3",
        s3_endpoint_url=endpoint,
        s3_bucket=BUCKET,
        s3_prefix=prefix,
        s3_access_key_id="test",
        s3_secret_access_key="test",
    )


def test_the_s3_store_writes_replaces_reads_and_deletes_objects(
    s3_endpoint: str, settings_for: Callable[..., Settings]
) -> None:
    store = S3PdfStore.from_settings(s3_settings(settings_for, s3_endpoint, "a/"))
    key = f"mojosari/2026/{uuid.uuid4()}.pdf"
    assert store.get(key) is None
    store.put(key, b"%PDF-1 first")
    store.put(key, b"%PDF-1 second")
    assert store.get(key) == b"%PDF-1 second"
    raw = _client(s3_endpoint).get_object(Bucket=BUCKET, Key=f"a/{key}")
    assert raw["Body"].read() == b"%PDF-1 second"
    store.delete(key)
    assert store.get(key) is None


async def test_a_certificate_on_s3_storage_is_served_from_the_bucket(
    s3_endpoint: str, settings_for: Callable[..., Settings], redis_client: Redis
) -> None:
    prefix = f"run-{uuid.uuid4().hex[:8]}"
    settings = s3_settings(settings_for, s3_endpoint, prefix)
    async with running_app(create_app, settings, MIGRATIONS) as (_app, client):
        event = participant_registered()
        await publish(redis_client, event)

        async def listed() -> list[dict[str, str]]:
            response = await client.get(
                "/api/v1/certificates",
                headers=auth(),
                params={"registration_id": str(event.registration_id)},
            )
            body: list[dict[str, str]] = response.json()
            return body

        cert = (await wait_for(listed, what="the certificate"))[0]
        pdf = (await client.get(f"/api/v1/certificates/{cert['id']}/pdf")).content
    objects = _client(s3_endpoint).list_objects_v2(Bucket=BUCKET, Prefix=prefix)
    keys = [o["Key"] for o in objects["Contents"]]
    assert len(keys) == 1 and keys[0].endswith(f"/{cert['id']}.pdf")
    body = _client(s3_endpoint).get_object(Bucket=BUCKET, Key=keys[0])["Body"].read()
    assert pdf.startswith(b"%PDF") and body == pdf
    assert not list((settings.data_dir / "certificates").rglob("*.pdf"))


async def test_the_migration_moves_stored_pdfs_out_of_the_database(
    settings_for: Callable[..., Settings], redis_client: Redis
) -> None:
    settings = settings_for(Settings, render_workers=1)
    await asyncio.to_thread(upgrade, settings, MIGRATIONS, "0001")
    certificate_id, issued_at = uuid.uuid4(), datetime(2026, 3, 1, 2, 0, tzinfo=UTC)
    old_pdf = b"%PDF-1.7 a certificate rendered before the migration"
    db = Database(settings)
    try:
        async with db.session() as session:
            await session.execute(_old_certificates().insert().values(
                id=certificate_id, tenant="mojosari", registration_id=uuid.uuid4(),
                number="0001/SERT-MENJAMU/MOJOSARI/2026", participant_name="Ayu",
                school="SMAN 1", level="SMA", activity_title="Sosialisasi",
                activity_date=date(2026, 3, 1), activity_location="Pendopo", pdf=old_pdf,
                status="valid", issued_at=issued_at, correlation_id="corr-old",
            ))  # fmt: skip
        await asyncio.to_thread(upgrade, settings, MIGRATIONS)
        async with db.engine.connect() as conn:
            columns = await conn.run_sync(
                lambda sync: [c["name"] for c in sa.inspect(sync).get_columns("certificates")]
            )
            key = (await conn.execute(sa.text("SELECT pdf_key FROM certificates"))).scalar_one()
    finally:
        await db.dispose()
    assert "pdf" not in columns
    assert key == f"mojosari/2026/{certificate_id}.pdf"
    assert LocalPdfStore(settings.effective_storage_dir).get(key) == old_pdf
    async with running_app(create_app, settings, MIGRATIONS) as (_app, client):
        served = await client.get(f"/api/v1/certificates/{certificate_id}/pdf")
        assert served.content == old_pdf


def _old_certificates() -> sa.Table:
    return sa.table(
        "certificates",
        *(sa.column(n, sa.String()) for n in ("tenant", "number", "participant_name", "school")),
        *(sa.column(n, sa.String()) for n in ("level", "activity_title", "activity_location")),
        *(sa.column(n, sa.String()) for n in ("status", "correlation_id")),
        sa.column("id", sa.Uuid()),
        sa.column("registration_id", sa.Uuid()),
        sa.column("activity_date", sa.Date()),
        sa.column("issued_at", sa.DateTime(timezone=True)),
        sa.column("pdf", sa.LargeBinary()),
    )
