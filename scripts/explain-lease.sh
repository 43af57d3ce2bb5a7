#!/usr/bin/env bash
# EXPLAIN (ANALYZE, BUFFERS) of the lease statement as PostgreSQL plans it inside `lease_tasks`
# (migration 0019): the generic plan, once with the update joined to the candidates (the statement before
# decision 0022) and once with `id = ANY(ARRAY(...))` (the statement now), and the custom plan for
# comparison. Usage: `scripts/explain-lease.sh [TASKS]` (default 60000).
#
# Release repro-bench builds a TASKS-task study through the HTTP API on a fresh durable throwaway cluster and
# leases its first 100 tasks (batch 50), so the queue's head has moved as in a running study; then each
# variant is PREPAREd with the function's parameters, run twice under EXPLAIN in a transaction that is rolled
# back (the first execution builds the plan, the second shows it cached). The statement text is read from the
# migration, so what is explained is what the coordinator runs.
set -euo pipefail

repo_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source-path=SCRIPTDIR source=lib/postgres.sh
source "$repo_root/scripts/lib/postgres.sh"

tasks=${1:-60000}
[[ $tasks =~ ^[1-9][0-9]*$ ]] || { echo "usage: scripts/explain-lease.sh [TASKS]" >&2; exit 2; }

trap 'repro_pg_throwaway_stop' EXIT
echo "==> building repro-bench (release)"
(cd "$repo_root" && swift build -c release --scratch-path .build-release --product repro-bench)
# Durable settings, as issue 16's figures are measured.
repro_pg_throwaway_start -c fsync=on -c synchronous_commit=on -c full_page_writes=on
psql_db() { repro_pg_psql "$REPRO_PG_SOCKDIR" "$REPRO_PG_PORT" "$@"; }
database=explain_lease
psql_db postgres -c "CREATE DATABASE $database"
url="postgres://$REPRO_PG_SUPERUSER@localhost:$REPRO_PG_PORT/$database?host=$REPRO_PG_SOCKDIR"

echo "==> $tasks-task study, first 100 tasks leased and finished"
(cd "$repo_root" && .build-release/release/repro-bench lease --database-url "$url" --workers 2 --batch 50 \
    --tasks "$tasks" --stop-after 100 --skip-pgbench)
psql_db "$database" -c "VACUUM (ANALYZE) tasks"
worker=$(psql_db "$database" -Atc "SELECT id FROM workers ORDER BY id LIMIT 1")
echo "==> $(psql_db "$database" -Atc "SELECT count(*) FILTER (WHERE state = 'queued') || ' of ' || count(*) || ' tasks queued' FROM tasks"), \
load average $(cut -d' ' -f1-3 /proc/loadavg)"

# The three variants, written from the migration's function body.
python3 - "$repo_root/migrations/0019_lease_function.sql" >"$REPRO_PG_ROOT/explain.sql" <<'PY'
import sys
text = open(sys.argv[1]).read()
body = text.split("RETURN QUERY\n", 1)[1].split("ORDER BY n.id;", 1)[0] + "ORDER BY n.id"
array = "WHERE t.id = ANY (ARRAY(SELECT c.id FROM candidates c))"
if array not in body:
    sys.exit("explain-lease.sh: the migration's update no longer reads `" + array + "`; update this script")
joined = body.replace(array, "FROM candidates\n        WHERE t.id = candidates.id")
for name, mode, statement in [("joined_generic", "force_generic_plan", joined),
                              ("array_generic", "force_generic_plan", body),
                              ("array_custom", "force_custom_plan", body)]:
    print(f"BEGIN;\nSET LOCAL plan_cache_mode = {mode};")
    print(f"PREPARE {name}(bigint, bigint, boolean, uuid, bigint, double precision) AS\n{statement};")
    for call in ("first", "second"):
        print(f"\\echo '=== {name} ({mode}), {call} execution'")
        print(f"EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) EXECUTE {name}(0, 0, false, :'worker', 50, 60);")
    print("ROLLBACK;\nDEALLOCATE ALL;")
PY
psql_db "$database" -v worker="$worker" -f "$REPRO_PG_ROOT/explain.sql"
