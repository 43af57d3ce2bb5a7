#!/usr/bin/env bash
# The Slurm template (worker/slurm-worker.sbatch) run as two array tasks at once, without Slurm: the
# script itself, with the variables Slurm would set (SLURM_ARRAY_TASK_ID 0 and 1, one CPU each), both
# pointed at one shared cache directory and a live coordinator. A study of two seeds whose job needs a
# Python environment is submitted once both workers poll; each worker leases one task (one slot each;
# the job sleeps, so neither can take both), so both need the same virtualenv at the same moment.
#
# Passes when both tasks succeed on the two different workers, inside a virtualenv, and the shared
# cache holds exactly one virtualenv, built once ("building virtualenv" once across both logs): the
# second array task waited for the first one's file lock and reused its build. Separate caches, or a
# lock that does not hold across processes, would build it twice.
set -euo pipefail

repo_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
# shellcheck source-path=SCRIPTDIR source=../lib/postgres.sh
source "$repo_root/scripts/lib/postgres.sh"
# shellcheck source-path=SCRIPTDIR source=../lib/coordinator.sh
source "$repo_root/scripts/lib/coordinator.sh"

dir=$REPRO_STEP_DIR/slurm
worker_pids=()
cleanup() {
    local status=$? pid
    for pid in "${worker_pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
    for pid in "${worker_pids[@]}"; do wait "$pid" 2>/dev/null || true; done
    repro_test_coordinator_stop
    if [[ $status -ne 0 ]]; then
        echo "error: step slurm failed; coordinator log ${REPRO_COORDINATOR_LOG:-(not started)}," \
            "array task logs $dir/array-0.log and $dir/array-1.log (last lines below)" >&2
        tail -n 20 "$dir"/array-*.log >&2 2>/dev/null || true
    fi
}
trap cleanup EXIT

repro_test_coordinator_start slurm
admin_key=$(cat "$REPRO_ADMIN_KEY_FILE")
api() { # METHOD PATH [JSON]: the admin's call, the answer on stdout; fails on a non-2xx answer.
    curl -fsS -X "$1" -H "Authorization: Bearer $admin_key" -H 'Content-Type: application/json' \
        ${3:+--data "$3"} "$REPRO_COORDINATOR$2"
}
json() { python3 -c "import json, sys; d = json.load(sys.stdin); print($1)"; }

(umask 077 && repro_test_account slurm-volunteer volunteer >"$dir/volunteer.key")
researcher=$(api POST /v1/accounts '{"name": "slurm-researcher", "roles": ["researcher"]}')
researcher_key=$(json 'd["key"]' <<<"$researcher")
api POST "/v1/accounts/$(json 'd["account_id"]' <<<"$researcher")/trust" '{"trusted": true}' >/dev/null

# The two array tasks: the template unchanged, `repro-worker` found on PATH as on a cluster node.
for index in 0 1; do
    PATH=$REPRO_BIN:$PATH REPRO_TOKEN_FILE=$dir/volunteer.key REPRO_WORK_ROOT=$dir/work \
        REPRO_CACHE_DIR=$dir/cache SLURM_JOB_ID=$((4242 + index)) SLURM_ARRAY_JOB_ID=4242 \
        SLURM_ARRAY_TASK_ID=$index SLURM_CPUS_PER_TASK=1 SLURM_MEM_PER_NODE=2048 \
        bash "$repo_root/worker/slurm-worker.sbatch" >"$dir/array-$index.log" 2>&1 &
    worker_pids+=($!)
done
deadline=$((SECONDS + 120))
until [[ $(api GET /v1/workers | json 'len(d["workers"])') -eq 2 ]]; do
    for pid in "${worker_pids[@]}"; do
        kill -0 "$pid" 2>/dev/null || { echo "error: an array task stopped before registering" >&2; exit 1; }
    done
    ((SECONDS < deadline)) || { echo "error: the two array tasks did not both register within 120 s" >&2; exit 1; }
    sleep 0.5
done
sleep 1 # both are in their first long-poll now

study=$dir/study
mkdir -p "$study"
cat >"$study/job.py" <<'PY'
# Runs in the virtualenv the worker built from requirements.txt (a venv's prefix differs from its base),
# and long enough that the worker holding the other task cannot take this one too.
import sys
import time

if sys.prefix == sys.base_prefix:
    sys.exit(f"not inside a virtualenv: {sys.prefix}")
time.sleep(4)
print("REPRO_METRIC accuracy=0.9")
PY
cat >"$study/requirements.txt" <<'TXT'
# Nothing to install: the environment itself is what the two array tasks share.
TXT
cat >"$study/study.yaml" <<'YAML'
preprint: {id: "arXiv:2501.00045", title: "Two Slurm array tasks, one virtualenv cache"}
code: {bundle: .}
environment: {python: {requirements: requirements.txt}}
run:
  command: ["python3", "job.py", "--seed", "{seed}", "--dataset", "{dataset}"]
  timeout: 2m
  resources: {cpus: 1, memory: 512MiB, gpus: 0}
matrix: {seeds: {from: 0, count: 2}, datasets: [digits], replicas: 1}
claims:
  - {metric: accuracy, dataset: digits, value: 0.9, direction: higher, tolerance: 0.01}
YAML
study_id=$(REPRO_KEY=$researcher_key "$REPRO_BIN/repro" submit "$study/study.yaml" | tail -n 1)

deadline=$((SECONDS + 300))
until [[ $(api GET "/v1/studies/$study_id" | json 'd["state"]') == completed ]]; do
    ((SECONDS < deadline)) || { echo "error: study $study_id not completed within 300 s" >&2; exit 1; }
    sleep 1
done

api GET "/v1/studies/$study_id/runs" | python3 -c '
import json, sys
runs = [run for run in json.load(sys.stdin)["runs"] if run["accepted"]]
workers = {run["worker_id"] for run in runs}
if len(runs) != 2 or len(workers) != 2:
    sys.exit(f"error: expected 2 accepted runs on 2 different workers, got {len(runs)} on {len(workers)}: {runs}")
print(f"both tasks succeeded, on two workers: {sorted(workers)}")
'
venvs=$(find "$dir/cache/venvs" -mindepth 1 -maxdepth 1 -type d | wc -l)
builds=$(cat "$dir"/array-*.log | grep -c "building virtualenv" || true)
if [[ $venvs -ne 1 || $builds -ne 1 ]]; then
    echo "error: the shared cache holds $venvs virtualenvs, built $builds times across the two array tasks (want 1 and 1)" >&2
    exit 1
fi
echo "slurm: two concurrent array tasks shared one cache; the virtualenv was built once and used by both"
