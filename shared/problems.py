"""Errors that business rules raise; the web layer turns them into HTTP answers."""

from __future__ import annotations


class DomainError(Exception):
    """A business rule refused the request; message is for people (Bahasa Indonesia)."""

    def __init__(
        self, message: str, *, status: int = 400, field: str | None = None, code: str = "ditolak"
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.field = field
        self.code = code


class NotFound(DomainError):
    """The thing asked for does not exist (or is not the caller's tenant's)."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message, status=404, field=field, code="tidak_ditemukan")
