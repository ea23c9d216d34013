"""Tenants (kecamatan) come from YAML files, one per kecamatan, in the tenants folder.

A tenant file is checked before a service uses it (`menjamu tenant check` runs the same
check): a service refuses to start on an invalid file, with the same messages.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from shared.logging import get_logger
from shared.problems import Problem
from shared.tenant_check import TenantFileError, check_tenant_text, read_tenant_yaml

__all__ = [
    "Tenant",
    "TenantFileError",
    "TenantNotServed",
    "TenantUnavailable",
    "Tenants",
    "UnknownOperatorTenant",
    "load_tenant_file",
    "load_tenants",
    "tenant_from_data",
]
log = get_logger(__name__)


class WhatsAppGroupSeed(BaseModel):
    """A mentors' WhatsApp group known at deployment (the mentor created it on a phone)."""

    name: str
    invite_link: str


class Desa(BaseModel):
    """A desa or kelurahan of the kecamatan, with its Kemendagri code."""

    code: str = ""
    name: str
    kind: str = "desa"


class Tenant(BaseModel):
    """One kecamatan's facts: names, signer of the certificate, contacts, levels, desa."""

    model_config = ConfigDict(extra="ignore")

    code: str
    kemendagri_code: str = ""
    name: str
    kabupaten: str = ""
    provinsi: str = ""
    programme: str = ""
    camat: str = ""
    camat_title: str = "Camat"
    address: str = ""
    call_center: str = ""
    timezone: str = "Asia/Jakarta"
    participant_levels: list[str] = Field(default_factory=list)
    desa: list[str] = Field(default_factory=list, description="Names of desa/kelurahan.")
    desa_list: list[Desa] = Field(default_factory=list, description="With Kemendagri codes.")
    consultation_rules: list[str] = Field(default_factory=list)
    survey_units: dict[str, str] = Field(default_factory=dict)
    whatsapp_groups: list[WhatsAppGroupSeed] = Field(default_factory=list)
    raw: dict[str, Any] = Field(default_factory=dict, exclude=True)


def tenant_from_data(data: dict[str, Any]) -> Tenant:
    """Builds a Tenant from a parsed file: `tenant:` facts plus the top-level lists."""
    facts = dict(data.get("tenant") or {})
    facts.setdefault("participant_levels", data.get("participant_levels") or [])
    facts.setdefault("consultation_rules", data.get("consultation_rules") or [])
    for key in ("survey_units", "whatsapp_groups"):
        if key in data:
            facts.setdefault(key, data[key])
    # desa: plain names or {code, name, kind} entries; `desa` keeps the names either way.
    entries = [Desa(name=e) if isinstance(e, str) else Desa(**e) for e in data.get("desa") or []]
    facts.setdefault("desa_list", entries)
    facts.setdefault("desa", [e.name for e in entries])
    return Tenant(**facts, raw=data)


def load_tenant_file(path: Path) -> Tenant:
    """Reads and checks one tenant file; raises TenantFileError listing every problem."""
    text = path.read_text(encoding="utf-8")
    problems = check_tenant_text(text)
    if problems:
        raise TenantFileError(path, problems)
    return tenant_from_data(read_tenant_yaml(text))


class TenantUnavailable(Problem):
    """Data refers to a kecamatan whose tenant file is not loaded (removed or renamed)."""

    def __init__(self, code: str) -> None:
        super().__init__()
        self.tenant = code


class TenantNotServed(Problem):
    """A public request named a kecamatan the deployment does not serve (fact: tenant)."""


class UnknownOperatorTenant(Problem):
    """An operator asked to act for a kecamatan the deployment does not serve (fact: tenant)."""


class Tenants(dict[str, Tenant]):
    """Tenants by code; a missing one is a clear 503 and an operator-facing log line."""

    def __init__(self, directory: Path) -> None:
        super().__init__()
        self.directory = directory

    def __missing__(self, code: str) -> Tenant:
        log.error(
            "tenant.file_missing",
            tenant=code,
            tenants_dir=str(self.directory),
            hint="restore the kecamatan's YAML file in MENJAMU_TENANTS_DIR and restart",
        )
        raise TenantUnavailable(code)


@lru_cache(maxsize=8)
def load_tenants(directory: Path) -> Tenants:
    """Loads every *.yaml tenant file of a folder, by tenant code."""
    tenants = Tenants(directory)
    paths: dict[str, Path] = {}
    for path in sorted(directory.glob("*.yaml")):
        tenant = load_tenant_file(path)
        if tenant.code in paths:
            raise TenantFileError(
                path,
                [f"tenant.code: kode '{tenant.code}' sudah dipakai oleh {paths[tenant.code]}."],
            )
        tenants[tenant.code] = tenant
        paths[tenant.code] = path
    if not tenants:
        raise RuntimeError(f"no tenant file (*.yaml) in {directory}")
    return tenants
