# Menjamu task runner. `make run` runs the whole system on the embedded default,
# `make test` runs the checks and the tests, `make bench` the benchmarks.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: run test lint unit bench bench-scale migrate clean system-check

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11+ is required")'
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	@touch $(STAMP)

system-check:
	@$(PYTHON) -c 'import ctypes.util as u, sys; missing=[l for l in ("pango-1.0","harfbuzz-subset") if not u.find_library(l)]; print("WARNING: missing system libraries:", ", ".join(missing), "- see README (apt-get install libpango-1.0-0 libharfbuzz-subset0)") if missing else None'

run: $(STAMP) system-check
	$(BIN)/menjamu run

migrate: $(STAMP)
	$(BIN)/menjamu migrate

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy shared services
	$(BIN)/lint-imports

test: $(STAMP) system-check lint
	$(BIN)/pytest

unit: $(STAMP)
	$(BIN)/pytest tests/unit

# The survey benchmarks (100,000 responses, a year of 1,000,000) take several minutes.
bench: $(STAMP)
	MENJAMU_BENCH_TIMEOUT_S=$${MENJAMU_BENCH_TIMEOUT_S:-1800} $(BIN)/python -m benchmarks

# Province-day simulation (README "Deployment and scale"): SIGNUPS=100000 by default; on a
# small or shared machine run e.g. `make bench-scale SIGNUPS=1000`.
SIGNUPS ?= 100000
bench-scale: $(STAMP)
	$(BIN)/python -m benchmarks._province_day --signups $(SIGNUPS)

clean:
	rm -rf $(VENV) data
