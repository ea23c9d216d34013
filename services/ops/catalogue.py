"""`menjamu asyncapi`: the event catalogue (AsyncAPI 3.0) of every service, from the code."""

from __future__ import annotations

import argparse
import importlib
import json
import sys
import tempfile
from pathlib import Path
from typing import Any

import yaml

from services.registry import SERVICES, entry
from shared.catalogue import ServiceEvents, build_catalogue, published_events


def service_events(name: str) -> ServiceEvents:
    """One service's reactions (as its app wires them) and the events its source publishes."""
    module = importlib.import_module(entry(name).app_module)
    with tempfile.TemporaryDirectory(prefix="menjamu-catalogue-") as scratch:
        # Building the app touches no server; its data folder is a scratch one, left clean.
        app = module.create_app(entry(name).settings(data_dir=Path(scratch)))
    package = Path(module.__file__ or "").parent
    return ServiceEvents(name, tuple(app.state.reactions), published_events(package))


def catalogue(names: tuple[str, ...] = SERVICES) -> dict[str, Any]:
    """The AsyncAPI document of the given services (all by default)."""
    return build_catalogue([service_events(name) for name in names])


def add_parser(sub: Any) -> None:
    """Adds `asyncapi` to the `menjamu` command."""
    parser = sub.add_parser(
        "asyncapi",
        help="print the event catalogue (AsyncAPI 3.0: streams, payloads, producers, groups)",
    )
    parser.add_argument("--yaml", action="store_true", help="YAML instead of JSON")
    parser.add_argument("--output", type=Path, help="write to this file instead of stdout")


def run(args: argparse.Namespace) -> int:
    """Writes the catalogue to stdout or to --output."""
    document = catalogue()
    if args.yaml:
        text = yaml.safe_dump(document, sort_keys=False, allow_unicode=True)
    else:
        text = json.dumps(document, indent=2, ensure_ascii=False) + "\n"
    if args.output:
        args.output.write_text(text, encoding="utf-8")
        print(f"wrote {args.output}", file=sys.stderr)
    else:
        sys.stdout.write(text)
    return 0
