#!/usr/bin/env bash
# Real-browser check of the dashboard (issue 13): headless Debian Chromium renders the study,
# preprint and preprints pages of a coordinator holding a completed study, and the DOM is checked
# (one dot per accepted run, every claim, the CSV link gives the rows shown). The screenshot of the
# study page is saved to $REPRO_BROWSER_OUT (default $REPRO_STEP_DIR/browser/out) for a person to look at.
set -euo pipefail

repo_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
# shellcheck source-path=SCRIPTDIR source=../lib/apt.sh
source "$repo_root/scripts/lib/apt.sh"
# shellcheck source-path=SCRIPTDIR source=../lib/postgres.sh
source "$repo_root/scripts/lib/postgres.sh"
# shellcheck source-path=SCRIPTDIR source=../lib/coordinator.sh
source "$repo_root/scripts/lib/coordinator.sh"

chromium=$(command -v chromium || true)
if [[ -z $chromium ]]; then
    repro_apt_install chromium
    chromium=$(command -v chromium)
fi

out=${REPRO_BROWSER_OUT:-$REPRO_STEP_DIR/browser/out}
mkdir -p "$out"
trap repro_test_coordinator_stop EXIT
repro_test_coordinator_start browser
# Bounded: a hung browser or coordinator fails the step instead of the whole run.
if ! timeout 600 python3 "$repo_root/scripts/lib/dashboard_browser.py" "$chromium" "$out"; then
    echo "error: the browser check failed; coordinator log: $REPRO_COORDINATOR_LOG, pages: $out" >&2
    exit 1
fi
echo "browser check passed; screenshot: $out/study.png"
