"""A tenant's consultation configuration, read once from its tenant file."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from services.consultation import answers, messages
from services.consultation.moderation import WordLists
from shared.tenants import Tenant


@dataclass(frozen=True)
class Template:
    """An approved WhatsApp message template (name and language)."""

    name: str
    language: str = "id"


@dataclass(frozen=True)
class TenantConfig:
    """What consultation needs of one kecamatan: texts, templates, word lists, catalogue."""

    tenant: Tenant
    templates: dict[str, Template]
    word_lists: WordLists
    catalogue: tuple[answers.Requirement, ...]
    rule_lines: tuple[str, ...]

    @property
    def code(self) -> str:
        """The tenant code."""
        return self.tenant.code

    @property
    def raw(self) -> dict[str, Any]:
        """The tenant file as read."""
        return self.tenant.raw


def tenant_config(tenant: Tenant) -> TenantConfig:
    """Builds a tenant's consultation configuration from its file."""
    section = tenant.raw.get("consultation") or {}
    templates = {}
    for kind, spec in (section.get("templates") or {}).items():
        if isinstance(spec, dict) and spec.get("name"):
            templates[str(kind)] = Template(str(spec["name"]), str(spec.get("language", "id")))
    return TenantConfig(
        tenant=tenant,
        templates=templates,
        word_lists=WordLists.from_config(section.get("moderation")),
        catalogue=tuple(answers.requirements(tenant.raw)),
        rule_lines=tuple(messages.rule_lines(tenant.consultation_rules)),
    )


def configs(tenants: dict[str, Tenant]) -> dict[str, TenantConfig]:
    """Builds every tenant's consultation configuration."""
    return {code: tenant_config(t) for code, t in tenants.items()}
