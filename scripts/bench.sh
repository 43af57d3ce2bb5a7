#!/usr/bin/env bash
# The benchmarks of BENCHMARKS.md: `scripts/bench.sh [lease|report|sandbox|idle|ghost|expand|chaos|all]` (default all).
#
# Builds repro-bench in release mode (its own scratch path, .build-release), starts a throwaway
# PostgreSQL cluster under /tmp, runs the lease → result benchmark for each worker count in
# BENCH_WORKERS (default "8 32") with BENCH_TASKS tasks (default 20000) and BENCH_BATCH per lease
# (default 10) — each followed by pgbench with the lease statement on the same cluster — then the report
# benchmark, and always stops the cluster afterwards. `idle` (BENCH_IDLE_WORKERS idle long-polling
# workers, default 10000), `ghost` and `expand` (submitting a BENCH_EXPAND_TASKS-task study, default 1000000,
# and database bytes per task against the command's length) run a release repro-coordinator as its own process.
# `chaos` (not part of `all`: it is a fault run, not a speed figure) runs the outside chaos run of issue 10 with
# debug builds of repro-coordinator, repro-worker and repro: 2 coordinators, 8 real workers, 1000 tasks, while
# workers, coordinators and the cluster (`pg_ctl restart -m immediate`) are killed; BENCH_CHAOS_ARGS adds options
# to `repro-bench chaos`, e.g. "--worker-kills 0 --coordinator-kills 0 --postgres-restarts 1";
# BENCH_CHAOS_DURABLE=1 runs the cluster with fsync and synchronous_commit on.
#
# The throwaway cluster runs with fsync=off and synchronous_commit=off (see scripts/lib/postgres.sh).
# That makes commits cheaper than on a durable server, for the coordinator and for pgbench alike: the
# figures compare the two on the same cluster; they are not absolute rates of a production database.
set -euo pipefail

repo_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source-path=SCRIPTDIR source=lib/postgres.sh
source "$repo_root/scripts/lib/postgres.sh"
# shellcheck source-path=SCRIPTDIR source=lib/sandbox.sh
source "$repo_root/scripts/lib/sandbox.sh"

which=${1:-all}
case $which in
    lease | report | sandbox | idle | ghost | expand | chaos | all) ;;
    *)
        echo "usage: scripts/bench.sh [lease|report|sandbox|idle|ghost|expand|chaos|all]" >&2
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
(cd "$repo_root" && swift build -c release --scratch-path .build-release --product repro-coordinator)
bench="$repo_root/.build-release/release/repro-bench"
coordinator="$repo_root/.build-release/release/repro-coordinator"

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
    [[ -n ${REPRO_PG_ROOT:-} ]] || repro_pg_throwaway_start
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
