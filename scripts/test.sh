#!/usr/bin/env bash
# The test command: `scripts/test.sh [swift test arguments...]`, e.g. `scripts/test.sh --filter Migration`.
#
# Works on a fresh Debian machine as root with only Swift and Python: installs PostgreSQL (and
# python3-venv if `python3 -m venv` cannot make an environment), starts a throwaway cluster under
# /tmp, points the tests at it through REPRO_TEST_DATABASE_URL, builds and runs the tests, and always
# stops the cluster and removes its files afterwards (printing the server log if anything failed).
#
# REPRO_PACKAGE_DIR runs the tests of another package against the same cluster (default: this repo).
set -euo pipefail

repo_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source-path=SCRIPTDIR source=lib/postgres.sh
source "$repo_root/scripts/lib/postgres.sh"
# shellcheck source-path=SCRIPTDIR source=lib/sandbox.sh
source "$repo_root/scripts/lib/sandbox.sh"
package_dir=${REPRO_PACKAGE_DIR:-$repo_root}

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

cd "$package_dir"
echo "==> swift build --build-tests" >&2
swift build --build-tests
echo "==> swift test $*" >&2
swift test "$@"
