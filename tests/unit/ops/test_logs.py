"""Service log files and `menjamu logs`: JSON on disk, readable filtered lines for people."""

from __future__ import annotations

import json
import select
import subprocess
import sys
from pathlib import Path

from services.ops.logs import format_record
from shared.settings import PROJECT_ROOT

WRITER = """
import sys
from pathlib import Path
from shared.logging import configure_logging, get_logger, bind_context
configure_logging(sys.argv[1], fmt="console", level="INFO", log_dir=Path(sys.argv[2]))
log = get_logger("test")
bind_context(correlation_id=sys.argv[3])
log.debug("hidden.debug")
log.info("registration.accepted", phone="+6281234567890", registration_id="r-1")
log.warning("outbox.redis_unavailable", error="connection refused")
"""


def write_logs(service: str, folder: Path, correlation: str) -> None:
    subprocess.run(
        [sys.executable, "-c", WRITER, service, str(folder), correlation],
        cwd=PROJECT_ROOT, check=True, capture_output=True, timeout=60,
    )  # fmt: skip


def menjamu_logs(folder: Path, *args: str) -> list[str]:
    result = subprocess.run(
        [sys.executable, "-m", "services.cli", "logs", "--dir", str(folder), *args],
        cwd=PROJECT_ROOT, capture_output=True, text=True, check=True, timeout=60,
    )  # fmt: skip
    return result.stdout.splitlines()


def test_each_service_writes_json_lines_to_its_own_file_with_personal_data_masked(
    tmp_path: Path,
) -> None:
    write_logs("registration", tmp_path, "corr-a")
    lines = (tmp_path / "registration.log").read_text().splitlines()
    records = [json.loads(line) for line in lines]
    assert [r["event"] for r in records] == ["registration.accepted", "outbox.redis_unavailable"]
    assert records[0]["service"] == "registration" and records[0]["correlation_id"] == "corr-a"
    assert records[0]["phone"] == "+6281****90"
    assert "+6281234567890" not in (tmp_path / "registration.log").read_text()


def test_menjamu_logs_merges_services_in_time_order_and_filters(tmp_path: Path) -> None:
    write_logs("registration", tmp_path, "corr-a")
    write_logs("certificates", tmp_path, "corr-b")
    every = menjamu_logs(tmp_path)
    assert len(every) == 4
    assert [line.split()[1] for line in every] == [
        "registration", "registration", "certificates", "certificates",
    ]  # fmt: skip
    only_b = menjamu_logs(tmp_path, "--correlation", "corr-b")
    assert len(only_b) == 2 and all("correlation_id=corr-b" in line for line in only_b)
    warnings = menjamu_logs(tmp_path, "--level", "warning", "--service", "registration")
    assert len(warnings) == 1 and "outbox.redis_unavailable" in warnings[0]
    assert 'error="connection refused"' in warnings[0]
    # A rotated file (registration.log.1) is read too, in time order.
    (tmp_path / "registration.log").rename(tmp_path / "registration.log.1")
    assert len(menjamu_logs(tmp_path, "--service", "registration")) == 2
    coloured = menjamu_logs(tmp_path, "--color", "always", "--level", "warning")
    assert all("\033[33mwarning" in line for line in coloured)


def test_menjamu_logs_follow_prints_lines_written_later(tmp_path: Path) -> None:
    write_logs("survey", tmp_path, "corr-old")
    follower = subprocess.Popen(
        [sys.executable, "-m", "services.cli", "logs", "--dir", str(tmp_path), "--follow",
         "--correlation", "corr-new"],
        cwd=PROJECT_ROOT, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        write_logs("survey", tmp_path, "corr-new")
        assert follower.stdout is not None
        ready, _, _ = select.select([follower.stdout], [], [], 30)
        assert ready, "menjamu logs --follow printed nothing within 30 s"
        first = follower.stdout.readline()
        assert "registration.accepted" in first and "correlation_id=corr-new" in first
    finally:
        follower.terminate()
        follower.wait(10)


def test_a_record_reads_as_one_line() -> None:
    line = format_record(
        {"timestamp": "2026-11-28T10:00:01.123456Z", "level": "info", "service": "survey",
         "event": "survey.units_seeded", "units": 2},
    )  # fmt: skip
    assert line == "10:00:01.123 survey       info     survey.units_seeded units=2"
