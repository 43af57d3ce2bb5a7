#!/usr/bin/env bash
# Benchmark of the funders' queries and the feedback summary (issue 5): loads 100 000 preprints and
# 1 000 000 feedback items into a throwaway PostgreSQL cluster, serves a release-build coordinator
# and prints p50/p99 latencies. Not a test. Sizes can be lowered for a quick run:
#   BENCH_PREPRINTS=10000 BENCH_FEEDBACK=100000 scripts/bench-queries.sh
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source-path=SCRIPTDIR source=lib/postgres.sh
source scripts/lib/postgres.sh

# Installed before the cluster starts, so a failed or interrupted start is cleaned up too; on failure
# the server log is printed.
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

repro_pg_throwaway_start -c shared_buffers=512MB -c work_mem=64MB -c maintenance_work_mem=256MB

swift build -c release --scratch-path .build-release --product repro-bench-queries
BENCH_PORT=${BENCH_PORT:-$(repro_pg_free_port)} REPRO_MIGRATIONS_DIR="$PWD/migrations" \
    .build-release/release/repro-bench-queries
