#!/usr/bin/env bash
# Fuzzes the served API with PyPI's schemathesis (installed into .tools/venv the first time):
# the binary serves a scratch database on the configured server; every operation of the OpenAPI
# document is tried with generated requests, anonymously and with a token of each role. It fails
# on any server error (5xx) or any status the document does not declare.
# Usage: scripts/fuzz-api.sh [path-to-the-expedientes-binary]   (DATABASE_URL must be set)
set -euo pipefail
cd "$(dirname "$0")/.."

SCHEMATHESIS_VERSION=4.32.5
EXAMPLES=${FUZZ_EXAMPLES:-10}
SEED=${FUZZ_SEED:-1}
venv=.tools/venv
if [ ! -x "$venv/bin/schemathesis" ]; then
    [ -x "$venv/bin/pip" ] || python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check "schemathesis==$SCHEMATHESIS_VERSION"
fi
binary=${1:-target/debug/expedientes}
[ -x "$binary" ] || cargo build --locked --quiet --bin expedientes
: "${DATABASE_URL:?DATABASE_URL must point at the PostgreSQL server}"

database="fuzz_$$"
server=
cleanup() {
    if [ -n "$server" ]; then
        kill "$server" 2>/dev/null || true
        wait "$server" 2>/dev/null || true
    fi
    psql -X -q "$DATABASE_URL" -c "DROP DATABASE IF EXISTS $database WITH (FORCE)" >/dev/null 2>&1 || true
}
trap cleanup EXIT
psql -X -q "$DATABASE_URL" -c "CREATE DATABASE $database" >/dev/null
# The same server, the scratch database (the URL's path replaced, its query kept).
scratch_url=$(python3 -c 'import sys, urllib.parse as u; p = u.urlsplit(sys.argv[1]); print(u.urlunsplit(p._replace(path="/" + sys.argv[2])))' "$DATABASE_URL" "$database")
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
log=target/fuzz-serve.log
mkdir -p target
DATABASE_URL="$scratch_url" EXPEDIENTES_ADDR="127.0.0.1:$port" \
    EXPEDIENTES_METRICS_ADDR=off "$binary" serve >"$log" 2>&1 &
server=$!
base="http://127.0.0.1:$port"
for _ in $(seq 1 100); do
    curl -fsS --max-time 5 "$base/ready" >/dev/null 2>&1 && break
    sleep 0.2
done
curl -fsS --max-time 5 "$base/ready" >/dev/null || { echo "fuzz: the service did not start (see $log)" >&2; exit 1; }

run() {
    local who=$1
    shift
    echo "fuzz: $who" >&2
    timeout 600 "$venv/bin/schemathesis" run "$base/openapi.json" --url "$base" \
        --request-timeout 30 \
        --checks not_a_server_error,status_code_conformance \
        --max-examples "$EXAMPLES" --seed "$SEED" "$@" >"target/fuzz-$who.log" 2>&1 \
        || { tail -60 "target/fuzz-$who.log" >&2; echo "fuzz: failures as $who (target/fuzz-$who.log)" >&2; return 1; }
}
status=0
run anonymous || status=1
for role in citizen caseworker auditor admin; do
    subject=emp-fuzz
    [ "$role" = citizen ] && subject=12345678Z
    token=$("$binary" token --role "$role" --tenant 28079 --subject "$subject")
    run "$role" --header "Authorization: Bearer $token" || status=1
done
exit $status
