"""Runs every benchmark of the package (or those named on the command line), prints a table each.

Usage: `python -m benchmarks [name ...]`. The whole run stops with an error after
MENJAMU_BENCH_TIMEOUT_S seconds (3600 by default); should clean-up then hang, the process dumps
its stacks and exits 30 s later.
"""

from __future__ import annotations

import asyncio
import faulthandler
import importlib
import pkgutil
import sys
import time
from collections.abc import Awaitable, Callable, Sequence
from types import ModuleType
from typing import cast

import benchmarks
from benchmarks._common import Result, env_float, markdown_table

GRACE_S = 30.0
RunFn = Callable[[], Awaitable[list[Result]]]


def discover(names: Sequence[str] = ()) -> list[ModuleType]:
    """Imports the benchmark modules: every public module of the package, or the named ones."""
    available = sorted(
        m.name for m in pkgutil.iter_modules(benchmarks.__path__) if not m.name.startswith("_")
    )
    unknown = sorted(set(names) - set(available))
    if unknown:
        raise SystemExit(
            f"unknown benchmark(s): {', '.join(unknown)}; available: {', '.join(available)}"
        )
    return [importlib.import_module(f"benchmarks.{name}") for name in names or available]


async def run_all(modules: Sequence[ModuleType]) -> None:
    """Runs the benchmarks one after the other and prints each one's table as it finishes."""
    for module in modules:
        run = cast(RunFn, module.run)
        print(f"running {module.__name__} ...", file=sys.stderr, flush=True)
        started = time.perf_counter()
        results = await run()
        print(
            f"\n## {module.__name__.rsplit('.', 1)[-1]} ({time.perf_counter() - started:.0f} s)\n",
            flush=True,
        )
        print(markdown_table(results), flush=True)
        if note := getattr(module, "NOTE", ""):
            print(f"\n{note}", flush=True)


async def bounded(modules: Sequence[ModuleType], limit_s: float) -> None:
    """Runs the benchmarks, cancelled (their clean-up still runs) once limit_s has passed."""
    async with asyncio.timeout(limit_s):
        await run_all(modules)


def main(argv: Sequence[str]) -> int:
    """Entry point; returns the process exit status."""
    limit_s = env_float("MENJAMU_BENCH_TIMEOUT_S", 3600.0)
    modules = discover(argv)
    # Backstop should a cancelled benchmark hang in its clean-up: dump stacks and exit(1).
    faulthandler.dump_traceback_later(limit_s + GRACE_S, exit=True)
    try:
        asyncio.run(bounded(modules, limit_s))
    except TimeoutError:
        print(
            f"error: benchmarks did not finish within {limit_s:.0f} s (MENJAMU_BENCH_TIMEOUT_S)",
            file=sys.stderr,
        )
        return 1
    finally:
        faulthandler.cancel_dump_traceback_later()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
