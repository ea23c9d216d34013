"""Bearer tokens for non-public endpoints: role-scoped (admin, operator, mentor), per tenant.

The bootstrap admin token (MENJAMU_ADMIN_TOKEN) is accepted as is, for every tenant. Other
tokens are signed (HMAC-SHA256 with a key derived from the admin token), so every service
verifies them without a shared database; rotating the admin token revokes them all.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import time
from dataclasses import dataclass
from typing import Any, Literal

from shared.logging import get_logger

Role = Literal["admin", "operator", "mentor"]
ROLES: tuple[Role, ...] = ("admin", "operator", "mentor")
ALL_TENANTS = "*"
_PREFIX = "mj1"
_MAX_LEN = 4096
log = get_logger(__name__)


class AuthError(Exception):
    """A token is missing, malformed, expired or lacks the needed role or tenant."""

    def __init__(self, message: str, *, status: int = 401) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


@dataclass(frozen=True)
class Principal:
    """Who is calling: role, tenant ('*' = every tenant) and a subject for the audit log."""

    role: Role
    tenant: str
    subject: str
    expires: float | None = None  # epoch seconds; None = never (the bootstrap admin)

    def can_act_for(self, tenant: str) -> bool:
        """Tells whether this principal may act for the given tenant."""
        return self.tenant in (ALL_TENANTS, tenant)


def _key(admin_token: str) -> bytes:
    return hashlib.sha256(b"menjamu-token-signing:" + admin_token.encode()).digest()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def issue_token(
    admin_token: str,
    *,
    role: Role,
    tenant: str,
    subject: str,
    ttl_days: int | None = 365,
    not_after: float | None = None,
) -> str:
    """Signs a token for a role on a tenant; it expires after ttl_days (None = never), and
    never after not_after (the issuer's own expiry: no token outlives its issuer's)."""
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}")
    payload = {
        "r": role,
        "t": tenant,
        "s": subject,
        "e": _expiry(ttl_days, not_after),
    }
    body = _b64(json.dumps(payload, separators=(",", ":")).encode())
    signature = _b64(hmac.new(_key(admin_token), body.encode(), hashlib.sha256).digest())
    return f"{_PREFIX}.{body}.{signature}"


def _expiry(ttl_days: int | None, not_after: float | None) -> int | None:
    expires = time.time() + ttl_days * 86400 if ttl_days else None
    if not_after is not None:
        expires = min(expires, not_after) if expires is not None else not_after
    return int(expires) if expires is not None else None


def verify_token(admin_token: str | None, token: str) -> Principal:
    """Returns the principal of a valid token, else raises AuthError (never anything else)."""
    if not admin_token:
        raise AuthError("Server belum dikonfigurasi: MENJAMU_ADMIN_TOKEN belum diatur.", status=503)
    # Compare bytes: compare_digest raises on non-ASCII str, and a token is untrusted input.
    raw = token.encode("utf-8", "surrogatepass")
    if hmac.compare_digest(raw, admin_token.encode()):
        return Principal(role="admin", tenant=ALL_TENANTS, subject="bootstrap-admin")
    parts = token.split(".")
    if len(parts) != 3 or parts[0] != _PREFIX or not token.isascii() or len(token) > _MAX_LEN:
        raise AuthError("Token tidak valid.")
    expected = _b64(hmac.new(_key(admin_token), parts[1].encode(), hashlib.sha256).digest())
    if not hmac.compare_digest(expected.encode(), parts[2].encode()):
        raise AuthError("Token tidak valid.")
    payload = _payload(parts[1])
    expires = payload.get("e")
    if expires is not None and (not isinstance(expires, int | float) or expires < time.time()):
        raise AuthError("Token sudah kedaluwarsa. Minta token baru kepada admin.")
    return Principal(role=payload["r"], tenant=payload["t"], subject=payload["s"], expires=expires)


def _payload(body: str) -> dict[str, Any]:
    """Decodes a signed token's payload; a malformed one (only we sign) is still a 401."""
    try:
        payload = json.loads(_unb64(body))
    except (ValueError, binascii.Error):
        raise AuthError("Token tidak valid.") from None
    if (
        not isinstance(payload, dict)
        or payload.get("r") not in ROLES
        or not isinstance(payload.get("t"), str)
        or not isinstance(payload.get("s"), str)
    ):
        raise AuthError("Token tidak valid.")
    return payload


def can_issue(principal: Principal, role: Role, tenant: str, ttl_days: int | None = None) -> None:
    """Raises AuthError (403) unless the principal may issue this token: never a wider one
    (another or every kecamatan, or a longer life than the issuer's own)."""
    if principal.role != "admin":
        raise AuthError("Hanya admin yang dapat menerbitkan token.", status=403)
    if tenant == ALL_TENANTS and principal.tenant != ALL_TENANTS:
        raise AuthError("Anda tidak dapat menerbitkan token untuk semua kecamatan.", status=403)
    if not principal.can_act_for(tenant):
        raise AuthError(f"Anda tidak berwenang untuk kecamatan '{tenant}'.", status=403)
    if role not in ROLES:
        raise AuthError("Peran token tidak dikenal.", status=403)


def token_id(token: str) -> str:
    """A short fingerprint that names a token in logs without revealing it."""
    return hashlib.sha256(token.encode()).hexdigest()[:12]


def audit_token_issued(principal: Principal, token: str, **issued: Any) -> None:
    """Logs who issued which token for whom (role, tenant, subject), never the token itself."""
    log.info(
        "auth.token_issued",
        by=principal.subject,
        by_role=principal.role,
        by_tenant=principal.tenant,
        token_id=token_id(token),
        **issued,
    )


def authorize(principal: Principal, roles: tuple[Role, ...], tenant: str | None = None) -> None:
    """Raises AuthError (403) unless the principal has one of the roles (admin always does)."""
    if principal.role != "admin" and principal.role not in roles:
        raise AuthError("Anda tidak berwenang untuk tindakan ini.", status=403)
    if tenant is not None and not principal.can_act_for(tenant):
        raise AuthError(f"Anda tidak berwenang untuk kecamatan '{tenant}'.", status=403)
