#!/usr/bin/env bash
# A private PostgreSQL for this checkout: its own data directory under .pgdata/ (ignored by git),
# the machine's installed server binaries, a port derived from the checkout's path so that two
# checkouts on one machine do not collide.
#
#   scripts/local-postgres.sh ensure   start it if needed; print the DATABASE_URL to use
#   scripts/local-postgres.sh stop     stop it
#   scripts/local-postgres.sh url      print the DATABASE_URL
#
# PostgreSQL refuses to run as root; when run as root the server runs as the unprivileged
# `postgres` user (created by the distribution's package; created here if missing).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BASE="$ROOT/.pgdata"
PGDATA="$BASE/data"
LOG="$BASE/server.log"
PORT=${EXPEDIENTES_PG_PORT:-$((50000 + $(printf '%s' "$ROOT" | cksum | cut -d' ' -f1) % 10000))}
DB=expedientes
URL="postgres://postgres@127.0.0.1:$PORT/$DB"

say() { echo "local-postgres: $*" >&2; }

find_bindir() {
    local dir
    if command -v pg_config >/dev/null 2>&1; then
        dir=$(pg_config --bindir 2>/dev/null || true)
        if [ -x "$dir/postgres" ] && [ -x "$dir/initdb" ]; then echo "$dir"; return 0; fi
    fi
    dir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
    if [ -n "$dir" ] && [ -x "$dir/postgres" ]; then echo "$dir"; return 0; fi
    return 1
}

install_server() {
    if [ "$(id -u)" -ne 0 ]; then
        say "no PostgreSQL server found and not root: install the 'postgresql' package, or set DATABASE_URL"
        exit 1
    fi
    say "installing the distribution's PostgreSQL server (apt-get)…"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >&2
    apt-get install -y -qq postgresql postgresql-contrib >&2
}

# Runs a server binary as the unprivileged user when we are root.
as_owner() {
    if [ "$(id -u)" -eq 0 ]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

prepare_root_access() {
    [ "$(id -u)" -eq 0 ] || return 0
    id postgres >/dev/null 2>&1 || useradd --system --home-dir /var/lib/postgresql --shell /bin/false postgres
    mkdir -p "$BASE"
    chown postgres "$BASE"
    # The server user must be able to reach the data directory: grant search (x, not read) on any
    # ancestor that lacks it, e.g. a checkout under a private temporary directory.
    local dir="$BASE"
    while [ "$dir" != "/" ]; do
        dir=$(dirname "$dir")
        if ! runuser -u postgres -- test -x "$dir"; then
            say "granting search permission on $dir so the server user can reach .pgdata"
            chmod o+x "$dir"
        fi
    done
}

ensure() {
    local bindir
    bindir=$(find_bindir) || { install_server; bindir=$(find_bindir); }
    prepare_root_access
    mkdir -p "$BASE"
    if [ ! -s "$PGDATA/PG_VERSION" ]; then
        say "initialising $PGDATA"
        as_owner "$bindir/initdb" -D "$PGDATA" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >/dev/null \
            || as_owner "$bindir/initdb" -D "$PGDATA" -U postgres --auth=trust -E UTF8 --no-locale >/dev/null
    fi
    if ! as_owner "$bindir/pg_ctl" -D "$PGDATA" status >/dev/null 2>&1; then
        say "starting on 127.0.0.1:$PORT (log: $LOG)"
        touch "$LOG"
        [ "$(id -u)" -ne 0 ] || chown postgres "$LOG"
        as_owner "$bindir/pg_ctl" -D "$PGDATA" -l "$LOG" -w -t 60 \
            -o "-p $PORT -c listen_addresses=127.0.0.1 -c unix_socket_directories='' -c max_connections=300 -c shared_buffers=256MB" \
            start >/dev/null
    fi
    if ! "$bindir/psql" -X -q -h 127.0.0.1 -p "$PORT" -U postgres -d postgres -tAc \
        "SELECT 1 FROM pg_database WHERE datname = '$DB'" | grep -q 1; then
        "$bindir/psql" -X -q -h 127.0.0.1 -p "$PORT" -U postgres -d postgres -c "CREATE DATABASE $DB" >/dev/null
    fi
    echo "$URL"
}

stop() {
    local bindir
    bindir=$(find_bindir) || exit 0
    [ -s "$PGDATA/PG_VERSION" ] || exit 0
    as_owner "$bindir/pg_ctl" -D "$PGDATA" -m fast stop >/dev/null 2>&1 || true
    say "stopped"
}

case "${1:-ensure}" in
    ensure) ensure ;;
    stop) stop ;;
    url) echo "$URL" ;;
    *) say "usage: $0 ensure|stop|url"; exit 2 ;;
esac
