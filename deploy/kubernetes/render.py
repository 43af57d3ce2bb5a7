#!/usr/bin/env python3
"""Renders this kustomize base without kubectl, for CI machines that have none.

It supports exactly what the base uses (a `resources` list of local files, optionally `namespace`)
and refuses any other kustomization field, so it can never silently render something different
from `kubectl kustomize`. With kubectl present, scripts/steps/40-manifests.sh renders with both and
compares the documents.

    python3 deploy/kubernetes/render.py deploy/kubernetes > rendered.yaml
"""

import sys
from pathlib import Path

import yaml

SUPPORTED = {"apiVersion", "kind", "resources", "namespace"}


def render(base: Path) -> list:
    kustomization = yaml.safe_load((base / "kustomization.yaml").read_text())
    unknown = set(kustomization) - SUPPORTED
    if unknown:
        raise SystemExit(f"{base}/kustomization.yaml: render.py does not support {sorted(unknown)}; use kubectl kustomize")
    documents = []
    for resource in kustomization.get("resources", []):
        path = base / resource
        if not path.is_file():
            raise SystemExit(f"{base}/kustomization.yaml: resource {resource} is not a file")
        for document in yaml.safe_load_all(path.read_text()):
            if document is None:
                continue
            if "namespace" in kustomization:
                document.setdefault("metadata", {})["namespace"] = kustomization["namespace"]
            documents.append(document)
    return documents


if __name__ == "__main__":
    yaml.safe_dump_all(render(Path(sys.argv[1] if len(sys.argv) > 1 else ".")), sys.stdout, sort_keys=True)
