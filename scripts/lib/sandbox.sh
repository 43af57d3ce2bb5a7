# shellcheck shell=bash
# What `repro-worker --isolation strict` needs on this machine. Source this file; it defines functions
# only (and sources apt.sh beside it).
#
# - bubblewrap (`bwrap`), which builds each job's sandbox;
# - as root: the unprivileged system user `reprogrid-job` that jobs run as (a root worker drops to it:
#   a user namespace alone would map the job back to host root), and a Python installed for all users
#   (`/usr/bin/python3` with venv), since jobs cannot reach one under /root such as pyenv's.

# shellcheck source-path=SCRIPTDIR source=apt.sh
source "$(dirname "${BASH_SOURCE[0]}")/apt.sh"

# repro_ensure_sandbox
#   Installs bubblewrap when missing and, as root, creates the job user and makes sure the system
#   Python can create virtualenvs.
repro_ensure_sandbox() {
    command -v bwrap >/dev/null 2>&1 || repro_apt_install bubblewrap
    command -v setpriv >/dev/null 2>&1 || repro_apt_install util-linux
    [[ $(id -u) -eq 0 ]] || return 0
    if ! getent passwd reprogrid-job >/dev/null; then
        echo "==> creating the system user reprogrid-job that sandboxed jobs run as" >&2
        useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin reprogrid-job
    fi
    local probe
    probe=$(mktemp -d)
    if ! { [[ -x /usr/bin/python3 ]] && /usr/bin/python3 -m venv "$probe/venv" >/dev/null 2>&1; }; then
        repro_apt_install python3 python3-venv
    fi
    rm -rf "$probe"
}
