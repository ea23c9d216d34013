"""Where certificate PDFs live: a small port, a local-folder adapter, and the factory.

The database keeps only the key (`<tenant>/<year>/<certificate id>.pdf`); the bytes live in a
folder under the data folder (default) or in an S3-compatible bucket (s3storage.py), so every
replica of a multi-node deployment serves the same files. Methods are blocking: async callers
run them with `asyncio.to_thread` (the migration calls them directly).
"""

from __future__ import annotations

import os
import tempfile
import uuid
from datetime import datetime
from pathlib import Path
from typing import Protocol

from services.certificates.settings import Settings


class PdfStore(Protocol):
    """Stores, fetches and deletes certificate PDFs by key."""

    name: str

    def put(self, key: str, data: bytes) -> None:
        """Writes (or replaces) the object under key."""

    def get(self, key: str) -> bytes | None:
        """Returns the object's bytes, or None when there is none."""

    def delete(self, key: str) -> None:
        """Removes the object (no error when it is absent)."""


def pdf_key(tenant: str, issued_at: datetime, certificate_id: uuid.UUID) -> str:
    """The storage key of a certificate's PDF; stable, so a re-issue replaces the file."""
    return f"{tenant}/{issued_at.year}/{certificate_id}.pdf"


class LocalPdfStore:
    """PDFs as files in one folder; writes are atomic (temporary file, then rename)."""

    name = "local"

    def __init__(self, root: Path) -> None:
        self.root = root.resolve()

    def _path(self, key: str) -> Path:
        path = (self.root / key).resolve()
        if self.root not in path.parents:  # keys are ours, but never leave the folder
            raise ValueError(f"storage key outside the folder: {key!r}")
        return path

    def put(self, key: str, data: bytes) -> None:
        """Writes the file atomically, so a reader never sees half a PDF."""
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".pdf")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def get(self, key: str) -> bytes | None:
        """Reads the file, or None when it is absent."""
        try:
            return self._path(key).read_bytes()
        except FileNotFoundError:
            return None

    def delete(self, key: str) -> None:
        """Removes the file when present."""
        self._path(key).unlink(missing_ok=True)


def build_store(settings: Settings) -> PdfStore:
    """The store the settings choose: local folder (default) or S3-compatible bucket."""
    if settings.storage == "s3":
        from services.certificates.s3storage import S3PdfStore

        return S3PdfStore.from_settings(settings)
    return LocalPdfStore(settings.effective_storage_dir)
