# shellcheck shell=bash
# A coordinator for the test steps beyond `swift test` (scripts/steps/*.sh): the debug build's
# repro-coordinator on a database of its own in the throwaway cluster that scripts/test.sh started.
# Source this file; it defines functions only.
#
#   repro_test_coordinator_start NAME [SERVE_ARG...]
#       Creates the database NAME (dropped first if it exists), writes a fresh admin key (0600) to
#       $REPRO_STEP_DIR/NAME/admin.key, starts `repro-coordinator serve` on a free port with that key
#       and any extra arguments, and waits for /readyz. Sets and exports:
#         REPRO_COORDINATOR     http://127.0.0.1:PORT
#         REPRO_ADMIN_KEY_FILE  the admin key's file (never put the key on a command line)
#         REPRO_COORDINATOR_LOG the coordinator's log
#         REPRO_COORDINATOR_PID its process id
#   repro_test_coordinator_stop
#       SIGTERM, then waits for it to exit. Safe to call more than once.
#   repro_test_account NAME ROLE
#       Prints the key of a new account, created with the admin key.
#
# Needs: REPRO_PG_URL, REPRO_PG_SOCKDIR, REPRO_PG_PORT (scripts/lib/postgres.sh), REPRO_BIN (the
# folder of the built executables) and REPRO_STEP_DIR (a scratch folder for the step).

repro_test_coordinator_start() {
    local name=$1 port dir
    shift
    dir=$REPRO_STEP_DIR/$name
    mkdir -p "$dir"
    repro_pg_psql "$REPRO_PG_SOCKDIR" "$REPRO_PG_PORT" postgres \
        -c "SET client_min_messages = warning" -c "DROP DATABASE IF EXISTS \"$name\"" -c "CREATE DATABASE \"$name\""
    (umask 077 && printf 'rg_%s\n' "$(head -c 32 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=')" >"$dir/admin.key")
    port=$(repro_pg_free_port)
    REPRO_COORDINATOR="http://127.0.0.1:$port"
    REPRO_ADMIN_KEY_FILE=$dir/admin.key
    REPRO_COORDINATOR_LOG=$dir/coordinator.log
    "$REPRO_BIN/repro-coordinator" serve --port "$port" \
        --database-url "${REPRO_PG_URL/\/postgres\?//$name?}" \
        --migrations-dir "$repo_root/migrations" --admin-key-file "$REPRO_ADMIN_KEY_FILE" \
        --signing-key "$dir/signing.key" "$@" >"$REPRO_COORDINATOR_LOG" 2>&1 &
    REPRO_COORDINATOR_PID=$!
    export REPRO_COORDINATOR REPRO_ADMIN_KEY_FILE REPRO_COORDINATOR_LOG REPRO_COORDINATOR_PID
    for _ in $(seq 1 240); do
        if curl -fsS "$REPRO_COORDINATOR/readyz" >/dev/null 2>&1; then return 0; fi
        if ! kill -0 "$REPRO_COORDINATOR_PID" 2>/dev/null; then
            cat "$REPRO_COORDINATOR_LOG" >&2
            echo "error: the coordinator of step database $name stopped during start-up (log above)" >&2
            return 1
        fi
        sleep 0.25
    done
    cat "$REPRO_COORDINATOR_LOG" >&2
    echo "error: the coordinator of step database $name was not ready after 60 s (log above)" >&2
    return 1
}

repro_test_coordinator_stop() {
    [[ -n ${REPRO_COORDINATOR_PID:-} ]] || return 0
    kill -TERM "$REPRO_COORDINATOR_PID" 2>/dev/null || true
    wait "$REPRO_COORDINATOR_PID" 2>/dev/null || true
    REPRO_COORDINATOR_PID=
}

repro_test_account() {
    REPRO_KEY=$(cat "$REPRO_ADMIN_KEY_FILE") REPRO_COORDINATOR=$REPRO_COORDINATOR \
        "$REPRO_BIN/repro" accounts create --name "$1" --role "$2" | tail -n 1
}
