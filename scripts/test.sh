#!/usr/bin/env bash
# The test command: `scripts/test.sh [swift test arguments...]`, e.g. `scripts/test.sh --filter Migration`.
#
# Works on a fresh Debian machine as root with only Swift and Python: installs PostgreSQL (and
# python3-venv if `python3 -m venv` cannot make an environment), starts a throwaway cluster under
# /tmp, points the tests at it through REPRO_TEST_DATABASE_URL, builds and runs the tests, and always
# stops the cluster and removes its files afterwards (printing the server log if anything failed).
#
# After `swift test`, the steps in scripts/steps/NN-NAME.sh (fuzzer, browser, Python client, ...) run
# in name order against the same cluster: all of them on a full run (no arguments), none on a run
# with arguments, unless REPRO_STEPS names them (comma-separated NAMEs, or `all`, or `none`).
# `scripts/test.sh --steps-only` builds and runs the steps without `swift test`.
#
# REPRO_PACKAGE_DIR runs the tests of another package against the same cluster (default: this repo).
set -euo pipefail

repo_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source-path=SCRIPTDIR source=lib/postgres.sh
source "$repo_root/scripts/lib/postgres.sh"
# shellcheck source-path=SCRIPTDIR source=lib/sandbox.sh
source "$repo_root/scripts/lib/sandbox.sh"
package_dir=${REPRO_PACKAGE_DIR:-$repo_root}

# Signals a process and all its descendants (children first, so none is re-parented unseen).
kill_tree() {
    local pid=$1 signal=$2 child
    for child in $(pgrep -P "$pid" 2>/dev/null); do kill_tree "$child" "$signal"; done
    kill "-$signal" "$pid" 2>/dev/null || true
}

test_pid=
on_exit() {
    local status=$?
    # `swift test` runs in the background (for its time limit), where Ctrl-C does not reach it.
    if [[ -n $test_pid ]]; then kill_tree "$test_pid" TERM; fi
    if [[ $status -ne 0 ]]; then
        repro_pg_throwaway_stop print-log
    else
        repro_pg_throwaway_stop
    fi
    exit "$status"
}
trap on_exit EXIT
# Turn Ctrl-C and termination into a normal exit so the EXIT trap cleans up.
trap 'exit 130' INT
trap 'exit 143' TERM

repro_ensure_python_venv
repro_ensure_sandbox
echo "==> starting a throwaway PostgreSQL cluster" >&2
# No extra server options: "$@" belongs to swift test.
# shellcheck disable=SC2119
repro_pg_throwaway_start
echo "==> PostgreSQL $("$(repro_pg_bindir)/postgres" --version | awk '{print $3}') on port $REPRO_PG_PORT," \
    "socket $REPRO_PG_SOCKDIR" >&2
export REPRO_TEST_DATABASE_URL=$REPRO_PG_URL

steps_only=
if [[ ${1:-} == --steps-only ]]; then
    steps_only=1
    shift
fi
steps=${REPRO_STEPS:-}
if [[ -z $steps ]]; then
    if [[ $# -eq 0 ]]; then steps=all; else steps=none; fi
fi

cd "$package_dir"
echo "==> swift build --build-tests" >&2
swift build --build-tests
if [[ -z $steps_only ]]; then
    echo "==> swift test $*" >&2
    # Line-buffered: SwiftPM block-buffers what the test process prints when its output is a file or
    # a pipe, so the last minutes of a stuck run would otherwise never reach the log. The time limit
    # turns a hang into a failure well inside CI's 90 minutes; the harness prints "HANG:" lines
    # naming a test stuck for 10 minutes, and a full run takes about 10.
    limit=${REPRO_TEST_TIME_LIMIT_MINUTES:-45}
    stdbuf -oL -eL swift test "$@" &
    test_pid=$!
    (
        sleep $((limit * 60))
        echo "error: swift test did not finish within $limit minutes (REPRO_TEST_TIME_LIMIT_MINUTES);" \
            "look for HANG: above" >&2
        kill_tree "$test_pid" TERM
        sleep 30
        kill_tree "$test_pid" KILL
    ) &
    watchdog_pid=$!
    status=0
    wait "$test_pid" || status=$?
    kill_tree "$watchdog_pid" TERM
    test_pid=
    [[ $status -eq 0 ]] || exit "$status"
fi

# Each step is a script run with bash, in its own process, with the cluster's variables and
# REPRO_BIN (the built executables) and REPRO_STEP_DIR (a scratch folder removed afterwards).
REPRO_BIN=$(swift build --show-bin-path)
REPRO_STEP_DIR=$REPRO_PG_ROOT/steps
export REPRO_BIN REPRO_STEP_DIR
for step in "$repo_root"/scripts/steps/[0-9]*.sh; do
    [[ -e $step && $steps != none ]] || continue
    name=$(basename "$step" .sh)
    name=${name#*-}
    if [[ $steps != all && ",$steps," != *",$name,"* ]]; then continue; fi
    mkdir -p "$REPRO_STEP_DIR"
    echo "==> step $name ($step)" >&2
    started=$SECONDS
    bash "$step"
    echo "==> step $name passed in $((SECONDS - started)) s" >&2
done
