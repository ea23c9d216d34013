"""Checks a kecamatan's tenant file and says exactly what is wrong (Bahasa Indonesia).

Used by `menjamu tenant check` and by every service at start-up (same messages). Sections
this module does not know are allowed: other features add their own.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

import yaml

from shared.phone import normalize_phone

# The Adminduk procedures a requirement may belong to; a file may add more under `topics:`.
ADMINDUK_TOPICS = ("KK", "KTP", "KIA", "Akta Kelahiran", "Akta Kematian", "Pindah")
CODE_RE = re.compile(r"^[a-z][a-z0-9-]{1,39}$")
INVITE_RE = re.compile(r"^https://chat\.whatsapp\.com/\S+$")
# libyaml's loader where PyYAML has it: a province loads hundreds of tenant files at start-up.
SAFE_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class TenantFileError(ValueError):
    """A tenant file that the services cannot use; the message lists every problem."""

    def __init__(self, path: Path | str, problems: list[str]) -> None:
        self.path = str(path)
        self.problems = problems
        lines = "\n".join(f"  - {p}" for p in problems)
        super().__init__(f"Berkas kecamatan {path} tidak valid:\n{lines}")


def read_tenant_yaml(text: str) -> dict[str, Any]:
    """Parses a tenant file once; duplicate keys (which YAML silently overwrites) are an error."""
    loader = SAFE_LOADER(text)
    try:
        node = loader.get_single_node()
        duplicates = _duplicate_keys(node, "") if node is not None else []
        if duplicates:
            raise DuplicateKeys(duplicates)
        data = loader.construct_document(node) if node is not None else {}
    finally:
        loader.dispose()
    if not isinstance(data, dict):
        raise DuplicateKeys(["isi berkas harus berupa pemetaan (kunci: nilai), bukan daftar."])
    return data


class DuplicateKeys(yaml.YAMLError):
    """Keys that occur twice in one mapping of a tenant file."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


def _duplicate_keys(node: yaml.Node, path: str) -> list[str]:
    problems: list[str] = []
    if isinstance(node, yaml.MappingNode):
        seen: dict[str, int] = {}
        for key_node, value_node in node.value:
            key = str(key_node.value)
            line = key_node.start_mark.line + 1
            if key in seen:
                problems.append(_duplicate_message(path, key, seen[key], line))
            seen.setdefault(key, line)
            problems += _duplicate_keys(value_node, f"{path}.{key}" if path else key)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            problems += _duplicate_keys(item, f"{path}[{index}]")
    return problems


def _duplicate_message(path: str, key: str, first: int, again: int) -> str:
    if path == "survey_units":
        return f"survey_units: kode unit '{key}' ganda (baris {first} dan {again})."
    where = path or "berkas"
    return f"{where}: kunci '{key}' muncul dua kali (baris {first} dan {again})."


def check_tenant_text(text: str) -> list[str]:
    """Returns every problem of a tenant file's text (empty when the file is usable)."""
    try:
        data = read_tenant_yaml(text)
    except DuplicateKeys as exc:
        return exc.problems
    except yaml.YAMLError as exc:
        return [f"YAML tidak dapat dibaca: {exc}"]
    return check_tenant_data(data)


def check_tenant_data(data: dict[str, Any]) -> list[str]:
    """Returns every problem of a parsed tenant file (empty when the file is usable)."""
    facts = data.get("tenant")
    if not isinstance(facts, dict):
        return ["tenant: bagian 'tenant:' (data kecamatan) tidak ada."]
    return [
        *_check_facts(facts),
        *_check_levels(data.get("participant_levels")),
        *_check_requirements(data.get("requirements"), _known_topics(data)),
        *_check_units(data.get("survey_units")),
        *_check_desa(data.get("desa")),
        *_check_groups(data.get("whatsapp_groups")),
    ]


def _text(value: Any) -> str:
    return str(value).strip() if value is not None else ""


def _check_facts(facts: dict[str, Any]) -> list[str]:
    problems = []
    code = _text(facts.get("code"))
    if not CODE_RE.match(code):
        problems.append(
            f"tenant.code: kode '{code}' tidak valid; gunakan huruf kecil, angka dan '-' "
            "(contoh: mojosari)."
        )
    if not _text(facts.get("name")):
        problems.append("tenant.name: nama kecamatan belum diisi.")
    if not _text(facts.get("camat")):
        problems.append("tenant.camat: nama camat (penanda tangan e-sertifikat) belum diisi.")
    problems += _check_timezone(facts.get("timezone", "Asia/Jakarta"))
    for field in ("call_center",):
        phone = _text(facts.get(field))
        if phone:
            problems += _check_phone(f"tenant.{field}", phone)
    return problems


def _check_timezone(value: Any) -> list[str]:
    name = _text(value)
    valid = bool(name) and name in available_timezones()
    if valid:
        try:
            ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            valid = False
    if valid:
        return []
    return [
        f"tenant.timezone: zona waktu '{name}' tidak dikenal; gunakan nama IANA "
        "(Asia/Jakarta untuk WIB, Asia/Makassar untuk WITA, Asia/Jayapura untuk WIT)."
    ]


def _check_phone(field: str, phone: str) -> list[str]:
    try:
        normalize_phone(phone)
    except ValueError as exc:
        return [f"{field}: nomor '{phone}' tidak valid: {exc}"]
    return []


def _check_levels(levels: Any) -> list[str]:
    if not isinstance(levels, list) or not levels:
        return ["participant_levels: daftar jenjang peserta (mis. SMP, SMA) belum diisi."]
    return _duplicates("participant_levels", "jenjang", [_text(v) for v in levels])


def _known_topics(data: dict[str, Any]) -> set[str]:
    topics = set(ADMINDUK_TOPICS)
    for item in data.get("topics") or []:
        topics.add(
            _text(item.get("name") or item.get("code")) if isinstance(item, dict) else _text(item)
        )
    return topics


def _check_requirements(items: Any, topics: set[str]) -> list[str]:
    if items is None:
        return []
    if not isinstance(items, list):
        return ["requirements: harus berupa daftar persyaratan."]
    problems, ids = [], []
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            problems.append(f"requirements[{index}]: harus berisi id, topic, title, documents.")
            continue
        label = f"requirements[{index}] ({_text(item.get('id')) or 'tanpa id'})"
        ids.append(_text(item.get("id")))
        topic = _text(item.get("topic"))
        if topic not in topics:
            problems.append(
                f"{label}.topic: topik '{topic}' tidak dikenal; pilih salah satu: "
                f"{', '.join(sorted(topics))} (atau tambahkan di 'topics:')."
            )
        if not item.get("documents"):
            problems.append(f"{label}.documents: daftar dokumen belum diisi.")
    return problems + _duplicates("requirements", "id persyaratan", ids)


def _check_units(units: Any) -> list[str]:
    if units is None:
        return []
    if isinstance(units, dict):
        codes = [_text(k) for k in units]
    elif isinstance(units, list):
        codes = [_text(u.get("code")) if isinstance(u, dict) else _text(u) for u in units]
    else:
        return ["survey_units: harus berupa pemetaan kode: nama unit layanan."]
    problems = [
        f"survey_units: kode unit '{c}' tidak valid; gunakan huruf kecil, angka dan '-'."
        for c in codes
        if not CODE_RE.match(c)
    ]
    return problems + _duplicates("survey_units", "kode unit", codes)


def _check_desa(desa: Any) -> list[str]:
    if desa is None:
        return []
    if not isinstance(desa, list):
        return ["desa: harus berupa daftar desa/kelurahan."]
    codes = [_text(d.get("code")) for d in desa if isinstance(d, dict) and d.get("code")]
    names = [_text(d.get("name")) if isinstance(d, dict) else _text(d) for d in desa]
    return _duplicates("desa", "kode desa", codes) + _duplicates("desa", "nama desa", names)


def _check_groups(groups: Any) -> list[str]:
    problems = []
    for index, group in enumerate(groups or []):
        link = _text(group.get("invite_link")) if isinstance(group, dict) else ""
        if not INVITE_RE.match(link):
            problems.append(
                f"whatsapp_groups[{index}].invite_link: tautan '{link}' bukan tautan undangan "
                "grup WhatsApp (https://chat.whatsapp.com/...)."
            )
    return problems


def _duplicates(field: str, what: str, values: list[str]) -> list[str]:
    seen: set[str] = set()
    problems = []
    for value in values:
        if value in seen:
            problems.append(f"{field}: {what} '{value}' ganda.")
        seen.add(value)
    return problems
