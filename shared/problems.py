"""Errors that business rules raise; the web layer turns them into HTTP answers.

A rule says *which* rule refused by raising a named subclass of `Problem` (`TicketClosed`,
`UnknownScheme`, ...), defined where its domain lives; it knows nothing of HTTP. The one table
in `shared.problem_map` gives each class its status code, error code and Indonesian message.

`DomainError(message, status=...)` is the older shape, which carries its HTTP status itself;
it keeps working while the services move to named problems.
"""

from __future__ import annotations

from typing import Any


class Problem(Exception):
    """A business rule refused; the facts (keyword arguments) fill the table's message.

    `field` names the input the refusal concerns when it depends on the call (the table holds
    the usual one).
    """

    def __init__(self, *, field: str | None = None, **facts: Any) -> None:
        super().__init__(type(self).__name__, facts)
        self.field = field
        self.facts = facts


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
