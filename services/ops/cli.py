"""Operator commands of `menjamu`: tenant init/check, logs, trace, asyncapi (see cli.py)."""

from __future__ import annotations

import argparse
from typing import Any

from services.ops import catalogue, logs, tenant, trace


def add_commands(sub: Any) -> None:
    """Adds the operations commands to the `menjamu` parser."""
    tenant.add_parser(sub)
    logs.add_parser(sub)
    trace.add_parser(sub)
    catalogue.add_parser(sub)


def run(args: argparse.Namespace) -> int | None:
    """Runs an operations command; None when the command is not one of them."""
    handlers = {
        "tenant": tenant.run,
        "logs": logs.run,
        "trace": trace.run,
        "asyncapi": catalogue.run,
    }
    handler = handlers.get(args.command)
    return handler(args) if handler else None
