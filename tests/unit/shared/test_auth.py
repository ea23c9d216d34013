"""Role tokens: who may call what, for which kecamatan."""

from __future__ import annotations

import pytest

from shared.auth import AuthError, authorize, issue_token, verify_token

ADMIN = "bootstrap-secret"


def test_admin_token_acts_for_every_tenant() -> None:
    principal = verify_token(ADMIN, ADMIN)
    authorize(principal, ("operator",), "any-kecamatan")


def test_operator_token_works_for_its_own_tenant_only() -> None:
    principal = verify_token(
        ADMIN, issue_token(ADMIN, role="operator", tenant="mojosari", subject="op1")
    )
    authorize(principal, ("operator",), "mojosari")
    with pytest.raises(AuthError) as refused:
        authorize(principal, ("operator",), "bangsal")
    assert refused.value.status == 403


def test_mentor_cannot_use_operator_endpoints() -> None:
    principal = verify_token(
        ADMIN, issue_token(ADMIN, role="mentor", tenant="mojosari", subject="m1")
    )
    with pytest.raises(AuthError):
        authorize(principal, ("operator",), "mojosari")


def test_tampered_expired_and_foreign_tokens_are_refused() -> None:
    token = issue_token(ADMIN, role="operator", tenant="mojosari", subject="op1")
    head, body, sig = token.split(".")
    forged = issue_token("other-secret", role="admin", tenant="*", subject="x")
    for bad in (f"{head}.{body}.{sig[:-2]}AA", forged, "garbage"):
        with pytest.raises(AuthError):
            verify_token(ADMIN, bad)
    expired = issue_token(ADMIN, role="operator", tenant="mojosari", subject="o", ttl_days=-1)
    with pytest.raises(AuthError, match="kedaluwarsa"):
        verify_token(ADMIN, expired)


def test_rotating_the_admin_token_revokes_issued_tokens() -> None:
    token = issue_token(ADMIN, role="operator", tenant="mojosari", subject="op1")
    with pytest.raises(AuthError):
        verify_token("rotated-secret", token)
