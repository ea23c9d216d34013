"""Events published by the certificates service."""

from __future__ import annotations

from datetime import datetime
from typing import Literal
from uuid import UUID

from pydantic import Field

from shared.contracts.envelope import Event


class CertificateIssuedV1(Event):
    """A participant's e-certificate was rendered and can be downloaded and verified."""

    type: Literal["certificates.certificate_issued"] = "certificates.certificate_issued"
    version: Literal[1] = 1

    certificate_id: UUID
    registration_id: UUID
    number: str = Field(description="Printed certificate number, unique per tenant.")
    download_url: str
    verify_url: str
    brochure_url: str | None = Field(
        default=None, description="The kecamatan's requirements brochure (A5 PDF), public."
    )


class CertificateRevokedV1(Event):
    """An issued e-certificate was revoked: its PDF is gone and verification says so."""

    type: Literal["certificates.certificate_revoked"] = "certificates.certificate_revoked"
    version: Literal[1] = 1

    certificate_id: UUID
    registration_id: UUID
    number: str = Field(description="Printed certificate number, unique per tenant.")
    revoked_at: datetime
    reason: str = Field(description="Why it was revoked (shown on the verification page).")
