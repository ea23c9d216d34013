"""Property-based fuzz of all four services' OpenAPI schemas (schemathesis) over real HTTP:
no 5xx, documented responses match their schema, no traceback text in any answer.

Bounded for `make test` (MENJAMU_FUZZ_EXAMPLES, default 8 per operation and mode) on SQLite;
`make fuzz` runs the same with many more examples (`MENJAMU_FUZZ_DATABASE=postgres` on the
machine's PostgreSQL)."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis.checks import not_a_server_error
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import response_schema_conformance

from tests.conftest import TEST_REDIS_DB, _drop_schemas
from tests.processes import ServiceProcess, migrate, service_env
from tests.security.conftest import SERVICES
from tests.support import ADMIN_TOKEN, PG_URL, REDIS_HOST, REDIS_PORT, require_server

pytestmark = [pytest.mark.integration, pytest.mark.e2e]
EXAMPLES = int(os.environ.get("MENJAMU_FUZZ_EXAMPLES", "8"))
TRACE_MARKERS = ("Traceback (most recent call last)", 'File "/', "site-packages")


def no_traceback(_ctx: Any, response: Any, _case: Any) -> bool:
    """Custom check: no answer shows a traceback or a source path."""
    kind = response.headers.get("content-type", [""])
    kind = kind[0] if isinstance(kind, list) else kind
    if not (kind.startswith("text/") or "json" in kind):
        return True  # a PDF or an image carries no traceback text
    text = response.content.decode("utf-8", "replace")
    leaked = [m for m in TRACE_MARKERS if m in text]
    assert not leaked, f"traceback text in the answer: {leaked}"
    return True


# What issue 5 asks: no 5xx, documented answers match their schema, no traceback text.
# Known defects found by this fuzz in code landed just before the deadline, reported to the
# coordinator for their owners; remove an entry when its fix lands.
KNOWN_DEFECTS = {
    "GET /api/v1/live": "an endless server-sent event stream: not a request/answer operation",
}
CHECKS = [not_a_server_error, response_schema_conformance, no_traceback]


@pytest.fixture(scope="module")
def running(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, ServiceProcess]]:
    require_server("Redis", REDIS_HOST, REDIS_PORT)
    tmp = tmp_path_factory.mktemp("fuzz")
    database_url, prefix = None, ""
    if os.environ.get("MENJAMU_FUZZ_DATABASE") == "postgres":
        require_server("PostgreSQL", "127.0.0.1", 5432)
        database_url, prefix = PG_URL, f"fz{uuid.uuid4().hex[:8]}_"
    env = service_env(
        redis_url=f"redis://{REDIS_HOST}:{REDIS_PORT}/{TEST_REDIS_DB}",
        data_dir=tmp / "data",
        database_url=database_url,
        schema_prefix=prefix,
    )
    migrate(env, *SERVICES)
    procs = {name: ServiceProcess(name, env, Path(tmp)) for name in SERVICES}
    try:
        for proc in procs.values():
            proc.start()
        yield procs
    finally:
        for proc in procs.values():
            proc.stop()
        if prefix:
            asyncio.run(_drop_schemas(PG_URL, prefix))


def _fuzz(operation: Any, base_url: str, mode: GenerationMode) -> None:
    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
    )
    def run(case: Any) -> None:
        response = case.call(base_url=base_url, headers={"Authorization": f"Bearer {ADMIN_TOKEN}"})
        case.validate_response(response, checks=CHECKS)

    try:
        run()
    except Unsatisfiable:
        # An operation without any input has no invalid request to send.
        assert mode is GenerationMode.NEGATIVE, operation.label


@pytest.mark.parametrize("name", SERVICES)
def test_fuzzed_requests_never_break_a_service(
    running: dict[str, ServiceProcess], name: str
) -> None:
    proc = running[name]
    schema = schemathesis.openapi.from_url(f"{proc.url}/openapi.json")
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 3
    for operation in operations:
        if operation.label in KNOWN_DEFECTS:
            continue
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            _fuzz(operation, proc.url, mode)
    log = proc.log_path.read_text()
    assert "http.unhandled_error" not in log, log[-3000:]
