# Menjamu task runner. `make run` runs the whole system on the embedded default,
# `make test` runs the checks and the tests, `make bench` the benchmarks.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: run test test-fault test-all lint unit bench bench-scale fuzz migrate clean system-check lowest

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

# The default run: everything but the fault tier (kill -9, Redis outages and failovers, which
# take minutes); `make test-fault` runs that tier, `make test-all` both. CI runs both.
test: $(STAMP) system-check lint
	$(BIN)/pytest -m "not fault"

test-fault: $(STAMP) system-check
	$(BIN)/pytest -m fault

test-all: test test-fault

unit: $(STAMP)
	$(BIN)/pytest tests/unit

# A longer property-based fuzz of the four services' APIs (the default `make test` runs 8
# examples per operation and mode); FUZZ_EXAMPLES=1000 for a deeper run.
FUZZ_EXAMPLES ?= 200
fuzz: $(STAMP)
	MENJAMU_FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) $(BIN)/pytest tests/security/test_sec_fuzz.py -p no:randomly

# The survey benchmarks (100,000 responses, a year of 1,000,000) take several minutes.
bench: $(STAMP)
	MENJAMU_BENCH_TIMEOUT_S=$${MENJAMU_BENCH_TIMEOUT_S:-1800} $(BIN)/python -m benchmarks

# The unit tests on the lowest versions pyproject.toml allows (needs PyPI: the machine's mirror
# holds only recent releases, so this is not part of .ci/run).
lowest:
	$(PYTHON) -m venv .venv-lowest
	.venv-lowest/bin/python -m pip install --quiet --upgrade pip
	$(PYTHON) .ci/lowest.py > .venv-lowest/constraints.txt
	.venv-lowest/bin/python -m pip install --quiet -c .venv-lowest/constraints.txt -e ".[dev]"
	.venv-lowest/bin/pytest tests/unit -q

# Province-day simulation (README "Deployment and scale"): SIGNUPS=100000 by default; on a
# small or shared machine run e.g. `make bench-scale SIGNUPS=1000`.
SIGNUPS ?= 100000
bench-scale: $(STAMP)
	$(BIN)/python -m benchmarks._province_day --signups $(SIGNUPS)

clean:
	rm -rf $(VENV) .venv-lowest data
