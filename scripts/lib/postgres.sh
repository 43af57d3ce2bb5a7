# shellcheck shell=bash
# A private, throwaway PostgreSQL cluster for the test suite and the demo. Source this file; it defines
# functions only (and sources apt.sh beside it).
#
# Facts these functions work around (see local-postgres.md in the project's shared docs, outside
# this repository):
# - initdb and postgres refuse to run as root, so as root the server runs as an unprivileged user
#   (`postgres` where Debian's package made it, else a system user `reprogrid` made here);
# - that user must own the data directory (0700) and traverse every parent, so clusters live under a
#   directory we create with mode 0755 in /tmp, never under mktemp's 0700 default or /root;
# - only C, C.UTF-8 and POSIX locales exist on a bare Debian image;
# - the socket directory is always passed explicitly, and the port is a free one, because another
#   cluster may already hold 5432.
#
# Typical use:
#   source scripts/lib/postgres.sh
#   repro_pg_throwaway_start            # sets REPRO_PG_* variables, see below
#   trap repro_pg_throwaway_stop EXIT
#   psql "$REPRO_PG_URL" ...            # or REPRO_PG_SOCKDIR/REPRO_PG_PORT with repro_pg_psql

_repro_pg_lib_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source-path=SCRIPTDIR source=apt.sh
source "$_repro_pg_lib_dir/apt.sh"

# Superuser of the clusters made here; the coordinator's embedded database uses the same name.
REPRO_PG_SUPERUSER=${REPRO_PG_SUPERUSER:-reprogrid}

# repro_pg_bindir
#   Prints the directory holding the server binaries (initdb, pg_ctl, postgres); fails if none.
#   Order: $REPRO_POSTGRES_BIN, `pg_config --bindir`, then the newest /usr/lib/postgresql/*/bin.
#   The PATH is deliberately not searched: /usr/local/bin may hold unrelated tools with these names.
repro_pg_bindir() {
    local dir
    for dir in "${REPRO_POSTGRES_BIN:-}" "$(pg_config --bindir 2>/dev/null || true)"; do
        if [[ -n $dir && -x $dir/initdb && -x $dir/pg_ctl && -x $dir/postgres ]]; then
            echo "$dir"
            return 0
        fi
    done
    # pg_config may come from libpq-dev of another version without a server, hence the fallback.
    while read -r dir; do
        if [[ -x $dir/initdb && -x $dir/pg_ctl && -x $dir/postgres ]]; then
            echo "$dir"
            return 0
        fi
    done < <(find /usr/lib/postgresql -mindepth 2 -maxdepth 2 -name bin -type d 2>/dev/null | sort -V -r)
    return 1
}

# repro_pg_ensure_installed
#   Prints the server bin directory, installing Debian's `postgresql` package first if it is missing.
repro_pg_ensure_installed() {
    if ! repro_pg_bindir >/dev/null; then
        repro_apt_install postgresql
    fi
    if ! repro_pg_bindir; then
        echo "error: PostgreSQL server binaries still not found after installing postgresql" >&2
        return 1
    fi
}

# repro_pg_server_user
#   Prints the user that runs the server: the current user, or as root `postgres` if it exists, else a
#   system user `reprogrid` (created here) because initdb cannot run as root.
repro_pg_server_user() {
    if [[ $(id -u) -ne 0 ]]; then
        id -un
        return 0
    fi
    if id -u postgres >/dev/null 2>&1; then
        echo postgres
        return 0
    fi
    if ! id -u reprogrid >/dev/null 2>&1; then
        echo "==> creating system user reprogrid to run PostgreSQL (initdb refuses root)" >&2
        useradd --system --user-group --no-create-home --home-dir /nonexistent \
            --shell /usr/sbin/nologin reprogrid >&2
    fi
    echo reprogrid
}

# repro_pg_as USER COMMAND [ARG...]
#   Runs COMMAND as USER (via runuser when root and USER is someone else). Runs from / so the server
#   tools don't warn that they cannot enter the caller's directory (e.g. under /root).
repro_pg_as() {
    local user=$1
    shift
    if [[ $(id -u) -eq 0 && $user != root ]]; then
        (cd / && runuser -u "$user" -- "$@")
    else
        (cd / && "$@")
    fi
}

# repro_pg_free_port
#   Prints a TCP port on 127.0.0.1 that was free a moment ago (the kernel picks it).
repro_pg_free_port() {
    python3 -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
s.close()'
}

# repro_pg_init DATADIR USER [INITDB_ARG...]
#   Creates DATADIR (0700, owned by USER) and runs initdb in it as USER with trust authentication and
#   superuser $REPRO_PG_SUPERUSER. Prints initdb's output only when it fails.
repro_pg_init() {
    local datadir=$1 user=$2 bindir output
    shift 2
    bindir=$(repro_pg_bindir) || {
        echo "error: PostgreSQL server binaries not found (apt-get install postgresql)" >&2
        return 1
    }
    mkdir -p "$datadir"
    chown "$user:" "$datadir"
    chmod 0700 "$datadir"
    # An empty environment would silently give SQL_ASCII, and LANG may name a locale that is not
    # installed, so the locale and encoding are always explicit.
    if ! output=$(repro_pg_as "$user" "$bindir/initdb" -D "$datadir" --locale=C.UTF-8 --encoding=UTF8 \
        --auth=trust -U "$REPRO_PG_SUPERUSER" "$@" 2>&1); then
        echo "$output" >&2
        echo "error: initdb failed for $datadir" >&2
        return 1
    fi
}

# repro_pg_start DATADIR PORT SOCKDIR LOGFILE [POSTGRES_OPTION...]
#   Starts the cluster in DATADIR as its owner, listening on 127.0.0.1:PORT and in SOCKDIR, and waits
#   until it accepts connections. Extra options are passed to postgres, e.g. `-c fsync=off`.
#   Paths must not contain single quotes (pg_ctl hands -o to a shell).
repro_pg_start() {
    local datadir=$1 port=$2 sockdir=$3 logfile=$4 bindir user
    shift 4
    bindir=$(repro_pg_bindir) || return 1
    user=$(stat -c %U "$datadir")
    mkdir -p "$sockdir"
    chown "$user:" "$sockdir"
    touch "$logfile"
    chown "$user:" "$logfile"
    local options="-p $port -k '$sockdir' -c listen_addresses=127.0.0.1"
    if [[ $# -gt 0 ]]; then
        options+=" $*"
    fi
    if ! repro_pg_as "$user" "$bindir/pg_ctl" -D "$datadir" -l "$logfile" -w -t 60 -o "$options" start >/dev/null; then
        echo "error: PostgreSQL did not start; its log ($logfile):" >&2
        cat "$logfile" >&2
        return 1
    fi
}

# repro_pg_stop DATADIR
#   Stops the cluster in DATADIR if it runs (fast shutdown: ends sessions, no waiting for clients).
repro_pg_stop() {
    local datadir=$1 bindir
    [[ -f $datadir/postmaster.pid ]] || return 0
    bindir=$(repro_pg_bindir) || return 1
    repro_pg_as "$(stat -c %U "$datadir")" "$bindir/pg_ctl" -D "$datadir" -m fast -w stop >/dev/null
}

# repro_pg_psql SOCKDIR PORT DATABASE [PSQL_ARG...]
#   Runs psql against a cluster started here, as its superuser, stopping at the first error.
repro_pg_psql() {
    local sockdir=$1 port=$2 database=$3 bindir
    shift 3
    bindir=$(repro_pg_bindir) || return 1
    "$bindir/psql" -X -q -v ON_ERROR_STOP=1 -h "$sockdir" -p "$port" -U "$REPRO_PG_SUPERUSER" -d "$database" "$@"
}

# repro_pg_throwaway_start [POSTGRES_OPTION...]
#   Installs PostgreSQL if needed and starts a fresh cluster in a new directory under /tmp, tuned for
#   speed over durability (never use it for real data). Sets:
#     REPRO_PG_ROOT     the directory holding everything (remove it when done)
#     REPRO_PG_DATA     data directory         REPRO_PG_LOG   server log
#     REPRO_PG_SOCKDIR  Unix socket directory  REPRO_PG_PORT  TCP port on 127.0.0.1
#     REPRO_PG_URL      URL of the `postgres` maintenance database (socket via ?host=, libpq style)
#   Extra arguments are passed to postgres after the speed settings.
repro_pg_throwaway_start() {
    local user
    repro_pg_ensure_installed >/dev/null
    user=$(repro_pg_server_user)
    # /tmp rather than $TMPDIR: the server user must traverse every parent, and a short path keeps
    # the socket path under the kernel's ~107-byte limit.
    REPRO_PG_ROOT=$(mktemp -d /tmp/reprogrid-pg.XXXXXX)
    chmod 0755 "$REPRO_PG_ROOT"
    REPRO_PG_DATA=$REPRO_PG_ROOT/data
    REPRO_PG_SOCKDIR=$REPRO_PG_ROOT/socket
    REPRO_PG_LOG=$REPRO_PG_ROOT/server.log
    REPRO_PG_PORT=$(repro_pg_free_port)
    REPRO_PG_URL="postgres://$REPRO_PG_SUPERUSER@localhost:$REPRO_PG_PORT/postgres?host=$REPRO_PG_SOCKDIR"
    export REPRO_PG_ROOT REPRO_PG_DATA REPRO_PG_SOCKDIR REPRO_PG_LOG REPRO_PG_PORT REPRO_PG_URL
    repro_pg_init "$REPRO_PG_DATA" "$user" --no-sync
    # Tests open many short-lived databases and connections in parallel: durability off, room for
    # more connections than the default 100. 300 ran out ("too many clients already") once the suite
    # reached ~535 tests: each coordinator under test pools up to 30, its test database client 8.
    repro_pg_start "$REPRO_PG_DATA" "$REPRO_PG_PORT" "$REPRO_PG_SOCKDIR" "$REPRO_PG_LOG" \
        -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=600 "$@"
}

# repro_pg_throwaway_stop [print-log]
#   Stops the cluster started by repro_pg_throwaway_start and removes its directory; with the argument
#   `print-log`, prints the server log first (for failures). Safe to call more than once.
repro_pg_throwaway_stop() {
    [[ -n ${REPRO_PG_ROOT:-} && -d $REPRO_PG_ROOT ]] || return 0
    if [[ ${1:-} == print-log && -f $REPRO_PG_LOG ]]; then
        echo "==> PostgreSQL server log ($REPRO_PG_LOG):" >&2
        cat "$REPRO_PG_LOG" >&2
    fi
    repro_pg_stop "$REPRO_PG_DATA" || echo "warning: could not stop PostgreSQL in $REPRO_PG_DATA" >&2
    rm -rf "$REPRO_PG_ROOT"
    REPRO_PG_ROOT=
}
