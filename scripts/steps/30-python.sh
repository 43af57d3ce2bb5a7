#!/usr/bin/env bash
# Python client (clients/python) and Prometheus metrics, against a live coordinator and a real worker.
#
# Installs the client from its path into a virtualenv under .build/ (reused across runs, with pinned
# test tools), starts a coordinator with --metrics-port and a `repro-worker --isolation none` (the tiny
# test study runs `python3 job.py`: nothing to sandbox against, and no bubblewrap needed), and runs
# pytest: the client's tests, then the metrics tests that scrape both servers, parse the exposition
# with prometheus_client's parser, check counters move after a study, and check every metric the
# Grafana dashboard (coordinator/grafana/reprogrid.json) queries exists.
set -euo pipefail

repo_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
# shellcheck source-path=SCRIPTDIR source=../lib/postgres.sh
source "$repo_root/scripts/lib/postgres.sh"
# shellcheck source-path=SCRIPTDIR source=../lib/coordinator.sh
source "$repo_root/scripts/lib/coordinator.sh"

venv=$repo_root/.build/python-client-venv
# Pinned: what the tests were written against. httpx is the client's only dependency.
pins=(httpx==0.28.1 pytest==8.3.4 prometheus_client==0.21.1 pandas==2.2.3 tqdm==4.67.1)
if ! "$venv/bin/python" -c 'import httpx, pytest, prometheus_client, pandas, tqdm' 2>/dev/null; then
    echo "==> python: creating $venv" >&2
    rm -rf "$venv"
    python3 -m venv "$venv"
    timeout 600 "$venv/bin/pip" install -q --disable-pip-version-check "${pins[@]}"
fi
# The client itself, from the repository path as a user would install it (not editable): a missing
# file in the package (py.typed, a module) fails here, not on a user's machine.
timeout 300 "$venv/bin/pip" install -q --disable-pip-version-check --no-deps --force-reinstall "$repo_root/clients/python"

worker_pid=
cleanup() {
    local status=$?
    if [[ -n $worker_pid ]]; then
        kill -TERM "$worker_pid" 2>/dev/null || true
        wait "$worker_pid" 2>/dev/null || true
    fi
    repro_test_coordinator_stop
    if [[ $status -ne 0 ]]; then
        echo "error: step python failed; coordinator log ${REPRO_COORDINATOR_LOG:-(not started)}, worker log $REPRO_STEP_DIR/python/worker.log" >&2
        tail -n 40 "$REPRO_STEP_DIR/python/worker.log" >&2 2>/dev/null || true
    fi
}
trap cleanup EXIT

metrics_port=$(repro_pg_free_port)
repro_test_coordinator_start python --metrics-port "$metrics_port" --reaper-interval 1
export REPRO_METRICS_URL="http://127.0.0.1:$metrics_port/metrics"

dir=$REPRO_STEP_DIR/python
(umask 077 && repro_test_account py-volunteer volunteer >"$dir/volunteer.key")
worker_metrics_port=$(repro_pg_free_port)
export REPRO_WORKER_METRICS_URL="http://127.0.0.1:$worker_metrics_port/metrics"
"$REPRO_BIN/repro-worker" --coordinator "$REPRO_COORDINATOR" --token-file "$dir/volunteer.key" \
    --work-dir "$dir/worker" --isolation none --lease-wait 2 --name py-worker \
    --metrics-port "$worker_metrics_port" --log-format json >"$dir/worker.log" 2>&1 &
worker_pid=$!

cd "$repo_root/clients/python"
timeout 900 "$venv/bin/python" -m pytest -q -p no:cacheprovider tests
