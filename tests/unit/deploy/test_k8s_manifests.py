"""deploy/k8s renders, validates against the Kubernetes and CRD schemas, and matches the code."""

from __future__ import annotations

import base64
import importlib
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import jsonschema
import kubernetes_validate
import pytest
import yaml

from services import registry
from services.certificates.storage import build_store
from shared.contracts import (
    ActivityChangedV1,
    CertificateIssuedV1,
    MessageReceivedV1,
    ParticipantCancelledV1,
    ParticipantCheckedInV1,
    ParticipantRegisteredV1,
    ResponseSubmittedV1,
    WhatsAppMessageRequestedV1,
)
from tests.unit.deploy.k8s_render import crd_schema, render

ROOT = Path(__file__).resolve().parents[3]
K8S = ROOT / "deploy" / "k8s"
OVERLAYS = sorted(p.name for p in (K8S / "overlays").iterdir() if p.is_dir())
KUBERNETES_VERSION = "1.32"
SERVICES = {
    "registration": 8001,
    "certificates": 8002,
    "consultation": 8003,
    "survey": 8004,
    "dashboard": 8005,
}
# The dashboard runs one replica: its live page pushes what its own consumer reads.
NOT_AUTOSCALED = {"registration", "dashboard"}
# group -> the stream it reads, from the contracts (a renamed stream or group fails here).
GROUP_STREAMS = {
    "certificates.issue": ParticipantRegisteredV1.STREAM,
    "certificates.check_in": ParticipantCheckedInV1.STREAM,
    "certificates.cancel": ParticipantCancelledV1.STREAM,
    "consultation.invite": ParticipantRegisteredV1.STREAM,
    "consultation.certificate": CertificateIssuedV1.STREAM,
    "consultation.inbound": MessageReceivedV1.STREAM,
    "consultation.requested": WhatsAppMessageRequestedV1.STREAM,
    "consultation.activity_changed": ActivityChangedV1.STREAM,
    "survey.aggregate": ResponseSubmittedV1.STREAM,
    "survey.guides": ParticipantRegisteredV1.STREAM,
}
# Groups whose backlog is no reason to add pods: the survey's guides group stores a code per
# registration (a few hundred a day); the aggregator's lag drives the survey's replicas. The
# consultation's requested group queues operators' replies to saran (a few a day), its
# activity_changed group the notices of a moved event (a few changes a week).
NOT_A_SCALING_SIGNAL = {"survey.guides", "consultation.requested", "consultation.activity_changed"}
GROUP_IN_CODE = re.compile(r'(?:group\s*=\s*|_GROUP\s*=\s*)"([a-z_.]+)"')

Doc = dict[str, Any]


def overlay_copy(tmp_path: Path, overlay: str) -> Path:
    """A copy of deploy/k8s with the overlay's secret files made from their examples."""
    tree = tmp_path / "k8s"
    shutil.copytree(K8S, tree)
    secrets = tree / "overlays" / overlay / "secrets"
    for example in secrets.glob("*.env.example"):
        (secrets / example.name.removesuffix(".example")).write_text(example.read_text())
    return tree / "overlays" / overlay


@pytest.fixture(params=OVERLAYS)
def overlay(request: pytest.FixtureRequest, tmp_path: Path) -> Path:
    return overlay_copy(tmp_path, request.param)


@pytest.fixture
def docs(overlay: Path) -> list[Doc]:
    return render(overlay)


def by_kind(docs: list[Doc], kind: str) -> dict[str, Doc]:
    return {d["metadata"]["name"]: d for d in docs if d["kind"] == kind}


def test_every_object_validates_against_the_kubernetes_or_its_crd_schema(
    docs: list[Doc],
) -> None:
    problems = []
    for doc in docs:
        group, _, version = doc["apiVersion"].rpartition("/")
        schema = crd_schema(group, version, doc["kind"]) if group else None
        name = f"{doc['kind']}/{doc['metadata']['name']}"
        try:
            if schema is not None:
                jsonschema.validate(doc, schema)
            else:
                kubernetes_validate.validate(doc, KUBERNETES_VERSION, strict=True)
        except kubernetes_validate.SchemaNotFoundError:
            problems.append(f"{name}: no schema (neither Kubernetes nor a vendored CRD)")
        except (jsonschema.ValidationError, kubernetes_validate.ValidationError) as exc:
            problems.append(f"{name}: {getattr(exc, 'message', exc)}")
    assert not problems, "\n".join(problems)


def test_the_crd_schemas_reject_a_misspelt_field(docs: list[Doc]) -> None:
    scaled = next(d for d in docs if d["kind"] == "ScaledObject")
    broken = {**scaled, "spec": {**scaled["spec"], "maxReplicas": 3}}
    with pytest.raises(jsonschema.ValidationError, match="maxReplicas"):
        jsonschema.validate(broken, crd_schema("keda.sh", "v1alpha1", "ScaledObject"))
    deployment = next(d for d in docs if d["kind"] == "Deployment")
    wrong = {**deployment, "spec": {**deployment["spec"], "replica": 2}}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(wrong, KUBERNETES_VERSION, strict=True)


def test_each_service_probes_ready_and_health_with_requests_and_limits(docs: list[Doc]) -> None:
    deployments = by_kind(docs, "Deployment")
    assert set(deployments) == set(SERVICES) == set(registry.SERVICES), (
        "a service without manifests"
    )
    for name, deployment in deployments.items():
        (container,) = deployment["spec"]["template"]["spec"]["containers"]
        assert container["args"] == ["serve", name]
        assert container["ports"][0]["containerPort"] == SERVICES[name]
        assert container["readinessProbe"]["httpGet"]["path"] == "/ready"
        assert container["livenessProbe"]["httpGet"]["path"] == "/health"
        resources = container["resources"]
        for side in ("requests", "limits"):
            assert {"cpu", "memory"} <= set(resources.get(side, {})), f"{name} {side}"
        assert deployment["metadata"]["namespace"].startswith("menjamu-")


def test_disruption_budgets_and_services_select_the_pods_of_a_deployment(docs: list[Doc]) -> None:
    deployments = by_kind(docs, "Deployment")
    for kind in ("PodDisruptionBudget", "Service"):
        objects = by_kind(docs, kind)
        assert set(objects) == set(SERVICES)
        for name, obj in objects.items():
            selector = obj["spec"].get("selector", {})
            selector = selector.get("matchLabels", selector)
            pod_labels = deployments[name]["spec"]["template"]["metadata"]["labels"]
            assert selector.items() <= pod_labels.items(), f"{kind}/{name} selects no pod"


def test_every_consumer_group_in_the_code_has_a_scaled_object_on_its_stream(
    docs: list[Doc],
) -> None:
    handlers = {
        name: ROOT / "services" / name / "handlers.py"
        for name in SERVICES
        if name not in NOT_AUTOSCALED
    }
    in_code = {
        group: name
        for name, path in handlers.items()
        if path.exists()
        for group in GROUP_IN_CODE.findall(path.read_text())
    }
    assert set(in_code) == set(GROUP_STREAMS), "a consumer group without a known stream"
    scaled = by_kind(docs, "ScaledObject")
    for group, service in in_code.items():
        if group in NOT_A_SCALING_SIGNAL:
            continue
        # A service with several groups has a pair of triggers per group.
        triggers = [
            t
            for t in scaled[service]["spec"]["triggers"]
            if t["metadata"]["consumerGroup"] == group
        ]
        assert scaled[service]["spec"]["scaleTargetRef"]["name"] == service
        kinds = set()
        for trigger in triggers:
            meta = trigger["metadata"]
            assert meta["consumerGroup"] in GROUP_STREAMS, meta["consumerGroup"]
            assert meta["stream"] == GROUP_STREAMS[meta["consumerGroup"]]
            assert trigger["authenticationRef"]["name"] in by_kind(docs, "TriggerAuthentication")
            if meta["consumerGroup"] == group:  # a service with several groups: one pair each
                kinds |= {"lag"} if "lagCount" in meta else {"pending"}
        assert kinds == {"lag", "pending"}, f"{service}: lag and pending triggers for {group}"
        assert "replicas" not in by_kind(docs, "Deployment")[service]["spec"]


def test_the_ingress_routes_public_paths_only(docs: list[Doc]) -> None:
    (ingress,) = by_kind(docs, "Ingress").values()
    paths = {
        p["path"]: p["backend"]["service"]["name"]
        for rule in ingress["spec"]["rules"]
        for p in rule["http"]["paths"]
    }
    for private in ("/docs", "/health", "/ready", "/dev", "/api/v1/tokens", "/api/v1/ikm"):
        assert not any(private.startswith(path) for path in paths), private
    assert paths["/daftar"] == "registration" and paths["/survei"] == "survey"
    assert paths["/verify"] == "certificates" and paths["/i"] == "consultation"
    # Meta's webhook, the mentor inbox page and the API it calls (mentor tokens)
    for path in ("/webhooks", "/inbox", "/api/v1/conversations"):
        assert paths[path] == "consultation", path
    assert paths["/brosur.pdf"] == paths["/stiker.pdf"] == "certificates"
    assert "dashboard" not in paths.values()


def test_network_policies_deny_by_default_and_only_consultation_reaches_out(
    docs: list[Doc],
) -> None:
    policies = by_kind(docs, "NetworkPolicy")
    deny = policies["default-deny"]["spec"]
    assert deny["policyTypes"] == ["Ingress", "Egress"] and "ingress" not in deny
    workloads = [d for d in docs if d["kind"] in ("Deployment", "Job")]
    pods = [d["spec"]["template"]["metadata"]["labels"] for d in workloads]
    assert all(deny["podSelector"]["matchLabels"].items() <= labels.items() for labels in pods)
    public = [
        name
        for name, p in policies.items()
        if any("ipBlock" in peer for rule in p["spec"].get("egress", []) for peer in rule["to"])
    ]
    assert public == ["consultation-reach-whatsapp"]
    assert policies[public[0]]["spec"]["podSelector"]["matchLabels"] == {
        "app.kubernetes.io/name": "consultation"
    }


def test_secrets_come_from_uncommitted_files_and_hold_no_value_in_git(overlay: Path) -> None:
    secrets = overlay / "secrets"
    assert (secrets / ".gitignore").read_text().strip() == "*.env"
    for example in secrets.glob("*.env.example"):
        for line in example.read_text().splitlines():
            if line and not line.startswith("#"):
                key, _, value = line.partition("=")
                # A gateway's name is a choice, not a secret.
                assert value in ("", "dev", "cloud", "waha") or "PASSWORD@" in value, key


def test_the_renderer_agrees_with_kubectl_kustomize(overlay: Path, docs: list[Doc]) -> None:
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        pytest.skip("kubectl is not installed: the Python renderer is checked by the tests above")
    built = subprocess.run(
        [kubectl, "kustomize", str(overlay)], capture_output=True, text=True, check=True
    ).stdout
    theirs = {_key(d): _decoded(d) for d in yaml.safe_load_all(built) if d}
    ours = {_key(d): _decoded(d) for d in docs}
    assert theirs.keys() == ours.keys()
    for key, doc in ours.items():
        assert doc == theirs[key], f"{key} differs from kubectl kustomize"


def _key(doc: Doc) -> tuple[str, str]:
    return doc["kind"], doc["metadata"]["name"]


def _decoded(doc: Doc) -> Doc:
    """A Secret with its values decoded (kubectl wraps long base64 lines)."""
    if doc["kind"] != "Secret":
        return doc
    return {**doc, "data": {k: base64.b64decode(v) for k, v in doc.get("data", {}).items()}}


def container_env(workload: Doc, docs: list[Doc]) -> dict[str, str]:
    """The environment a workload's container starts with (envFrom in order, then env)."""
    (container,) = workload["spec"]["template"]["spec"]["containers"]
    config, secrets = by_kind(docs, "ConfigMap"), by_kind(docs, "Secret")
    env: dict[str, str] = {}
    for source in container.get("envFrom", []):
        if "configMapRef" in source:
            env |= config[source["configMapRef"]["name"]]["data"]
        else:
            data = secrets[source["secretRef"]["name"]]["data"]
            env |= {k: base64.b64decode(v).decode() for k, v in data.items()}
    env |= {e["name"]: e.get("value", "") for e in container.get("env", [])}
    return env


def could_run_several(name: str, docs: list[Doc]) -> bool:
    """True when a Deployment may have more than one pod (replicas or an autoscaler)."""
    deployment = by_kind(docs, "Deployment")[name]
    targets = [
        d["spec"]["scaleTargetRef"]["name"]
        for d in docs
        if d["kind"] in ("ScaledObject", "HorizontalPodAutoscaler")
    ]
    return deployment["spec"].get("replicas", 1) > 1 or name in targets


def test_certificate_pods_share_one_storage_when_several_can_run(docs: list[Doc]) -> None:
    # A local folder is each pod's own: a PDF written by one pod is a 404 on another.
    serving = [
        d
        for d in by_kind(docs, "Deployment").values()
        if d["spec"]["template"]["spec"]["containers"][0]["args"] == ["serve", "certificates"]
    ]
    assert serving, "no Deployment serves certificates"
    migrate = by_kind(docs, "Job")["migrate"]
    for deployment in serving:
        env = container_env(deployment, docs)
        if could_run_several(deployment["metadata"]["name"], docs):
            assert env.get("CERTIFICATES_STORAGE") == "s3", "several pods on local storage"
        if env.get("CERTIFICATES_STORAGE") == "s3":
            assert env.get("CERTIFICATES_S3_BUCKET") and env.get("CERTIFICATES_S3_ENDPOINT_URL")
            keys = {"CERTIFICATES_S3_ACCESS_KEY_ID", "CERTIFICATES_S3_SECRET_ACCESS_KEY"}
            assert keys <= env.keys(), "the bucket's keys are not in the overlay's secrets"
        # The migration moves PDFs into the storage: it must see the same one.
        migrate_env = container_env(migrate, docs)
        for key, value in env.items():
            if key.startswith(("CERTIFICATES_STORAGE", "CERTIFICATES_S3_")):
                assert migrate_env.get(key) == value, f"migrate Job: {key} differs"


def test_each_service_loads_its_settings_from_its_rendered_environment(
    docs: list[Doc], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Settings ignore unknown names, so a misspelt key would silently keep the default.
    for name, deployment in by_kind(docs, "Deployment").items():
        env = container_env(deployment, docs)
        entry = registry.entry(name)
        fields = set(importlib.import_module(f"services.{name}.settings").Settings.model_fields)
        prefix = f"{name.upper()}_"
        names = {k: k.lower().removeprefix(prefix.lower()) for k in env if k.startswith(prefix)}
        unknown = [k for k, field in names.items() if field not in fields]
        assert not unknown, f"{name}: not settings of services/{name}/settings.py: {unknown}"
        for key in list(os.environ):
            if key.startswith((prefix, "MENJAMU_", "REDIS_", "DATABASE_URL")):
                monkeypatch.delenv(key)
        for key, value in env.items():
            # Secret placeholders are empty in the examples: any value stands for the real one.
            monkeypatch.setenv(key, value or "placeholder")
        settings = entry.settings()  # a refused combination fails here, naming the setting
        if name == "certificates":
            assert (settings.s3_bucket, settings.s3_endpoint_url) == (
                env["CERTIFICATES_S3_BUCKET"],
                env["CERTIFICATES_S3_ENDPOINT_URL"],
            )
            assert build_store(settings).name == "s3"
