"""A small kustomize subset, so the manifests can be rendered with no binary.

``kustomize`` is not packaged by Debian and ``kubectl`` is not on every
machine, so the deployment tests render ``deploy/kubernetes`` themselves. Only
what the project's kustomizations use is supported; anything else raises, so a
new kustomize feature in ``deploy/`` fails loudly here instead of rendering
wrong. When ``kubectl`` is installed, ``test_kubernetes.py`` checks that this
renderer and ``kubectl kustomize`` agree object for object.

Supported: ``resources`` (files and directories holding a kustomization),
``namespace``, ``images`` (``newName``/``newTag``/``digest``) and ``patches``
given as JSON 6902 operations (inline ``patch`` or ``path``) with a ``target``
of ``kind``/``name``.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import yaml

SUPPORTED_KEYS = {"apiVersion", "kind", "resources", "namespace", "images", "patches"}
CLUSTER_SCOPED = {"Namespace", "ClusterRole", "ClusterRoleBinding", "CustomResourceDefinition"}
POD_TEMPLATE_KINDS = {"Deployment", "StatefulSet", "DaemonSet", "Job"}


class KustomizeError(Exception):
    """The kustomization uses something this subset does not support, or is wrong."""


def render(directory: Path) -> list[dict[str, Any]]:
    """The objects ``kustomize build directory`` produces (order not significant)."""
    kustomization_file = directory / "kustomization.yaml"
    spec = yaml.safe_load(kustomization_file.read_text(encoding="utf-8")) or {}
    unknown = set(spec) - SUPPORTED_KEYS
    if unknown:
        raise KustomizeError(f"{kustomization_file}: unsupported keys {sorted(unknown)}")
    objects: list[dict[str, Any]] = []
    for entry in spec.get("resources", []):
        path = (directory / entry).resolve()
        if path.is_dir():
            objects.extend(render(path))
        else:
            objects.extend(
                doc
                for doc in yaml.safe_load_all(path.read_text(encoding="utf-8"))
                if doc is not None
            )
    _check_unique(objects, kustomization_file)
    for patch in spec.get("patches", []):
        _apply_patch(objects, patch, directory)
    for image in spec.get("images", []):
        _set_image(objects, image)
    if "namespace" in spec:
        for obj in objects:
            if obj["kind"] == "Namespace":
                obj["metadata"]["name"] = spec["namespace"]
            elif obj["kind"] not in CLUSTER_SCOPED:
                obj["metadata"]["namespace"] = spec["namespace"]
    return objects


def key(obj: dict[str, Any]) -> tuple[str, str, str]:
    """(kind, namespace, name) identifying an object."""
    meta = obj["metadata"]
    return obj["kind"], meta.get("namespace", ""), meta["name"]


def _check_unique(objects: list[dict[str, Any]], where: Path) -> None:
    seen: set[tuple[str, str, str]] = set()
    for obj in objects:
        if key(obj) in seen:
            raise KustomizeError(f"{where}: duplicate object {key(obj)}")
        seen.add(key(obj))


def _apply_patch(objects: list[dict[str, Any]], patch: dict[str, Any], directory: Path) -> None:
    target = patch.get("target") or {}
    if set(target) - {"kind", "name"} or not target:
        raise KustomizeError(f"patch target must give kind and/or name only: {target}")
    text = patch["patch"] if "patch" in patch else (directory / patch["path"]).read_text("utf-8")
    operations = yaml.safe_load(text)
    if not isinstance(operations, list):
        raise KustomizeError("only JSON 6902 patches (a list of operations) are supported")
    matched = [
        obj
        for obj in objects
        if target.get("kind", obj["kind"]) == obj["kind"]
        and target.get("name", obj["metadata"]["name"]) == obj["metadata"]["name"]
    ]
    if not matched:
        raise KustomizeError(f"patch target matches nothing: {target}")
    for obj in matched:
        for operation in operations:
            _json6902(obj, operation)


def _json6902(document: dict[str, Any], operation: dict[str, Any]) -> None:
    op = operation["op"]
    parts = [p.replace("~1", "/").replace("~0", "~") for p in operation["path"].split("/")[1:]]
    parent: Any = document
    for part in parts[:-1]:
        parent = parent[int(part)] if isinstance(parent, list) else parent[part]
    last = parts[-1]
    value = copy.deepcopy(operation.get("value"))
    if isinstance(parent, list):
        if op == "add":
            if last == "-":
                parent.append(value)
            else:
                parent.insert(int(last), value)
        elif op == "replace":
            parent[int(last)] = value
        elif op == "remove":
            del parent[int(last)]
        else:
            raise KustomizeError(f"unsupported JSON patch op {op!r}")
        return
    if op in ("add", "replace"):
        if op == "replace" and last not in parent:
            raise KustomizeError(f"replace of a missing path {operation['path']}")
        parent[last] = value
    elif op == "remove":
        del parent[last]
    else:
        raise KustomizeError(f"unsupported JSON patch op {op!r}")


def _set_image(objects: list[dict[str, Any]], image: dict[str, Any]) -> None:
    for obj in objects:
        if obj["kind"] not in POD_TEMPLATE_KINDS:
            continue
        pod = obj["spec"]["template"]["spec"]
        for container in pod.get("initContainers", []) + pod.get("containers", []):
            name, tag = _split_image(container["image"])
            if name != image["name"]:
                continue
            new_name = image.get("newName", name)
            if "digest" in image:
                container["image"] = f"{new_name}@{image['digest']}"
            elif "newTag" in image:
                container["image"] = f"{new_name}:{image['newTag']}"
            else:
                container["image"] = new_name + tag


def _split_image(image: str) -> tuple[str, str]:
    """("name", ":tag" or "@digest" or "")."""
    if "@" in image:
        name, digest = image.split("@", 1)
        return name, "@" + digest
    slash = image.rfind("/")
    colon = image.rfind(":")
    if colon > slash:
        return image[:colon], image[colon:]
    return image, ""
