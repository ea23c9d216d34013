"""Benchmarks, run apart from the tests by `make bench`; each prints throughput and ratios.

Every module here whose name does not start with `_` is a benchmark: it defines
`async def run() -> list[Result]` (see benchmarks._common) and `python -m benchmarks` runs them all.
"""
