#!/usr/bin/env bash
# The benchmarks of BENCHMARKS.md: `scripts/bench.sh [lease|report|sandbox|idle|ghost|expand|chaos|peers|scale|all]`
# (default all).
#
# Builds repro-bench in release mode (its own scratch path, .build-release), starts a throwaway
# PostgreSQL cluster under /tmp, runs the lease → result benchmark for each worker count in
# BENCH_WORKERS (default "8 32") with BENCH_TASKS tasks (default 20000) and BENCH_BATCH per lease
# (default 10) — each followed by pgbench with the lease statement on the same cluster — then the report
# benchmark, and always stops the cluster afterwards. `idle` (BENCH_IDLE_WORKERS idle long-polling
# workers, default 10000), `ghost` and `expand` (submitting a BENCH_EXPAND_TASKS-task study, default 1000000,
# and database bytes per task against the command's length) run a release repro-coordinator as its own process;
# BENCH_DURABLE=1 runs their cluster with fsync, synchronous_commit and full_page_writes on.
# `chaos` (not part of `all`: it is a fault run, not a speed figure) runs the outside chaos run of issue 10 with
# debug builds of repro-coordinator, repro-worker and repro: 2 coordinators, 8 real workers, 1000 tasks, while
# workers, coordinators and the cluster (`pg_ctl restart -m immediate`) are killed; BENCH_CHAOS_ARGS adds options
# to `repro-bench chaos`, e.g. "--worker-kills 0 --coordinator-kills 0 --postgres-restarts 1";
# BENCH_CHAOS_DURABLE=1 runs the cluster with fsync and synchronous_commit on.
# `peers` (issue 16; not part of `all`, and CI does not run it) measures ReproGrid beside the best PostgreSQL
# queues on one cluster with durable settings (fsync, synchronous_commit and full_page_writes on; and
# autovacuum_naptime=1, see below), interleaved A/B in BENCH_PEERS_PASSES passes (default 3), and prints each
# median ratio beside its goal:
#   - `repro-bench lease --cycle` (results with the next lease request, as repro-worker does by default) at batch
#     10 and 50 against pgqueuer's burn-down at batch 10 and 100, BENCH_PEERS_TASKS no-op tasks (default 20000)
#     and BENCH_PEERS_WORKERS workers (default 8) each;
#   - result ingestion, `repro-bench lease --cycle --metrics 10` (BENCH_PEERS_INGEST_TASKS, default 10000) against an
#     MLflow tracking server on the same cluster, as many clients doing runs/create + log-batch (10 metrics) +
#     runs/update for BENCH_PEERS_INGEST_SECONDS (default 20);
#   - ReproGrid's commits per task at batch 10; then, unless BENCH_PEERS_VARIANTS=0 or the run has already
#     taken BENCH_PEERS_BUDGET seconds (default 720), one batch-10 run each of separate lease and result
#     requests and of `--cycle --unprepared`. About 7.5 minutes on a quiet machine, plus the first install and the release build.
#   pgqueuer and MLflow are installed once from PyPI (pinned, see scripts/lib/peers.sh) into .build/peers-venv
#   and reused; the drivers are in scripts/peers/. The figures are kept in .build/peers-figures-*.tsv.
# `scale` (issue 16; not part of `all`) prints issue 16's two goals of scale beside their figures: a
# BENCH_SCALE_TASKS-task study (default 1000000) submitted three times on a durable cluster (`expand`: accepted
# in < 10 s, the coordinator's RSS < 150 MB), then on a fresh durable cluster, 8 workers at batch 10: lease p99
# over 50 rounds of a 1 000-task queue against lease p99 while draining the whole BENCH_SCALE_TASKS-task queue
# (goal: at most 1.5×). Durable throughout, as issue 16 states its goals. About 15 minutes on a quiet machine.
#
# The throwaway cluster runs with fsync=off and synchronous_commit=off (see scripts/lib/postgres.sh), except for
# `peers`, `scale` and with BENCH_CHAOS_DURABLE=1.
# That makes commits cheaper than on a durable server, for the coordinator and for pgbench alike: the
# figures compare the two on the same cluster; they are not absolute rates of a production database.
set -euo pipefail

repo_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source-path=SCRIPTDIR source=lib/postgres.sh
source "$repo_root/scripts/lib/postgres.sh"
# shellcheck source-path=SCRIPTDIR source=lib/sandbox.sh
source "$repo_root/scripts/lib/sandbox.sh"
# shellcheck source-path=SCRIPTDIR source=lib/peers.sh
source "$repo_root/scripts/lib/peers.sh"

which=${1:-all}
case $which in
    lease | report | sandbox | idle | ghost | expand | chaos | peers | scale | all) ;;
    *)
        echo "usage: scripts/bench.sh [lease|report|sandbox|idle|ghost|expand|chaos|peers|scale|all]" >&2
        exit 2
        ;;
esac
workers_list=${BENCH_WORKERS:-8 32}
tasks=${BENCH_TASKS:-20000}
batch=${BENCH_BATCH:-10}
# Extra options for `repro-bench lease`, e.g. BENCH_LEASE_ARGS="--explain --auth-cache-seconds 0".
read -r -a lease_args <<<"${BENCH_LEASE_ARGS:-}"
# Extra options for `repro-bench idle`, e.g. BENCH_IDLE_ARGS="--connections-only".
read -r -a idle_args <<<"${BENCH_IDLE_ARGS:-}"
# Extra options for `repro-bench chaos`.
read -r -a chaos_args <<<"${BENCH_CHAOS_ARGS:-}"

on_exit() {
    local status=$?
    repro_peers_mlflow_stop
    if [[ $status -ne 0 ]]; then
        repro_pg_throwaway_stop print-log
    else
        repro_pg_throwaway_stop
    fi
    exit "$status"
}
trap on_exit EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

if [[ $which == chaos ]]; then
    # Debug builds: the run measures what faults cost, not speed, and the debug build is the one at hand.
    echo "==> building repro-bench, repro-coordinator, repro-worker and repro (debug)"
    for product in repro-bench repro-coordinator repro-worker repro; do
        (cd "$repo_root" && swift build --product "$product")
    done
    debug="$repo_root/.build/debug"
    echo "==> machine: $(nproc) cores, $(free -h | awk '/^Mem:/ {print $2}') RAM, $(date -u +%Y-%m-%dT%H:%MZ), \
load average $(cut -d' ' -f1-3 /proc/loadavg)"
    # The throwaway cluster runs with fsync=off and synchronous_commit=off unless BENCH_CHAOS_DURABLE=1.
    # fsync=off alone would survive an immediate restart (the server dies, not the machine), but
    # synchronous_commit=off acknowledges commits whose WAL the crash then throws away: a lease the
    # coordinator handed out vanishes, the task is leased again, and the first worker's result is
    # refused. Durable settings measure what a production server would do.
    chaos_pg_args=()
    if [[ ${BENCH_CHAOS_DURABLE:-0} == 1 ]]; then
        chaos_pg_args=(-c fsync=on -c synchronous_commit=on -c full_page_writes=on)
    fi
    echo "==> PostgreSQL settings: ${chaos_pg_args[*]:-fsync=off synchronous_commit=off (throwaway)}"
    repro_pg_throwaway_start ${chaos_pg_args[@]+"${chaos_pg_args[@]}"}
    (cd "$repo_root" && "$debug/repro-bench" chaos --maintenance-url "$REPRO_PG_URL" \
        --coordinator "$debug/repro-coordinator" --worker "$debug/repro-worker" --cli "$debug/repro" \
        --pg-data "$REPRO_PG_DATA" --pg-bin "$(repro_pg_bindir)" --pg-log "$REPRO_PG_LOG" \
        ${chaos_args[@]+"${chaos_args[@]}"})
    echo "==> load average: $(cut -d' ' -f1-3 /proc/loadavg)"
    exit 0
fi

echo "==> building repro-bench and repro-coordinator (release)"
(cd "$repo_root" && swift build -c release --scratch-path .build-release --product repro-bench)
# The peers benchmark runs the coordinator inside repro-bench.
if [[ $which != peers ]]; then
    (cd "$repo_root" && swift build -c release --scratch-path .build-release --product repro-coordinator)
fi
bench="$repo_root/.build-release/release/repro-bench"
# BENCH_COORDINATOR: another executable (e.g. a wrapper adding --database-deadline for a loaded machine).
coordinator=${BENCH_COORDINATOR:-$repo_root/.build-release/release/repro-coordinator}

echo "==> machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), \
$(free -h | awk '/^Mem:/ {print $2}') RAM, $(date -u +%Y-%m-%dT%H:%MZ)"

if [[ $which == lease || $which == all ]]; then
    # shellcheck disable=SC2119 # no extra postgres options: the throwaway defaults are what we measure
    repro_pg_throwaway_start
    echo "==> PostgreSQL $(repro_pg_psql "$REPRO_PG_SOCKDIR" "$REPRO_PG_PORT" postgres -Atc 'SHOW server_version') \
on port $REPRO_PG_PORT (fsync=off, synchronous_commit=off)"
    pgbench_bin="$(repro_pg_bindir)/pgbench"
    [[ -x $pgbench_bin ]] || pgbench_bin=pgbench
    for workers in $workers_list; do
        # The migrations folder is found from the working directory.
        (cd "$repo_root" && "$bench" lease --maintenance-url "$REPRO_PG_URL" --workers "$workers" \
            --tasks "$tasks" --batch "$batch" --pgbench "$pgbench_bin" ${lease_args[@]+"${lease_args[@]}"})
    done
fi

if [[ $which == idle || $which == ghost || $which == expand || $which == all ]]; then
    # BENCH_DURABLE=1: fsync, synchronous_commit and full_page_writes on, as issue 16's goals are stated.
    durable_args=()
    [[ ${BENCH_DURABLE:-0} == 1 ]] && durable_args=(-c fsync=on -c synchronous_commit=on -c full_page_writes=on)
    [[ -n ${REPRO_PG_ROOT:-} ]] || repro_pg_throwaway_start ${durable_args[@]+"${durable_args[@]}"}
    if [[ $which == idle || $which == all ]]; then
        (cd "$repo_root" && "$bench" idle --maintenance-url "$REPRO_PG_URL" --coordinator "$coordinator" \
            --workers "${BENCH_IDLE_WORKERS:-10000}" ${idle_args[@]+"${idle_args[@]}"})
    fi
    if [[ $which == ghost || $which == all ]]; then
        (cd "$repo_root" && "$bench" ghost --maintenance-url "$REPRO_PG_URL" --coordinator "$coordinator")
    fi
    if [[ $which == expand || $which == all ]]; then
        echo "==> load average: $(cut -d' ' -f1-3 /proc/loadavg)"
        (cd "$repo_root" && "$bench" expand --maintenance-url "$REPRO_PG_URL" --coordinator "$coordinator" \
            --tasks "${BENCH_EXPAND_TASKS:-1000000}")
        echo "==> load average: $(cut -d' ' -f1-3 /proc/loadavg)"
    fi
fi

if [[ $which == scale ]]; then
    scale_tasks=${BENCH_SCALE_TASKS:-1000000}
    scale_log=$(mktemp /tmp/reprogrid-scale.XXXXXX)
    repro_pg_throwaway_start -c fsync=on -c synchronous_commit=on -c full_page_writes=on
    echo "==> [scale] $scale_tasks-task study × 3, durable cluster, load average $(cut -d' ' -f1-3 /proc/loadavg)"
    (cd "$repo_root" && "$bench" expand --maintenance-url "$REPRO_PG_URL" --coordinator "$coordinator" \
        --tasks "$scale_tasks") | tee "$scale_log"
    # "submit 1: 7.72 s · RSS peak while submitting 54 MiB · …"
    read -r -a accepted <<<"$(awk '/^submit [0-9]+:/ {printf "%s ", $3}' "$scale_log")"
    read -r -a peaks <<<"$(awk '/^submit [0-9]+:/ {for (i = 1; i <= NF; i++) if ($i == "submitting") printf "%s ", $(i + 1)}' "$scale_log")"
    # A fresh cluster for the drains, so the three expanded studies' files and WAL weigh on neither.
    repro_pg_throwaway_stop
    repro_pg_throwaway_start -c fsync=on -c synchronous_commit=on -c full_page_writes=on
    echo "==> [scale] lease p99 (durable cluster): 1 000 tasks × 50 rounds, then $scale_tasks tasks drained whole, load average \
$(cut -d' ' -f1-3 /proc/loadavg)"
    (cd "$repo_root" && "$bench" lease --maintenance-url "$REPRO_PG_URL" --workers 8 --tasks 1000 --rounds 50 \
        --batch 10 --skip-pgbench) | tee "$scale_log"
    small_p99=$(awk '/^lease latency:/ {for (i = 1; i <= NF; i++) if ($i == "p99") print $(i + 1)}' "$scale_log")
    (cd "$repo_root" && "$bench" lease --maintenance-url "$REPRO_PG_URL" --workers 8 --tasks "$scale_tasks" \
        --batch 10 --skip-pgbench --time-limit 1500) | tee "$scale_log"
    large_p99=$(awk '/^lease latency:/ {for (i = 1; i <= NF; i++) if ($i == "p99") print $(i + 1)}' "$scale_log")
    rm -f "$scale_log"
    python3 - "$scale_tasks" "${accepted[*]}" "${peaks[*]}" "$small_p99" "$large_p99" <<'PY'
import statistics, sys
tasks, accepted, peaks, small, large = sys.argv[1], sys.argv[2].split(), sys.argv[3].split(), sys.argv[4], sys.argv[5]
def verdict(ok): return "**met**" if ok else "**not met**"
print("Goals (issue 16):")
if accepted:
    median = statistics.median(float(a) for a in accepted)
    print(f"- {tasks}-task study accepted after (median of {len(accepted)}): **{median:.2f} s** "
          f"({', '.join(accepted)} s), goal < 10 s: {verdict(median < 10)}")
if peaks:
    peak = max(float(p) for p in peaks)
    print(f"- coordinator RSS peak while submitting: **{peak:.0f} MiB** = {peak * 1.048576:.0f} MB, goal < 150 MB: "
          f"{verdict(peak * 1.048576 < 150)}")
if small and large:
    ratio = float(large) / float(small)
    print(f"- lease p99 with {tasks} queued / with 1 000 queued: {large} / {small} ms = **{ratio:.2f}×**, "
          f"goal ≤ 1.5×: {verdict(ratio <= 1.5)}")
PY
fi

if [[ $which == report || $which == all ]]; then
    "$bench" report --runs 100000 --datasets 10 --replicas 2 --repetitions 5
fi

if [[ $which == sandbox || $which == all ]]; then
    # Per-task cost of --isolation strict against none (issue 9): trivial tasks through the worker's
    # own task path, interleaved. Needs bubblewrap and, as root, the job user.
    repro_ensure_sandbox
    "$bench" sandbox --tasks "${BENCH_SANDBOX_TASKS:-100}"
    "$bench" sandbox --tasks "${BENCH_SANDBOX_TASKS:-100}" --python
fi

if [[ $which == peers ]]; then
    peers_venv=${BENCH_PEERS_VENV:-$repo_root/.build/peers-venv}
    peers_passes=${BENCH_PEERS_PASSES:-3}
    peers_tasks=${BENCH_PEERS_TASKS:-20000}
    peers_workers=${BENCH_PEERS_WORKERS:-8}
    peers_started=$SECONDS
    repro_peers_venv "$peers_venv"
    peers_python=$peers_venv/bin/python
    echo "==> peers: $("$peers_python" -m pip list --disable-pip-version-check 2>/dev/null |
        awk '$1 ~ /^(pgqueuer|asyncpg|mlflow|psycopg2-binary|SQLAlchemy|uvloop)$/ {printf "%s %s, ", $1, $2}')Python \
$("$peers_python" -c 'import platform; print(platform.python_version())')"
    # Durable: these -c options come after, and so override, the throwaway cluster's fsync=off and
    # synchronous_commit=off. autovacuum_naptime=1: every run starts on a fresh database whose queue table
    # has no planner statistics until autovacuum's next visit (by default once a minute per database), and
    # without them ReproGrid's lease plan reads and sorts every queued task (a bitmap scan, not the index
    # walk). Whether that visit fell inside a run changed ReproGrid's batch-10 rate 2× (869 tasks/s without
    # one, 1 904 after one ANALYZE), so the default made the ratio a lottery. Both sides get the
    # same setting. BENCH_PEERS_PG_ARGS adds or overrides options, e.g. "-c autovacuum_naptime=60".
    read -r -a peers_pg_args <<<"${BENCH_PEERS_PG_ARGS:-}"
    repro_pg_throwaway_start -c fsync=on -c synchronous_commit=on -c full_page_writes=on -c autovacuum_naptime=1 \
        ${peers_pg_args[@]+"${peers_pg_args[@]}"}
    echo "==> PostgreSQL $(repro_pg_psql "$REPRO_PG_SOCKDIR" "$REPRO_PG_PORT" postgres -Atc 'SHOW server_version') \
on port $REPRO_PG_PORT, $(repro_pg_psql "$REPRO_PG_SOCKDIR" "$REPRO_PG_PORT" postgres -Atc \
        "SELECT string_agg(name || '=' || setting, ', ' ORDER BY name) FROM pg_settings
         WHERE name IN ('fsync', 'synchronous_commit', 'full_page_writes', 'autovacuum_naptime')")"
    mkdir -p "$repo_root/.build"
    peers_figures=$repo_root/.build/peers-figures-$(date -u +%Y%m%dT%H%MZ).tsv
    : >"$peers_figures"
    peers_log=$REPRO_PG_ROOT/run.log

    # peers_record MEASURE SIDE PASS VALUE: one line of the figures file (see scripts/peers/summary.py), with
    # the machine's state sampled by the last peers_sample.
    peers_record() {
        printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$@" "$REPRO_PEERS_LOAD" "$REPRO_PEERS_OTHERS" >>"$peers_figures"
    }

    # peers_sample LABEL: samples the machine (repro_peers_sample) and announces the measurement.
    peers_sample() {
        local state
        repro_peers_sample >"$peers_log"
        state=$(cat "$peers_log")
        echo "==> $1, $state"
    }

    # peers_reprogrid MEASURE SIDE PASS REPRO_BENCH_LEASE_OPTION...
    peers_reprogrid() {
        local measure=$1 side=$2 pass=$3
        shift 3
        peers_sample "[$measure, pass $pass] ReproGrid $*"
        # The migrations folder is found from the working directory.
        (cd "$repo_root" && "$bench" lease --maintenance-url "$REPRO_PG_URL" --workers "$peers_workers" \
            --skip-pgbench --time-limit 300 "$@") | tee "$peers_log"
        peers_record "$measure" "$side" "$pass" "$(repro_peers_rate "$peers_log")"
        if [[ $measure == batch10 ]]; then
            peers_record commits reprogrid "$pass" "$(awk '/^commits\/task:/ {print $2}' "$peers_log")"
        fi
    }

    # peers_pgqueuer MEASURE PASS BATCH: burns down a fresh database, dropped after.
    peers_pgqueuer() {
        local measure=$1 pass=$2 batch=$3 database=pgqueuer_$1_$2
        repro_pg_psql "$REPRO_PG_SOCKDIR" "$REPRO_PG_PORT" postgres -c "CREATE DATABASE $database"
        peers_sample "[$measure, pass $pass] pgqueuer batch $batch"
        timeout 300 "$peers_python" "$repo_root/scripts/peers/pgqueuer_burndown.py" \
            --dsn "$(repro_peers_dsn "$database")" --jobs "$peers_tasks" --workers "$peers_workers" \
            --batch "$batch" | tee "$peers_log"
        repro_pg_psql "$REPRO_PG_SOCKDIR" "$REPRO_PG_PORT" postgres -c "DROP DATABASE $database"
        peers_record "$measure" pgqueuer "$pass" "$(repro_peers_rate "$peers_log")"
        peers_record commits "pgqueuer$batch" "$pass" "$(awk '/^commits\/job:/ {print $2}' "$peers_log")"
    }

    # peers_mlflow PASS
    peers_mlflow() {
        local pass=$1
        peers_sample "[ingest, pass $pass] MLflow"
        timeout 300 "$peers_python" "$repo_root/scripts/peers/mlflow_ingest.py" --url "$REPRO_MLFLOW_URL" \
            --clients "$peers_workers" --seconds "${BENCH_PEERS_INGEST_SECONDS:-20}" --metrics 10 | tee "$peers_log"
        peers_record ingest mlflow "$pass" "$(repro_peers_rate "$peers_log")"
    }

    # peers_pair PASS A B: runs the two commands (quoted strings) back to back, A first in odd passes.
    peers_pair() {
        if (($1 % 2 == 1)); then
            eval "$2"
            eval "$3"
        else
            eval "$3"
            eval "$2"
        fi
    }

    # Queues: the sides of a pass run back to back, ReproGrid first in odd passes and second in even ones.
    for pass in $(seq "$peers_passes"); do
        peers_pair "$pass" "peers_reprogrid batch10 reprogrid $pass --tasks $peers_tasks --batch 10 --cycle" \
            "peers_pgqueuer batch10 $pass 10"
        peers_pair "$pass" "peers_reprogrid batch50 reprogrid $pass --tasks $peers_tasks --batch 50 --cycle" \
            "peers_pgqueuer batch50 $pass 100"
    done

    # Ingestion: the MLflow server runs only for this part, so its idle workers stay out of the queue runs.
    repro_peers_mlflow_start "$peers_venv"
    # /health answers before the server is done starting: its job consumers (seven processes) start after
    # it, and its workers import lazily. Measured right away, a trial recorded 5 runs/s, against 22–31 once
    # settled. So it settles, then runs an unrecorded warm-up pass.
    sleep "${BENCH_PEERS_MLFLOW_SETTLE:-20}"
    echo "==> MLflow warm-up (not recorded)"
    timeout 120 "$peers_python" "$repo_root/scripts/peers/mlflow_ingest.py" --url "$REPRO_MLFLOW_URL" \
        --clients "$peers_workers" --seconds 5 --metrics 10
    for pass in $(seq "$peers_passes"); do
        peers_pair "$pass" \
            "peers_reprogrid ingest reprogrid $pass --tasks ${BENCH_PEERS_INGEST_TASKS:-10000} --batch 10 --metrics 10 --cycle" \
            "peers_mlflow $pass"
    done
    repro_peers_mlflow_stop

    # The figures above use the cycle request (results with the next lease), as repro-worker does by default.
    # These variants: one batch-10 run each of the separate lease and result requests (what `repro-worker
    # --separate-results` does) and of the cycle with the lease statement unprepared.
    # Only if time allows: the whole run should stay well under 20 minutes (about 7.5 on a quiet machine).
    if [[ ${BENCH_PEERS_VARIANTS:-1} == 1 ]] && ((SECONDS - peers_started > ${BENCH_PEERS_BUDGET:-720})); then
        echo "==> skipping the variant runs: $((SECONDS - peers_started)) s already, more than \
BENCH_PEERS_BUDGET=${BENCH_PEERS_BUDGET:-720} s"
    elif [[ ${BENCH_PEERS_VARIANTS:-1} == 1 ]]; then
        peers_reprogrid variant "separate lease and result requests" 1 --tasks "$peers_tasks" --batch 10
        peers_reprogrid variant "--cycle --unprepared (queue statements parsed per call; the lease function keeps its plan)" 1 --tasks "$peers_tasks" \
            --batch 10 --cycle --unprepared
    fi

    echo "==> peers: $((SECONDS - peers_started)) s, load average $(cut -d' ' -f1-3 /proc/loadavg); figures in $peers_figures"
    python3 "$repo_root/scripts/peers/summary.py" "$peers_figures"
fi
