"""The monitoring files agree with compose and the services (queries vs real metrics: e2e)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

from services.registry import SERVICES, entry

DEPLOY = Path(__file__).resolve().parents[3] / "deploy"
MONITORING = DEPLOY / "monitoring"


def load(path: Path) -> Any:
    return yaml.safe_load(path.read_text())


def test_prometheus_scrapes_every_service_on_its_port_with_the_metrics_token() -> None:
    job = load(MONITORING / "prometheus.yml")["scrape_configs"][0]
    targets = {t for group in job["static_configs"] for t in group["targets"]}
    assert targets == {f"{name}:{entry(name).settings().default_port}" for name in SERVICES}
    assert job["metrics_path"] == "/metrics"
    assert job["authorization"]["credentials_file"] == "/run/secrets/metrics_token"


def test_compose_runs_prometheus_and_grafana_only_with_the_monitoring_profile() -> None:
    compose = load(DEPLOY / "compose.yaml")
    services = compose["services"]
    for name in ("prometheus", "grafana"):
        assert services[name]["profiles"] == ["monitoring"]
        assert all(str(p).startswith("127.0.0.1:") for p in services[name]["ports"])
    assert "metrics_token" in services["prometheus"]["secrets"]
    assert compose["secrets"]["metrics_token"]["environment"] == "MENJAMU_METRICS_TOKEN"
    mounts = {v.split(":")[0] for v in services["grafana"]["volumes"]}
    assert {"./monitoring/grafana/provisioning", "./monitoring/grafana/dashboards"} <= mounts
    for name in SERVICES:
        assert "profiles" not in services[name], f"{name} must run without a profile"


def test_the_grafana_dashboard_loads_and_uses_the_provisioned_datasource() -> None:
    board = json.loads((MONITORING / "grafana" / "dashboards" / "menjamu.json").read_text())
    source = load(MONITORING / "grafana" / "provisioning" / "datasources" / "prometheus.yaml")
    uid = source["datasources"][0]["uid"]
    ids = [panel["id"] for panel in board["panels"]]
    assert board["uid"] and len(ids) == len(set(ids))
    for panel in board["panels"]:
        assert panel["datasource"]["uid"] == uid
        assert panel["targets"] and all(t["expr"].strip() for t in panel["targets"])
    provider = load(MONITORING / "grafana" / "provisioning" / "dashboards" / "menjamu.yaml")
    assert provider["providers"][0]["options"]["path"] == "/var/lib/grafana/dashboards"
