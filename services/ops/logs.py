"""`menjamu logs`: the services' JSON log files as readable, coloured, filtered lines."""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, TextIO

LEVELS = ("debug", "info", "warning", "error", "critical")
LEVEL_COLOURS = {"debug": "2", "info": "32", "warning": "33", "error": "31", "critical": "41"}
SERVICE_COLOURS = {
    "registration": "36", "certificates": "35", "consultation": "33", "survey": "32",
    "dashboard": "34",
}  # fmt: skip
FIXED = ("timestamp", "level", "service", "event", "logger")


def add_parser(sub: Any) -> None:
    """Adds `logs` to the `menjamu` command."""
    parser = sub.add_parser("logs", help="read the services' log files (data/logs) as lines")
    parser.add_argument("--service", action="append", help="only this service (repeatable)")
    parser.add_argument("--level", choices=LEVELS, help="this level and above")
    parser.add_argument("--correlation", help="only lines of this correlation id")
    parser.add_argument("--follow", "-f", action="store_true", help="keep printing new lines")
    parser.add_argument(
        "--dir", type=Path, help="log folder (default: MENJAMU_LOG_DIR or data/logs)"
    )
    parser.add_argument("--color", choices=("auto", "always", "never"), default="auto")


def run(args: argparse.Namespace) -> int:
    """Prints the matching lines of every service's log, oldest first; follows when asked."""
    from shared.settings import ServiceSettings

    settings = ServiceSettings()
    folder: Path = args.dir or settings.log_dir or settings.data_dir / "logs"
    if not folder.is_dir():
        print(f"no log folder {folder}: start the services with `menjamu run`", file=sys.stderr)
        return 1
    colour = args.color == "always" or (args.color == "auto" and sys.stdout.isatty())
    wanted = Filter(args.service, args.level, args.correlation)
    files = _files(folder, args.service, rotated=True)
    lines = [rec for path in files for rec in _records(path.read_text(errors="replace"))]
    for record in sorted(lines, key=lambda r: str(r.get("timestamp", ""))):
        if wanted.match(record):
            print(format_record(record, colour=colour), flush=True)
    if args.follow:
        _follow(folder, args.service, wanted, colour, sys.stdout)
    return 0


class Filter:
    """Which records to show: services, minimum level, correlation id."""

    def __init__(self, services: list[str] | None, level: str | None, correlation: str | None):
        self.services = set(services or ())
        self.min_level = LEVELS.index(level) if level else 0
        self.correlation = correlation

    def match(self, record: dict[str, Any]) -> bool:
        """Tells whether a record passes the filter."""
        if self.services and record.get("service") not in self.services:
            return False
        level = str(record.get("level", "info")).lower()
        if level in LEVELS and LEVELS.index(level) < self.min_level:
            return False
        return not self.correlation or record.get("correlation_id") == self.correlation


def _files(folder: Path, services: list[str] | None, *, rotated: bool = False) -> list[Path]:
    """The services' log files; with `rotated`, their rotated copies (<service>.log.N) too."""
    names = sorted(folder.glob("*.log")) + (sorted(folder.glob("*.log.*")) if rotated else [])
    return [p for p in names if not services or p.name.split(".log")[0] in services]


def _records(text: str) -> Iterator[dict[str, Any]]:
    for line in text.splitlines():
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if isinstance(record, dict):
            yield record


def _paint(text: str, code: str, colour: bool) -> str:
    return f"\033[{code}m{text}\033[0m" if colour else text


def format_record(record: dict[str, Any], *, colour: bool = False) -> str:
    """One readable line: time, service, level, event key, then key=value pairs."""
    level = str(record.get("level", "info")).lower()
    service = str(record.get("service", "?"))
    stamp = str(record.get("timestamp", ""))[11:23]
    rest = " ".join(f"{k}={_value(v)}" for k, v in record.items() if k not in FIXED)
    return " ".join(
        part
        for part in (
            _paint(stamp, "2", colour),
            _paint(f"{service:<12}", SERVICE_COLOURS.get(service, "0"), colour),
            _paint(f"{level:<8}", LEVEL_COLOURS.get(level, "0"), colour),
            _paint(str(record.get("event", "")), "1", colour),
            rest,
        )
        if part
    )


def _value(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, default=str)
    return json.dumps(text) if " " in text else text


def _follow(
    folder: Path, services: list[str] | None, wanted: Filter, colour: bool, out: TextIO
) -> None:
    """Prints lines appended to the log files (a rotated file is reopened from its start)."""
    offsets = {p: p.stat().st_size for p in _files(folder, services)}
    try:
        while True:
            for path in _files(folder, services):
                size = path.stat().st_size
                start = offsets.get(path, 0)
                if size < start:  # rotated
                    start = 0
                if size > start:
                    with path.open("rb") as handle:
                        handle.seek(start)
                        chunk = handle.read(size - start)
                    complete = chunk.rfind(b"\n") + 1
                    offsets[path] = start + complete
                    for record in _records(chunk[:complete].decode(errors="replace")):
                        if wanted.match(record):
                            print(format_record(record, colour=colour), file=out, flush=True)
                else:
                    offsets[path] = size
            time.sleep(0.3)
    except KeyboardInterrupt:
        return
