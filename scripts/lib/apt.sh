# shellcheck shell=bash
# Installing Debian packages from the project's scripts. Source this file; it defines functions only.
#
# The scripts must work on a fresh Debian machine that has nothing but Swift and Python, so every
# tool they need beyond that is installed here, by package name, with Debian's own client.

# repro_apt_install PACKAGE...
#   Installs the packages (no recommends). Runs `apt-get update` once per shell first, because a fresh
#   image often has no package lists at all and `apt-get install` would then find nothing.
repro_apt_install() {
    local sudo=()
    if [[ $(id -u) -ne 0 ]]; then
        if command -v sudo >/dev/null 2>&1; then
            sudo=(sudo)
        else
            echo "error: need to install Debian packages ($*) but not running as root and sudo is missing;" \
                "install them as root: apt-get install -y --no-install-recommends $*" >&2
            return 1
        fi
    fi
    echo "==> installing Debian packages: $*" >&2
    if [[ -z ${REPRO_APT_UPDATED:-} ]]; then
        "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q >&2
        REPRO_APT_UPDATED=1
    fi
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "$@" >&2
}

# repro_ensure_python_venv
#   Makes sure `python3 -m venv` can create a working environment. Debian splits ensurepip into
#   python3-venv, and only creating a real venv shows whether it is missing (`--help` works without it).
repro_ensure_python_venv() {
    local probe
    probe=$(mktemp -d)
    if python3 -m venv "$probe/venv" >/dev/null 2>&1; then
        rm -rf "$probe"
        return 0
    fi
    rm -rf "$probe"
    repro_apt_install python3-venv
}
