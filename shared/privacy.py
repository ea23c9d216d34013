"""Masking of personal data before it reaches a log line."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

# Indonesian mobile numbers in any common spelling: +62 812..., 62812..., 0812...
_PHONE_RE = re.compile(r"(?<!\d)(?:\+?62|0)[\s-]?8[\d\s-]{7,14}\d(?!\d)")
_PHONE_KEYS = frozenset({"phone", "phone_number", "to", "from_", "wa_id", "nomor_hp", "recipient"})
# Secrets that travel in URLs (a participant's confirmation link: 43 URL-safe characters) must
# not land in a log line, where reading it would open the participant's registration.
_SECRET_RE = re.compile(r"(?<![A-Za-z0-9_-])[A-Za-z0-9_-]{40,}")
_NAME_KEYS = frozenset({"name", "nama", "participant_name", "respondent_name"})
_SECRET_KEYS = frozenset(
    {"token", "admin_token", "authorization", "password", "secret", "api_key", "cookie"}
)
# Text that may quote a request's data inside an error message or a traceback: pydantic's
# `input_value=...`, SQLAlchemy's `[parameters: ...]`, bearer tokens, URL passwords.
# Each pattern with a substring it cannot match without (checked first: most log values hold
# none of them, and a substring test costs a fraction of a regex scan); the bearer pattern is
# tested on the lower-cased text.
_TEXT_PATTERNS = (
    (
        "input_value=",
        re.compile(r"input_value=(?:'[^']*'|\"[^\"]*\"|\{.*?\}|\[.*?\]|\S+)"),
        "input_value=***",
    ),
    (
        "[parameters: ",
        re.compile(r"\[parameters: .*?\](?=\s*$|\s*\n|\s*\()", re.S | re.M),
        "[parameters: ***]",
    ),
    ("bearer", re.compile(r"(?i)\bbearer\s+\S+"), "Bearer ***"),
    ("://", re.compile(r"(?<=://)([^:/@\s]*):[^@/\s]+@"), r"\1:***@"),
)
_SECRET_MIN = 40  # _SECRET_RE's shortest match
_PHONE_MIN = 10  # _PHONE_RE's shortest match: 0, 8, seven more, one digit


def mask_phone(value: str) -> str:
    """Masks a phone number, keeping the country prefix and the last two digits."""
    digits = re.sub(r"\D", "", value)
    if len(digits) < 6:
        return "***"
    return f"{'+' if value.strip().startswith('+') else ''}{digits[:4]}****{digits[-2:]}"


def mask_name(value: str) -> str:
    """Masks a person's name to its first letter."""
    return f"{value[:1]}***" if value else value


def mask_text(text: str) -> str:
    """Masks phone numbers, long URL-safe secrets, quoted input, SQL parameters, credentials."""
    lowered = text.lower()
    for needle, pattern, replacement in _TEXT_PATTERNS:
        if needle in lowered:
            text = pattern.sub(replacement, text)
    if len(text) >= _SECRET_MIN:
        text = _SECRET_RE.sub(lambda m: m.group(0)[:4] + "***", text)
    if len(text) < _PHONE_MIN or "8" not in text:
        return text
    return _PHONE_RE.sub(lambda m: mask_phone(m.group(0)), text)


def mask_value(key: str, value: Any) -> Any:
    """Masks one log field by its key (phones, names) or its content (phones in text)."""
    if key.lower() in _SECRET_KEYS and value:
        return "***"
    if isinstance(value, str):
        if key in _PHONE_KEYS:
            return mask_phone(value)
        if key in _NAME_KEYS:
            return mask_name(value)
        return mask_text(value)
    if isinstance(value, Mapping):
        return {k: mask_value(str(k), v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [mask_value(key, v) for v in value]
    return value


def mask_event_dict(_logger: Any, _method: str, event_dict: dict[str, Any]) -> dict[str, Any]:
    """structlog processor: no personal data in clear in any log line."""
    return {k: mask_value(k, v) for k, v in event_dict.items()}
