"""Writes a pip constraints file that pins every direct dependency to its declared lower bound.

`make lowest` installs the project with it into .venv-lowest and runs the unit tests, so a
lower bound the code outgrew fails there (pip has no `--resolution lowest-direct` of its own).
"""

from __future__ import annotations

import re
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def lower_bounds() -> list[str]:
    """`name==lower` for every direct dependency (extras dropped) that declares a lower bound."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    specs = list(project["dependencies"]) + list(project["optional-dependencies"]["dev"])
    pins = []
    for spec in specs:
        match = re.match(r"^([A-Za-z0-9_.-]+)(\[[^\]]*\])?\s*(.*)$", spec)
        if not match:
            continue
        name, _extras, rest = match.groups()
        bound = re.search(r">=\s*([0-9][^,;\s]*)", rest)
        if bound:
            pins.append(f"{name}=={bound.group(1)}")
    return pins


if __name__ == "__main__":
    sys.stdout.write("\n".join(lower_bounds()) + "\n")
