#!/usr/bin/env bash
# The main job: a real replication study end to end on an embedded local PostgreSQL.
#
#   scripts/demo.sh [--serve] [SPEC]
#
# With --serve the coordinator keeps running after the demo (workers stopped) until Ctrl-C, so the
# dashboard's study and preprint pages it prints can be opened in a browser.
#
# Installs what is missing (PostgreSQL server, python3-venv), builds the three executables,
# starts a coordinator on its own PostgreSQL cluster, creates a researcher and a volunteer
# account, starts two workers, submits worker/examples/sklearn-mlp/study.yaml (real scikit-learn
# training on 3 datasets with adaptive seeds: 3 per dataset, 3 more while a claim is undecided, at
# most 9), shows a live progress bar, prints the report (each claim's looks and why it stopped) and
# the preprint's score, and stops everything it started. Data stays in $REPRO_DEMO_DIR (default
# /var/lib/reprogrid/demo as root, ~/.local/share/reprogrid/demo otherwise); delete it to start over.
# A second run reuses the accounts, so the identical study is shown rather than trained and counted
# again; REPRO_DEMO_NEW=1 trains it again as a new study.
set -euo pipefail

repo_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source-path=SCRIPTDIR source=lib/postgres.sh
source "$repo_root/scripts/lib/postgres.sh"
# shellcheck source-path=SCRIPTDIR source=lib/sandbox.sh
source "$repo_root/scripts/lib/sandbox.sh"
cd "$repo_root"

if [[ $(id -u) -eq 0 ]]; then
    demo_dir=${REPRO_DEMO_DIR:-/var/lib/reprogrid/demo}
else
    demo_dir=${REPRO_DEMO_DIR:-$HOME/.local/share/reprogrid/demo}
fi
serve=
if [[ ${1:-} == --serve ]]; then
    serve=1
    shift
fi
spec=${1:-worker/examples/sklearn-mlp/study.yaml}
mkdir -p "$demo_dir"
chmod 0755 "$demo_dir"

step() { printf '\n\033[1m==> %s\033[0m\n' "$*" >&2; }

step "checking the machine (PostgreSQL server binaries, python3 venv, bubblewrap for job sandboxes)"
repro_pg_ensure_installed >/dev/null
repro_ensure_python_venv
repro_ensure_sandbox
command -v curl >/dev/null || repro_apt_install curl

step "building (first build: about 5 minutes)"
# With the tests, like scripts/test.sh: both commands then share one build instead of recompiling
# every module with and without -enable-testing in turn.
swift build --build-tests
bin=$(swift build --show-bin-path)

# pids[0] is the coordinator, the rest are workers.
pids=()
cleanup() {
    local status=$?
    if [[ ${#pids[@]} -gt 0 ]]; then
        # Workers first, while the coordinator still answers: they hand back interrupted tasks and
        # deliver their spooled results. Then the coordinator.
        local workers=("${pids[@]:1}")
        if [[ ${#workers[@]} -gt 0 ]]; then
            step "stopping the workers"
            for pid in "${workers[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
            for pid in "${workers[@]}"; do wait "$pid" 2>/dev/null || true; done
        fi
        step "stopping the coordinator"
        kill -TERM "${pids[0]}" 2>/dev/null || true
        wait "${pids[0]}" 2>/dev/null || true
    fi
    if [[ $status -ne 0 ]]; then
        echo "The demo failed; logs are in $demo_dir/*.log" >&2
    fi
    exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# The admin key is made once and kept (0600) so a second run finds the same admin account. The
# coordinator reads it from that file: on its command line every local process could read it.
if [[ ! -s $demo_dir/admin.key ]]; then
    (umask 077 && printf 'rg_%s\n' "$(head -c 32 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=')" >"$demo_dir/admin.key")
fi
admin_key=$(cat "$demo_dir/admin.key")
port=$(repro_pg_free_port)
export REPRO_COORDINATOR="http://127.0.0.1:$port"

step "starting the coordinator on $REPRO_COORDINATOR (embedded PostgreSQL in $demo_dir/postgres)"
"$bin/repro-coordinator" serve --port "$port" --data-dir "$demo_dir/postgres" \
    --migrations-dir "$repo_root/migrations" --admin-key-file "$demo_dir/admin.key" --lease-ttl 30 --reaper-interval 2 \
    >"$demo_dir/coordinator.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 120); do
    if curl -fsS "$REPRO_COORDINATOR/readyz" >/dev/null 2>&1; then break; fi
    if ! kill -0 "${pids[0]}" 2>/dev/null; then
        cat "$demo_dir/coordinator.log" >&2
        echo "The coordinator stopped during start-up (log above)." >&2
        exit 1
    fi
    sleep 0.5
done
curl -fsS "$REPRO_COORDINATOR/readyz" >/dev/null

# demo_key NAME ROLE: the key of the demo account NAME, created on the first run and kept (0600) in
# $demo_dir/keys, so a second run acts as the same people: the researcher's identical resubmission then
# returns the study already there instead of running (and counting) it twice.
demo_key() {
    local file=$demo_dir/keys/$1.key
    if [[ ! -s $file ]]; then
        (umask 077 && mkdir -p "$demo_dir/keys" &&
            REPRO_KEY=$admin_key "$bin/repro" accounts create --name "$1" --role "$2" >"$file.new" &&
            mv "$file.new" "$file")
    fi
    cat "$file"
}

step "creating (or reusing) a researcher (not trusted: a moderator reviews their studies), a moderator and a volunteer account"
researcher_key=$(demo_key demo-researcher researcher)
moderator_key=$(demo_key demo-moderator moderator)
volunteer_key=$(demo_key demo-volunteer volunteer)

step "starting two workers, each job in a bubblewrap sandbox (the first task builds the scikit-learn virtualenv: about a minute)"
for name in alpha beta; do
    # The key through the environment, not the command line, where every user could read it.
    REPRO_TOKEN=$volunteer_key "$bin/repro-worker" --isolation strict --name "demo-$name" \
        --work-dir "$demo_dir/worker-$name" --cache-dir "$demo_dir/cache" --lease-wait 10 \
        >"$demo_dir/worker-$name.log" 2>&1 &
    pids+=($!)
done

submit_args=()
if [[ -n ${REPRO_DEMO_NEW:-} ]]; then
    submit_args+=(--new)
fi
step "submitting $spec (an identical earlier submission is shown, not re-run; REPRO_DEMO_NEW=1 runs it again)"
export REPRO_KEY=$researcher_key
study_id=$("$bin/repro" submit "$spec" "${submit_args[@]}" | tail -n 1)

if "$bin/repro" status "$study_id" --json | grep -q '"state":"pending_review"'; then
    step "the study waits for review: no volunteer runs it yet. The moderator reads what it would run"
    REPRO_KEY=$moderator_key "$bin/repro" review list
    REPRO_KEY=$moderator_key "$bin/repro" review show "$study_id" | head -n 24
    echo "…"
    step "the moderator approves it: the coordinator signs its job manifest (Ed25519) and hands out its tasks"
    REPRO_KEY=$moderator_key "$bin/repro" review approve "$study_id" --reason "demo: code and requirements reviewed"
fi

step "following study $study_id"
"$bin/repro" watch "$study_id" || true
"$bin/repro" report "$study_id"

step "what the workers checked before running anything (from their logs)"
verified=$(grep -h ": signature verified (key" "$demo_dir"/worker-*.log | head -n 3 || true)
echo "${verified:-(no task ran in this run: the study was already complete)}"
REPRO_KEY=$moderator_key "$bin/repro" review log --limit 3

preprint=$(awk -F'"' '/^  id:/ {print $2; exit}' "$spec")
step "reproducibility score of $preprint over all its studies"
"$bin/repro" score "$preprint"

step "community feedback on $preprint (three readers), and the funders' table"
for reader in 1 2 3; do
    # The same readers on every run: a reader's new post replaces their previous one.
    community_key=$(demo_key "demo-reader-$reader" community)
    case $reader in
        1) args=(--verdict reproduced --rating 5 --tag code-available --text "Reran digits on my laptop: 0.975, same as the paper.") ;;
        2) args=(--verdict partially --rating 3 --tag seed-sensitive --text "Digits holds; breast cancer accuracy is well below the claimed 0.993.") ;;
        3) args=(--verdict not_reproduced --rating 2 --tag seed-sensitive --text "Wine accuracy swings by five points between seeds; the claim looks seed-selected.") ;;
    esac
    REPRO_KEY=$community_key "$bin/repro" feedback post "$preprint" "${args[@]}" >/dev/null
done
"$bin/repro" feedback summary "$preprint"
echo
"$bin/repro" scores --limit 5

step "done: worker logs are in $demo_dir/worker-*.log, the coordinator's in $demo_dir/coordinator.log"
step "the dashboard (sign in with the researcher's key, kept in $demo_dir/keys/demo-researcher.key)"
echo "sign in:       $REPRO_COORDINATOR/sign-in"
echo "study page:    $REPRO_COORDINATOR/studies/$study_id"
echo "preprint page: $REPRO_COORDINATOR/preprints/$preprint"
if [[ -n $serve ]]; then
    # The workers are done; stop them now and keep only the coordinator for people to click around.
    workers=("${pids[@]:1}")
    for pid in "${workers[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
    for pid in "${workers[@]}"; do wait "$pid" 2>/dev/null || true; done
    pids=("${pids[0]}")
    step "serving the dashboard until Ctrl-C"
    wait "${pids[0]}" || true
fi
