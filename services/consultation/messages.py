"""Pure text rules: invitation wording in Bahasa Indonesia, group rules, invite links."""

from __future__ import annotations

import re
from collections.abc import Iterable

_INVITE_LINK_RE = re.compile(r"^https://chat\.whatsapp\.com/\S+$")

# Short Indonesian lines for the rules the mentors announce; tenant files are written in
# English, so each rule is recognised by its keywords (first match wins, duplicates merge).
_RULE_LINES: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"\bsara\b|\bhoa(x|ks)|\bporn", re.I), "Dilarang SARA, hoaks dan pornografi"),
    (re.compile(r"\b24\s*(hours?|jam)\b", re.I), "Konsultasi dibuka 24 jam"),
    (
        re.compile(r"adminduk|population|complaint|keluhan", re.I),
        "Grup hanya untuk konsultasi Adminduk",
    ),
)


def first_name(name: str) -> str:
    """Returns the first word of a participant's name ('' when empty)."""
    parts = name.split()
    return parts[0] if parts else ""


def rule_lines(rules: Iterable[str]) -> list[str]:
    """Turns the tenant's consultation rules into short Indonesian lines, in order, no repeats.

    A rule with no known keyword is kept as written (a tenant may already write Indonesian).
    """
    lines: list[str] = []
    for rule in rules:
        text = rule.strip()
        if not text:
            continue
        line = next(
            (short for pattern, short in _RULE_LINES if pattern.search(text)), text.rstrip(".")
        )
        if line not in lines:
            lines.append(line)
    return lines


def invitation_body(
    *, name: str, activity_title: str, link: str, rules: Iterable[str], tenant_name: str
) -> str:
    """Composes the WhatsApp invitation a participant receives."""
    greeting = f"Halo {first_name(name)}," if first_name(name) else "Halo,"
    lines = [
        greeting,
        "",
        f'Terima kasih sudah mendaftar di kegiatan "{activity_title}".',
        "Silakan bergabung dengan grup WhatsApp konsultasi Adminduk bersama para mentor "
        "melalui tautan berikut:",
        link,
    ]
    short_rules = rule_lines(rules)
    if short_rules:
        lines += ["", "Aturan grup:", *(f"- {rule}" for rule in short_rules)]
    if tenant_name:
        lines += ["", f"Salam, {tenant_name}"]
    return "\n".join(lines)


def is_invite_link(link: str) -> bool:
    """Tells whether a text is a WhatsApp group invite link (https://chat.whatsapp.com/...)."""
    return bool(_INVITE_LINK_RE.match(link))


# Link-preview fetchers (WhatsApp builds a preview of a link in a message) are not clicks.
_PREVIEW_AGENT_RE = re.compile(r"^WhatsApp/|facebookexternalhit|facebookcatalog", re.I)


def is_link_preview(user_agent: str) -> bool:
    """Tells whether a request comes from a link-preview fetcher rather than a person."""
    return bool(_PREVIEW_AGENT_RE.search(user_agent))


def backoff_s(attempts: int, *, base_s: float, max_s: float) -> float:
    """Seconds to wait before the next try after `attempts` failed tries (doubling, capped)."""
    return float(min(max_s, base_s * 2 ** max(attempts - 1, 0)))
