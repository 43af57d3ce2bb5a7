#!/usr/bin/env bash
# Deployment files, validated offline: the Kubernetes kustomize base (deploy/kubernetes) against the
# Kubernetes schemas with kubernetes-validate, compose.yaml against the Compose specification's JSON
# schema committed in deploy/schemas/ with check-jsonschema, and the Slurm template
# (worker/slurm-worker.sbatch) with bash -n and shellcheck. No cluster, no network at check time
# (beyond installing shellcheck from Debian once).
#
# The base is rendered with `kubectl kustomize` when kubectl is installed, and always with the small
# renderer in deploy/kubernetes/render.py (no kubectl on a fresh machine); with both, their output
# must be the same objects.
set -euo pipefail

repo_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
venv=$repo_root/.build/manifests-venv
# Pinned tools. kubernetes-validate bundles the Kubernetes OpenAPI schemas (checked against 1.31).
pins=(kubernetes-validate==1.31.0 check-jsonschema==0.29.4 PyYAML==6.0.2)
kubernetes_version=1.31.0
if ! "$venv/bin/python" -c 'import kubernetes_validate, check_jsonschema, yaml' 2>/dev/null; then
    echo "==> manifests: creating $venv" >&2
    rm -rf "$venv"
    python3 -m venv "$venv"
    timeout 600 "$venv/bin/pip" install -q --disable-pip-version-check "${pins[@]}"
fi

out=${REPRO_STEP_DIR:-$(mktemp -d)}/manifests
mkdir -p "$out"
base=$repo_root/deploy/kubernetes

"$venv/bin/python" "$base/render.py" "$base" >"$out/rendered.yaml"
if command -v kubectl >/dev/null 2>&1; then
    timeout 120 kubectl kustomize "$base" >"$out/kubectl.yaml"
    "$venv/bin/python" - "$out/rendered.yaml" "$out/kubectl.yaml" <<'PY'
import sys, yaml
def objects(path):
    return sorted((yaml.safe_load_all(open(path))), key=lambda d: (d["kind"], d["metadata"]["name"]))
ours, theirs = objects(sys.argv[1]), objects(sys.argv[2])
if ours != theirs:
    sys.exit("error: render.py and kubectl kustomize disagree on deploy/kubernetes")
print(f"render.py and kubectl kustomize agree ({len(ours)} objects)")
PY
else
    echo "kubectl not installed: rendered with deploy/kubernetes/render.py only" >&2
fi

# Core kinds against the Kubernetes schemas (strict: unknown fields are errors). The ServiceMonitor is
# a Prometheus Operator CRD with no schema in kubernetes-validate; check_consistency.py checks it.
"$venv/bin/python" - "$out" <<'PY'
import sys, yaml
from pathlib import Path
out = Path(sys.argv[1])
core = out / "core"
core.mkdir(exist_ok=True)
for old in core.glob("*.yaml"):
    old.unlink()
for index, document in enumerate(yaml.safe_load_all(open(out / "rendered.yaml"))):
    if document["apiVersion"].startswith("monitoring.coreos.com/"):
        continue
    (core / f"{index:02d}-{document['kind']}-{document['metadata']['name']}.yaml").write_text(yaml.safe_dump(document))
PY
"$venv/bin/kubernetes-validate" --strict --kubernetes-version "$kubernetes_version" "$out"/core/*.yaml
"$venv/bin/python" "$base/check_consistency.py" "$out/rendered.yaml" "$base/README.md"

# The Slurm template: parsed by bash, and linted by shellcheck (Debian's package, installed once when
# missing; a machine where apt cannot reach a mirror fails here, loudly).
# scripts/steps/45-slurm.sh runs it, two array tasks at once against a live coordinator.
sbatch_script=$repo_root/worker/slurm-worker.sbatch
bash -n "$sbatch_script"
if ! command -v shellcheck >/dev/null 2>&1; then
    # shellcheck source-path=SCRIPTDIR source=../lib/apt.sh
    source "$repo_root/scripts/lib/apt.sh"
    repro_apt_install shellcheck
fi
shellcheck --shell=bash --severity=style "$sbatch_script"
# The lint can fail: an unquoted expansion in a copy of the template must be reported.
# shellcheck disable=SC2016 # the $ are the template's text, not this script's variables
sed 's|mkdir -p "$work" "$cache"|mkdir -p $work $cache|' "$sbatch_script" >"$out/broken.sbatch"
if shellcheck --shell=bash "$out/broken.sbatch" >/dev/null 2>&1; then
    echo "error: shellcheck accepted unquoted expansions in a copy of worker/slurm-worker.sbatch: the check is not working" >&2
    exit 1
fi
echo "worker/slurm-worker.sbatch: bash -n and shellcheck $(shellcheck --version | awk '/^version:/ {print $2}') clean"

# compose.yaml against the Compose specification (deploy/schemas/compose-spec.json, committed).
"$venv/bin/check-jsonschema" --schemafile "$repo_root/deploy/schemas/compose-spec.json" "$repo_root/compose.yaml"

# The checks can fail: a manifest with a field Kubernetes does not know must be refused.
"$venv/bin/python" - "$out" <<'PY'
import sys, yaml
from pathlib import Path
core = Path(sys.argv[1]) / "core"
deployment = next(core.glob("*-Deployment-reprogrid-coordinator.yaml"))
broken = yaml.safe_load(deployment.read_text())
broken["spec"]["template"]["spec"]["containers"][0]["readinessProbes"] = {}
(Path(sys.argv[1]) / "broken.yaml").write_text(yaml.safe_dump(broken))
PY
if "$venv/bin/kubernetes-validate" --strict --kubernetes-version "$kubernetes_version" "$out/broken.yaml" >/dev/null 2>&1; then
    echo "error: kubernetes-validate accepted a Deployment with an unknown field (readinessProbes): the check is not working" >&2
    exit 1
fi
printf 'services:\n  web:\n    image: nginx\n    stop_grace_period: [30]\n' >"$out/broken-compose.yaml"
if "$venv/bin/check-jsonschema" --schemafile "$repo_root/deploy/schemas/compose-spec.json" "$out/broken-compose.yaml" >/dev/null 2>&1; then
    echo "error: check-jsonschema accepted a compose file whose stop_grace_period is a list: the check is not working" >&2
    exit 1
fi
echo "manifests valid: deploy/kubernetes (Kubernetes $kubernetes_version schemas) and compose.yaml (Compose specification)"
