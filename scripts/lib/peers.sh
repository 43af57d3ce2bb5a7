# shellcheck shell=bash
# The peers of `scripts/bench.sh peers` (issue 16): pgqueuer and an MLflow tracking server, run on the same
# PostgreSQL cluster as ReproGrid. Source this file after postgres.sh; it defines functions only. The Python
# drivers are in scripts/peers/.

# Pinned so that figures taken on different days compare the same peers; BENCH_PEERS_PACKAGES overrides.
# asyncpg is pgqueuer's driver; MLflow's PostgreSQL store needs psycopg2 (SQLAlchemy 2.1 would otherwise
# pick psycopg 3, which MLflow does not install).
REPRO_PEERS_PACKAGES=${BENCH_PEERS_PACKAGES:-pgqueuer==1.6.0 asyncpg==0.32.0 mlflow==3.17.2 psycopg2-binary==2.9.13}

# repro_peers_venv VENV
#   Creates VENV and installs $REPRO_PEERS_PACKAGES from PyPI, unless VENV already holds exactly them (a
#   marker file records what was installed), so later runs reuse it. On failure prints pip's reason.
repro_peers_venv() {
    local venv=$1 marker=$1/reprogrid-peers.txt log
    if [[ -x $venv/bin/python && -f $marker && $(cat "$marker") == "$REPRO_PEERS_PACKAGES" ]]; then
        return 0
    fi
    echo "==> installing the peers into $venv: $REPRO_PEERS_PACKAGES (once; later runs reuse it)"
    repro_ensure_python_venv
    rm -rf "$venv"
    python3 -m venv "$venv"
    log=$(mktemp)
    # shellcheck disable=SC2086 # one package specification per word
    if ! timeout 900 "$venv/bin/pip" install --disable-pip-version-check $REPRO_PEERS_PACKAGES >"$log" 2>&1; then
        echo "error: pip could not install the peers ($REPRO_PEERS_PACKAGES); its last lines:" >&2
        tail -n 30 "$log" >&2
        rm -f "$log"
        return 1
    fi
    rm -f "$log"
    echo "$REPRO_PEERS_PACKAGES" >"$marker"
}

# repro_peers_dsn DATABASE
#   Prints a libpq URL of DATABASE on the cluster of repro_pg_throwaway_start, over its Unix socket.
repro_peers_dsn() {
    echo "postgresql://$REPRO_PG_SUPERUSER@/$1?host=$REPRO_PG_SOCKDIR&port=$REPRO_PG_PORT"
}

# repro_peers_mlflow_start VENV
#   Starts `mlflow server` (its defaults: 4 workers) on a new database `mlflow` of the cluster, in its own
#   process group, and waits until /health answers (the first start migrates the schema). Sets
#   REPRO_MLFLOW_URL and REPRO_MLFLOW_PGID; its files live under $REPRO_PG_ROOT/mlflow.
repro_peers_mlflow_start() {
    local venv=$1 dir=$REPRO_PG_ROOT/mlflow port started=$SECONDS
    mkdir -p "$dir/artifacts"
    repro_pg_psql "$REPRO_PG_SOCKDIR" "$REPRO_PG_PORT" postgres -c 'CREATE DATABASE mlflow'
    port=$(repro_pg_free_port)
    REPRO_MLFLOW_URL=http://127.0.0.1:$port
    # setsid: the server forks workers and job consumers; stopping its process group stops them all.
    (cd "$dir" && exec setsid "$venv/bin/mlflow" server \
        --backend-store-uri "postgresql+psycopg2://$REPRO_PG_SUPERUSER@/mlflow?host=$REPRO_PG_SOCKDIR&port=$REPRO_PG_PORT" \
        --default-artifact-root "file://$dir/artifacts" --host 127.0.0.1 --port "$port" \
        >"$dir/server.log" 2>&1) &
    REPRO_MLFLOW_PGID=$!
    until curl -fsS "$REPRO_MLFLOW_URL/health" >/dev/null 2>&1; do
        if ! kill -0 "$REPRO_MLFLOW_PGID" 2>/dev/null || ((SECONDS - started > 300)); then
            echo "error: the MLflow server did not answer /health; its log ($dir/server.log):" >&2
            tail -n 40 "$dir/server.log" >&2
            return 1
        fi
        sleep 1
    done
    echo "==> MLflow $("$venv/bin/python" -c 'import mlflow; print(mlflow.__version__)') tracking server at \
$REPRO_MLFLOW_URL on database mlflow (ready after $((SECONDS - started)) s)"
}

# repro_peers_mlflow_stop
#   Stops the server of repro_peers_mlflow_start and its workers (its own process group). Safe to repeat.
repro_peers_mlflow_stop() {
    [[ -n ${REPRO_MLFLOW_PGID:-} ]] || return 0
    kill -TERM -- "-$REPRO_MLFLOW_PGID" 2>/dev/null || true
    for _ in $(seq 50); do
        kill -0 -- "-$REPRO_MLFLOW_PGID" 2>/dev/null || break
        sleep 0.2
    done
    kill -KILL -- "-$REPRO_MLFLOW_PGID" 2>/dev/null || true
    REPRO_MLFLOW_PGID=
}

# repro_peers_rate LOG
#   Prints the rate of a run from its "X/s: N (COUNT … in SECONDS s)" line, with two decimals (repro-bench
#   lease, pgqueuer_burndown.py and mlflow_ingest.py all print one).
repro_peers_rate() {
    awk '/^(tasks|jobs|runs)\/s:/ { gsub(/[()]/, ""); printf "%.2f\n", $3 / $6; exit }' "$1"
}

# repro_peers_sample
#   Samples the machine just before a measurement and sets REPRO_PEERS_LOAD (the one-minute load average)
#   and REPRO_PEERS_OTHERS: how many other processes were running, the mean of /proc/stat's procs_running
#   over one second less the sampler itself. The load average also counts the benchmark's own previous run,
#   which decays over a minute; the second figure tells a quiet machine from one shared with a build or a
#   test suite at that moment.
repro_peers_sample() {
    local sum=0 running
    for _ in 1 2 3 4 5 6 7 8 9 10; do
        running=$(awk '/^procs_running/ {print $2}' /proc/stat)
        sum=$((sum + running - 1))
        sleep 0.1
    done
    REPRO_PEERS_LOAD=$(cut -d' ' -f1 /proc/loadavg)
    REPRO_PEERS_OTHERS=$(awk -v s=$sum 'BEGIN {printf "%.1f", s / 10}')
    echo "load average $(cut -d' ' -f1-3 /proc/loadavg), $REPRO_PEERS_OTHERS other processes running"
}
