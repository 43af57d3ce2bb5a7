#!/usr/bin/env bash
# Interleaved A/B of two repro-bench binaries (or one binary and two migration folders) on one durable
# throwaway cluster: `scripts/bench-ab.sh BIN_A BIN_B [PASSES] [TASKS]` (defaults 4 and 60000). A runs first in
# odd passes, B in even ones; each run is `repro-bench lease --cycle --workers 8 --batch $BENCH_BATCH (50)
# --skip-pgbench` in a fresh database. BENCH_AB_MIGRATIONS_B=DIR runs B with REPRO_MIGRATIONS_DIR=DIR (a copy
# of migrations/ with a change), for schema A/Bs with one binary. Prints one line per run: pass, side, tasks/s,
# load average. How BENCHMARKS.md's per-change A/Bs of issue 16 were taken (decision 0021).
set -euo pipefail
repo_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source-path=SCRIPTDIR source=lib/postgres.sh
source "$repo_root/scripts/lib/postgres.sh"

if [[ $# -lt 2 ]]; then
    echo "usage: scripts/bench-ab.sh BIN_A BIN_B [PASSES] [TASKS]" >&2
    exit 2
fi
bin_a=$1 bin_b=$2 passes=${3:-4} tasks=${4:-60000}
for bin in "$bin_a" "$bin_b"; do
    [[ -x $bin ]] || { echo "error: $bin is not an executable repro-bench (build one with swift build -c release --scratch-path .build-release --product repro-bench)" >&2; exit 2; }
done

trap 'repro_pg_throwaway_stop' EXIT
repro_pg_throwaway_start -c fsync=on -c synchronous_commit=on -c full_page_writes=on -c autovacuum_naptime=1

run() {
    local bin=$1 side=$2 pass=$3 rate
    local -a env=()
    [[ $side == B && -n ${BENCH_AB_MIGRATIONS_B:-} ]] && env=(REPRO_MIGRATIONS_DIR="$BENCH_AB_MIGRATIONS_B")
    rate=$(cd "$repo_root" && env ${env[@]+"${env[@]}"} "$bin" lease --maintenance-url "$REPRO_PG_URL" --workers 8 \
        --tasks "$tasks" --batch "${BENCH_BATCH:-50}" --cycle --skip-pgbench 2>/dev/null | awk '/^tasks\/s/ {print $2}')
    echo "pass $pass $side ${rate:-failed} load $(cut -d' ' -f1 /proc/loadavg)"
}

for pass in $(seq "$passes"); do
    if ((pass % 2 == 1)); then
        run "$bin_a" A "$pass"
        run "$bin_b" B "$pass"
    else
        run "$bin_b" B "$pass"
        run "$bin_a" A "$pass"
    fi
done
