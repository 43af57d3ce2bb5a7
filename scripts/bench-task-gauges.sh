#!/usr/bin/env bash
# Benchmark of QueueGauges' statements (the tasks-by-state gauges, run only with --metrics-port) on a
# large tasks table. Not a test. Loads BENCH_TASKS tasks (default 1 000 000) into a throwaway cluster
# with the repository's migrations: 10 000 studies of 100 tasks, 97 % succeeded, 1.5 % failed, 1 %
# cancelled, 0.4 % queued, 0.1 % leased; then VACUUM ANALYZE, and times with pgbench (one client,
# BENCH_RUNS transactions each, after 3 warm-up runs):
#   baseline   the live statement (queued, leased, held, oldest queued, workers, stale scores), every 5 s
#   finished-default-plan  the count of succeeded, failed and cancelled tasks as the planner runs it
#              (a parallel sequential scan of the table)
#   finished-serial-seqscan  the same count as QueueGauges sends it, in one process; QueueGauges runs it
#              once every `finishedEvery` refreshes
# and prints the plan of the finished count. (An index-only variant over tasks_study_state was measured
# too, 486 ms on 1 M tasks; migration 0015 dropped that index, decision 0017.)
#   BENCH_TASKS=100000 scripts/bench-task-gauges.sh      # a quicker run
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source-path=SCRIPTDIR source=lib/postgres.sh
source scripts/lib/postgres.sh

on_exit() {
    local status=$?
    if [[ $status -ne 0 ]]; then repro_pg_throwaway_stop print-log; else repro_pg_throwaway_stop; fi
    exit "$status"
}
trap on_exit EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

tasks=${BENCH_TASKS:-1000000}
runs=${BENCH_RUNS:-50}
repro_pg_throwaway_start -c shared_buffers=512MB -c work_mem=64MB -c maintenance_work_mem=256MB
psql() { repro_pg_psql "$REPRO_PG_SOCKDIR" "$REPRO_PG_PORT" postgres "$@"; }
for migration in migrations/[0-9]*.sql; do psql -f "$migration" >/dev/null; done

started=$SECONDS
psql <<SQL
INSERT INTO accounts (name, roles) VALUES ('bench', ARRAY['researcher']);
INSERT INTO preprints (id, title) VALUES ('arXiv:2401.00001', 'bench');
INSERT INTO studies (preprint_id, owner_account_id, spec, spec_sha256, job, state, task_count, open_tasks)
SELECT 'arXiv:2401.00001', (SELECT id FROM accounts), '{}', md5(s::text), '{}', 'completed', 100, 0
FROM generate_series(1, ($tasks + 99) / 100) s;
INSERT INTO tasks (study_id, seed_group, dataset, seed, replica, max_attempts, state, lease_expires_at)
SELECT s.id, g, 'digits', g, 0, 3,
       CASE WHEN r < 4 THEN 'queued' WHEN r < 5 THEN 'leased' WHEN r < 20 THEN 'failed'
            WHEN r < 30 THEN 'cancelled' ELSE 'succeeded' END,
       CASE WHEN r >= 4 AND r < 5 THEN now() + interval '1 hour' END
FROM (SELECT id, row_number() OVER (ORDER BY id) AS n FROM studies) s,
     generate_series(0, 99) g,
     -- Per mille, spread over the table by a multiplicative hash of the task's number.
     LATERAL (SELECT (((s.n - 1) * 100 + g) * 7919) % 1000 AS r) x
WHERE (s.n - 1) * 100 + g < $tasks;
VACUUM ANALYZE tasks;
VACUUM ANALYZE studies;
SQL
echo "loaded $(psql -At -c 'SELECT count(*) FROM tasks') tasks in $((SECONDS - started)) s;" \
    "table $(psql -At -c "SELECT pg_size_pretty(pg_table_size('tasks'))")"

dir=$REPRO_PG_ROOT/bench
mkdir -p "$dir"
# The statements as QueueGauges sends them (kept in step by hand: the Swift source is the reference).
cat >"$dir/baseline.sql" <<'SQL'
SELECT
    (SELECT count(*) FROM tasks WHERE state = 'queued'),
    (SELECT count(*) FROM tasks WHERE state = 'leased'),
    (SELECT count(*) FROM tasks WHERE state = 'held'),
    (SELECT coalesce(extract(epoch FROM now() - min(updated_at)), 0)::float8
       FROM tasks WHERE state = 'queued' AND not_before <= now()),
    (SELECT count(*) FROM workers WHERE last_seen_at > now() - interval '1 minute'),
    (SELECT count(DISTINCT preprint_id) FROM stale_scores),
    (SELECT coalesce(extract(epoch FROM now() - min(since)), 0)::float8 FROM stale_scores);
SQL
cat >"$dir/finished-default-plan.sql" <<'SQL'
SELECT state, count(*) FROM tasks WHERE state IN ('succeeded', 'failed', 'cancelled') GROUP BY state;
SQL
cat >"$dir/finished-serial-seqscan.sql" <<'SQL'
BEGIN;
SET LOCAL max_parallel_workers_per_gather = 0;
SELECT state, count(*) FROM tasks WHERE state IN ('succeeded', 'failed', 'cancelled') GROUP BY state;
COMMIT;
SQL
pgbench=$(repro_pg_bindir)/pgbench
for name in ${BENCH_VARIANTS:-baseline finished-default-plan finished-serial-seqscan}; do
    "$pgbench" -h "$REPRO_PG_SOCKDIR" -p "$REPRO_PG_PORT" -U "$REPRO_PG_SUPERUSER" -n -t 3 -f "$dir/$name.sql" postgres >/dev/null
    latency=$("$pgbench" -h "$REPRO_PG_SOCKDIR" -p "$REPRO_PG_PORT" -U "$REPRO_PG_SUPERUSER" -n -t "$runs" \
        -f "$dir/$name.sql" postgres | awk '/latency average/ {print $4, $5} /latency stddev/ {print "sd", $4, $5}' | paste -sd' ')
    echo "$name: $latency over $runs runs"
done
echo "plan of the serial count:"
psql -c "SET max_parallel_workers_per_gather = 0" \
    -c "EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) $(cat "$dir/finished-default-plan.sql")"
psql -c "SELECT state, count(*) FROM tasks GROUP BY state ORDER BY state"
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg); $(nproc) cores; $(date -u '+%Y-%m-%d %H:%M UTC')"
