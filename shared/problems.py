"""Errors that business rules raise; the web layer turns them into HTTP answers.

A rule says *which* rule refused by raising a named subclass of `Problem` (`TicketClosed`,
`UnknownScheme`, ...), defined where its domain lives; it knows nothing of HTTP. The one table
in `shared.problem_map` gives each class its status code, error code and Indonesian message.
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
