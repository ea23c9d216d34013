"""Helpers of the certificates tests: events, stream reading, PDF text and QR codes."""

from __future__ import annotations

import shutil
import subprocess
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import pytest
from faststream.redis.parser import BinaryMessageFormatV1
from redis.asyncio import Redis

from shared.contracts import Event, ParticipantCancelledV1, ParticipantCheckedInV1
from shared.streams import group_stats

E = TypeVar("E", bound=Event)


def checked_in(registration_id: uuid.UUID, activity_id: uuid.UUID) -> ParticipantCheckedInV1:
    """A ParticipantCheckedInV1 as the registration service publishes it."""
    return ParticipantCheckedInV1(
        tenant="mojosari",
        source="registration",
        correlation_id=f"corr-{uuid.uuid4()}",
        registration_id=registration_id,
        activity_id=activity_id,
        checked_in_at=datetime.now(UTC),
    )


def cancelled(registration_id: uuid.UUID, activity_id: uuid.UUID) -> ParticipantCancelledV1:
    """A ParticipantCancelledV1 as the registration service publishes it."""
    return ParticipantCancelledV1(
        tenant="mojosari",
        source="registration",
        correlation_id=f"corr-{uuid.uuid4()}",
        registration_id=registration_id,
        activity_id=activity_id,
        cancelled_at=datetime.now(UTC),
        reason="tidak jadi ikut",
    )


async def events_on(redis: Redis, model: type[E]) -> list[E]:
    """Every event of a type on its stream, in order."""
    entries = await redis.xrange(model.STREAM)
    return [
        model.model_validate_json(BinaryMessageFormatV1.parse(f[b"__data__"])[0])
        for _id, f in entries
    ]


async def group_idle(redis: Redis, stream: str, group: str) -> bool:
    """True when a consumer group has read and acknowledged everything."""
    stats = await group_stats(redis, stream, group)
    return bool(stats["exists"] and stats["pending"] == 0 and stats["lag"] == 0)


def need_tool(name: str) -> str:
    """The path of a poppler tool, or skip (fail under CI) when absent."""
    import os

    path = shutil.which(name)
    if path is None:
        message = f"{name} (Debian package poppler-utils) is not installed"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    return path


def pdf_text(pdf: bytes, tmp_path: Path) -> str:
    """The PDF's text as pdftotext extracts it."""
    source = tmp_path / f"{uuid.uuid4().hex}.pdf"
    source.write_bytes(pdf)
    result = subprocess.run(
        [need_tool("pdftotext"), "-layout", str(source), "-"],
        capture_output=True,
        check=True,
    )
    return result.stdout.decode()


def qr_codes(pdf: bytes, tmp_path: Path) -> list[str]:
    """The texts of the QR codes on the PDF's first page (rendered at 200 dpi)."""
    import zxingcpp
    from PIL import Image

    source = tmp_path / f"{uuid.uuid4().hex}.pdf"
    source.write_bytes(pdf)
    prefix = tmp_path / source.stem
    subprocess.run(
        [
            need_tool("pdftoppm"),
            "-r",
            "200",
            "-png",
            "-f",
            "1",
            "-l",
            "1",
            str(source),
            str(prefix),
        ],
        check=True,
        capture_output=True,
    )
    page = next(tmp_path.glob(f"{source.stem}*.png"))
    found: list[Any] = zxingcpp.read_barcodes(Image.open(page))
    return [code.text for code in found if code.format == zxingcpp.BarcodeFormat.QRCode]
