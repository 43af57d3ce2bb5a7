#!/usr/bin/env bash
# Python client (clients/python) and Prometheus metrics, against a live coordinator and a real worker.
#
# 1. A fresh install, as a user would do it: `pip install clients/python` into a new, empty virtualenv
#    must resolve and install the package's own dependencies (httpx) from PyPI (pip's cache may serve
#    them), import, and ship py.typed.
# 2. The test virtualenv under .build/ (reused across runs, pinned test tools, matplotlib for the README
#    example: a test tool, never a dependency of the package) gets the client from the repository path
#    (not editable), and mypy --strict checks the package's source and that the installed package is
#    typed (PEP 561: without py.typed, mypy refuses to use it).
# 3. A coordinator with --metrics-port and a `repro-worker --isolation none` (the tiny test study runs
#    `python3 job.py`: nothing to sandbox against, and no bubblewrap needed; it offers 4 GiB, so studies
#    asking for more are left to the tests' own workers; its virtualenvs are kept in
#    .build/python-step-worker-cache, as the README example's scikit-learn takes a while), and pytest: the client's tests, the README's
#    notebook example (tests/test_readme_example.py, extracted from README.md), the metrics tests that
#    scrape both servers with prometheus_client's parser, check counters and gauges move, and check
#    every metric the Grafana dashboard (coordinator/grafana/reprogrid.json) queries exists.
set -euo pipefail

repo_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
# shellcheck source-path=SCRIPTDIR source=../lib/postgres.sh
source "$repo_root/scripts/lib/postgres.sh"
# shellcheck source-path=SCRIPTDIR source=../lib/coordinator.sh
source "$repo_root/scripts/lib/coordinator.sh"
dir=$REPRO_STEP_DIR/python
mkdir -p "$dir"

# 1. Fresh install into an empty virtualenv, dependencies resolved by pip.
echo "==> python: pip install clients/python into a new virtualenv" >&2
python3 -m venv "$dir/fresh-venv"
timeout 300 "$dir/fresh-venv/bin/pip" install --disable-pip-version-check "$repo_root/clients/python" \
    >"$dir/fresh-install.log" 2>&1 || { cat "$dir/fresh-install.log" >&2; exit 1; }
installed=$(grep '^Successfully installed' "$dir/fresh-install.log" || true)
if [[ $installed != *" httpx-"* || $installed != *" reprogrid-"* ]]; then
    cat "$dir/fresh-install.log" >&2
    echo "error: pip install clients/python did not install reprogrid together with its dependency httpx" >&2
    exit 1
fi
echo "fresh install: ${installed#Successfully installed }"
"$dir/fresh-venv/bin/python" - <<'PY'
import importlib.metadata, importlib.resources
import reprogrid
from reprogrid import Client

Client("http://127.0.0.1:9", "rg_unused").close()
assert importlib.resources.files("reprogrid").joinpath("py.typed").is_file(), "py.typed is not in the installed package"
files = [str(f) for f in importlib.metadata.files("reprogrid") or []]
assert "reprogrid/py.typed" in files, f"py.typed is not in the distribution's RECORD: {files}"
requires = importlib.metadata.requires("reprogrid") or []
assert any(r.startswith("httpx") for r in requires), requires
print(f"fresh install imports reprogrid {reprogrid.__version__}; py.typed shipped; requires {requires}")
PY

# 2. The test virtualenv. Pinned: what the tests were written against.
venv=$repo_root/.build/python-client-venv
pins=(httpx==0.28.1 pytest==8.3.4 prometheus_client==0.21.1 pandas==2.2.3 tqdm==4.67.1 mypy==2.4.1 matplotlib==3.11.2)
if ! "$venv/bin/python" -c 'import httpx, pytest, prometheus_client, pandas, tqdm, mypy, matplotlib' 2>/dev/null; then
    echo "==> python: creating $venv" >&2
    rm -rf "$venv"
    python3 -m venv "$venv"
    timeout 600 "$venv/bin/pip" install -q --disable-pip-version-check "${pins[@]}"
fi
# The client itself, from the repository path (not editable): the tests import what a user installs.
timeout 300 "$venv/bin/pip" install -q --disable-pip-version-check --no-deps --force-reinstall "$repo_root/clients/python"

# Types: the source under the package's own mypy settings (pyproject.toml: strict), then a consumer of
# the installed package, which mypy only type-checks against it when py.typed ships.
(cd "$repo_root/clients/python" && timeout 300 "$venv/bin/mypy" --strict --cache-dir "$repo_root/.build/mypy-cache" src/reprogrid)
cat >"$dir/consumer.py" <<'PY'
from reprogrid import Client, Study

def first_study(client: Client) -> Study:
    return client.submit({"preprint": {"id": "arXiv:2501.00001", "title": "t"}})

count: int = len(Client("http://127.0.0.1:9").scores())
PY
(cd "$dir" && timeout 300 "$venv/bin/mypy" --strict --no-incremental consumer.py)
# The check can fail: the same consumer against the package installed without py.typed is refused.
python3 -m venv --without-pip "$dir/untyped-venv"
site=$("$dir/untyped-venv/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
cp -r "$("$venv/bin/python" -c 'import os, reprogrid; print(os.path.dirname(reprogrid.__file__))')" "$site/reprogrid"
rm "$site/reprogrid/py.typed"
(cd "$dir" && timeout 300 "$venv/bin/mypy" --strict --no-incremental --python-executable "$dir/untyped-venv/bin/python" \
    consumer.py >"$dir/untyped-mypy.log" 2>&1) || true
if ! grep -q 'missing library stubs or py.typed marker' "$dir/untyped-mypy.log"; then
    cat "$dir/untyped-mypy.log" >&2
    echo "error: mypy accepted the client installed without py.typed: the typed-package check is not working" >&2
    exit 1
fi

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

(umask 077 && repro_test_account py-volunteer volunteer >"$dir/volunteer.key")
worker_metrics_port=$(repro_pg_free_port)
export REPRO_WORKER_METRICS_URL="http://127.0.0.1:$worker_metrics_port/metrics"
"$REPRO_BIN/repro-worker" --coordinator "$REPRO_COORDINATOR" --token-file "$dir/volunteer.key" \
    --work-dir "$dir/worker" --isolation none --lease-wait 2 --name py-worker --memory-mib 4096 \
    --cache-dir "$repo_root/.build/python-step-worker-cache" \
    --metrics-port "$worker_metrics_port" --log-format json >"$dir/worker.log" 2>&1 &
worker_pid=$!

cd "$repo_root/clients/python"
# Bounded: the first run on a machine also builds the README example's scikit-learn virtualenv.
timeout 1500 "$venv/bin/python" -m pytest -q -p no:cacheprovider --durations=5 tests
