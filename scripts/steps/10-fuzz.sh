#!/usr/bin/env bash
# Step `fuzz`: schemathesis against a live coordinator, with an admin key and then a researcher key,
# every check on (`--checks all`), a bounded number of examples per operation. Fails on any 5xx, any
# response off the schema, any schema-valid request refused (beyond the allow-list with reasons in
# scripts/steps/fuzz/schemathesis.toml, each refusal's reason checked by scripts/steps/fuzz/hooks.py),
# any undeclared method not answered 405 with Allow.
#
# negative_data_rejection (a schema-violating request must be refused) is excluded, with the reason in
# scripts/steps/fuzz/schemathesis.toml; schema-violating requests are still sent and checked otherwise.
#
# Installs schemathesis (pinned) from PyPI into .build/schemathesis-venv once and reuses it.
# REPRO_FUZZ_EXAMPLES sets the examples per operation and phase (default 6: about 2 minutes in all).
set -euo pipefail

repo_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
# shellcheck source-path=SCRIPTDIR source=../lib/postgres.sh
source "$repo_root/scripts/lib/postgres.sh"
# shellcheck source-path=SCRIPTDIR source=../lib/coordinator.sh
source "$repo_root/scripts/lib/coordinator.sh"

schemathesis_version=4.32.5
venv=$repo_root/.build/schemathesis-venv
examples=${REPRO_FUZZ_EXAMPLES:-6}

if [[ ! -x $venv/bin/schemathesis ]] || [[ $("$venv/bin/schemathesis" --version 2>/dev/null) != *" $schemathesis_version" ]]; then
    echo "==> installing schemathesis $schemathesis_version into $venv" >&2
    python3 -m venv "$venv"
    timeout 600 "$venv/bin/pip" install --quiet --disable-pip-version-check "schemathesis==$schemathesis_version"
fi

trap repro_test_coordinator_stop EXIT
repro_test_coordinator_start fuzz
dir=$REPRO_STEP_DIR/fuzz
researcher_key=$(repro_test_account fuzz-researcher researcher)
admin_key=$(cat "$REPRO_ADMIN_KEY_FILE")

# The keys go to schemathesis through its environment and config, never on a command line.
status=0
for who in admin researcher; do
    key_var=${who}_key
    # The coverage phase (boundary values of every constraint) runs once, with the admin key, which every
    # admin route admits; the researcher's run fuzzes and follows links as a non-admin owner of objects.
    phases=examples,coverage,fuzzing,stateful
    [[ $who == researcher ]] && phases=examples,fuzzing,stateful
    echo "==> schemathesis as $who ($examples examples per operation and phase)" >&2
    started=$SECONDS
    if ! (
        cd "$dir"
        export REPRO_FUZZ_KEY=${!key_var}
        # The check that every 400/422 the allow-list tolerates has a listed reason, and the bundle
        # serializer (hooks.py).
        export SCHEMATHESIS_HOOKS=$repo_root/scripts/steps/fuzz/hooks.py
        # schemathesis substitutes ${REPRO_FUZZ_KEY} from its environment when it reads the file.
        { printf '%s\n\n' 'headers = { Authorization = "Bearer ${REPRO_FUZZ_KEY}" }'
            cat "$repo_root/scripts/steps/fuzz/schemathesis.toml"; } >"$dir/schemathesis-$who.toml"
        # One worker: with two threads, Hypothesis's lambda descriptions (ast.parse under a shared
        # cache) crash now and then on this CPython 3.11 with SystemError/KeyError, an error in the
        # tool that fails the step although every generated case passed.
        timeout 600 "$venv/bin/schemathesis" --config-file "$dir/schemathesis-$who.toml" run \
            "$REPRO_COORDINATOR/openapi.yaml" --url "$REPRO_COORDINATOR" \
            --checks all --exclude-checks negative_data_rejection \
            --phases "$phases" --max-examples "$examples" --seed 11 --workers 1 \
            --request-timeout 40 --no-color \
            --report junit --report-dir "$dir/report-$who" >"$dir/schemathesis-$who.log" 2>&1
    ); then
        status=1
        tail -n 200 "$dir/schemathesis-$who.log" >&2
        echo "error: schemathesis as $who found failures (full log $dir/schemathesis-$who.log," \
            "coordinator log $REPRO_COORDINATOR_LOG)" >&2
    fi
    echo "==> schemathesis as $who took $((SECONDS - started)) s" >&2
    # The generated case count and the closing line ("N passed in Ts" or the failures).
    grep -A1 -E "^Test cases:" "$dir/schemathesis-$who.log" | tail -n 1 >&2 || true
    grep -E "^=+ .* in [0-9.]+s =+$" "$dir/schemathesis-$who.log" >&2 || true
done
# A 500 is logged as "unhandled error" (ProblemMiddleware); schemathesis checks the status too.
if grep -q "unhandled error" "$REPRO_COORDINATOR_LOG"; then
    grep "unhandled error" "$REPRO_COORDINATOR_LOG" | head -20 >&2
    echo "error: the coordinator logged unhandled errors during fuzzing ($REPRO_COORDINATOR_LOG)" >&2
    status=1
fi
exit "$status"
