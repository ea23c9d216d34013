"""Renders deploy/k8s overlays without the kustomize binary, and validates what they produce.

Kustomize is not in Debian's or PyPI's packages (kubectl embeds it, where kubectl is installed),
so the tests render the subset of kustomize the manifests use: resources (files and folders),
namespace, labels (metadata only), images, secretGenerator from env files (no name hash),
patches as strategic-merge files or JSON 6902 ops. Anything else in a kustomization fails
loudly. test_k8s_manifests compares this renderer with `kubectl kustomize` where kubectl exists.
"""

from __future__ import annotations

import base64
import copy
import json
from functools import cache
from pathlib import Path
from typing import Any

import yaml

KNOWN_KEYS = {
    "apiVersion", "kind", "resources", "namespace", "labels", "images", "generatorOptions",
    "secretGenerator", "patches",
}  # fmt: skip
CLUSTER_SCOPED = {"Namespace", "CustomResourceDefinition", "ClusterRole", "ClusterRoleBinding"}
MERGE_KEYS = {"containers": "name", "env": "name", "volumes": "name", "volumeMounts": "name"}
CRDS = Path(__file__).resolve().parents[3] / "deploy" / "k8s" / "crds"

Doc = dict[str, Any]


def render(folder: Path) -> list[Doc]:
    """Builds a kustomization folder into its list of objects."""
    spec = yaml.safe_load((folder / "kustomization.yaml").read_text())
    unknown = set(spec) - KNOWN_KEYS
    if unknown:
        raise ValueError(f"{folder}: kustomize fields this renderer does not know: {unknown}")
    docs: list[Doc] = []
    for entry in spec.get("resources", []):
        path = folder / entry
        if path.is_dir():
            docs += render(path)
        else:
            docs += [d for d in yaml.safe_load_all(path.read_text()) if d]
    hashed = not spec.get("generatorOptions", {}).get("disableNameSuffixHash")
    if hashed and spec.get("secretGenerator"):
        raise ValueError("this renderer generates names without a hash suffix only")
    docs += [_secret(folder, gen) for gen in spec.get("secretGenerator", [])]
    for patch in spec.get("patches", []):
        _apply_patch(folder, docs, patch)
    for doc in docs:
        _transform(doc, spec)
    return docs


def _secret(folder: Path, gen: Doc) -> Doc:
    data: dict[str, str] = {}
    for env_file in gen.get("envs", []):
        for line in (folder / env_file).read_text().splitlines():
            line = line.strip()
            if line and not line.startswith("#"):
                key, _, value = line.partition("=")
                data[key] = base64.b64encode(value.encode()).decode()
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": gen["name"]},
        "type": "Opaque",
        "data": data,
    }


def _apply_patch(folder: Path, docs: list[Doc], patch: Doc) -> None:
    if "path" in patch:
        body = yaml.safe_load((folder / patch["path"]).read_text())
        target = {"kind": body["kind"], "name": body["metadata"]["name"]}
        for doc in _matching(docs, target):
            doc.update(merge(doc, body))
        return
    ops = yaml.safe_load(patch["patch"])
    for doc in _matching(docs, patch["target"]):
        for op in ops:
            _json_op(doc, op)


def _matching(docs: list[Doc], target: Doc) -> list[Doc]:
    found = [
        d
        for d in docs
        if d["kind"] == target["kind"] and d["metadata"]["name"] == target.get("name")
    ]
    if not found:
        raise ValueError(f"patch target not found: {target}")
    return found


def _json_op(doc: Doc, op: Doc) -> None:
    if op["op"] not in ("replace", "add"):
        raise ValueError(f"JSON patch op not supported: {op['op']}")
    *parents, last = [p.replace("~1", "/").replace("~0", "~") for p in op["path"][1:].split("/")]
    node: Any = doc
    for part in parents:
        node = node[int(part)] if isinstance(node, list) else node[part]
    if isinstance(node, list):
        index = len(node) if last == "-" else int(last)
        if op["op"] == "add":
            node.insert(index, op["value"])
        else:
            node[index] = op["value"]
    else:
        if op["op"] == "replace" and last not in node:
            raise ValueError(f"replace of a missing path: {op['path']}")
        node[last] = op["value"]


def merge(base: Any, patch: Any, key: str = "") -> Any:
    """Strategic merge, the part these manifests use: maps merge, named lists merge by name."""
    if isinstance(base, dict) and isinstance(patch, dict):
        out = dict(base)
        for k, v in patch.items():
            out[k] = merge(base[k], v, k) if k in base else copy.deepcopy(v)
        return out
    if isinstance(base, list) and isinstance(patch, list) and key in MERGE_KEYS:
        name = MERGE_KEYS[key]
        out_list = list(base)
        for item in patch:
            index = next((i for i, b in enumerate(out_list) if b[name] == item[name]), None)
            if index is None:
                out_list.append(copy.deepcopy(item))
            else:
                out_list[index] = merge(out_list[index], item)
        return out_list
    return copy.deepcopy(patch)


def _transform(doc: Doc, spec: Doc) -> None:
    meta = doc.setdefault("metadata", {})
    if spec.get("namespace") and doc["kind"] not in CLUSTER_SCOPED:
        meta["namespace"] = spec["namespace"]
    for label_set in spec.get("labels", []):
        if label_set.get("includeSelectors") or label_set.get("includeTemplates"):
            raise ValueError("labels with selectors/templates are not rendered here")
        meta.setdefault("labels", {}).update(label_set["pairs"])
    for image in spec.get("images", []):
        for container in _containers(doc):
            if container["image"].split(":")[0] == image["name"]:
                container["image"] = f"{image.get('newName', image['name'])}:{image['newTag']}"


def _containers(doc: Doc) -> list[Doc]:
    template = doc.get("spec", {}).get("template", {}).get("spec", {})
    containers: list[Doc] = template.get("containers", []) + template.get("initContainers", [])
    return containers


@cache
def crd_schema(group: str, version: str, kind: str) -> Doc | None:
    """The vendored openAPIV3Schema of a custom resource, closed like kubeconform -strict."""
    path = CRDS / f"{group}_{kind.lower()}.schema.json"
    if not path.exists():
        return None
    schema = json.loads(path.read_text())["versions"].get(version)
    return _closed(schema) if schema is not None else None


def _closed(node: Any) -> Any:
    """Rejects unknown fields where the CRD lists properties (the API server would prune them)."""
    if isinstance(node, list):
        return [_closed(v) for v in node]
    if not isinstance(node, dict):
        return node
    out = {k: _closed(v) for k, v in node.items()}
    if (
        "properties" in out
        and "additionalProperties" not in out
        and not out.get("x-kubernetes-preserve-unknown-fields")
    ):
        out["additionalProperties"] = False
    return out
