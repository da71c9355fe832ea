#!/usr/bin/env bash
# Validates the service's OpenAPI document (the one served at /openapi.json) with PyPI's
# openapi-spec-validator, installed into this checkout's own virtual environment (.tools/venv)
# the first time. Usage: scripts/validate-openapi.sh [path-to-the-expedientes-binary]
set -euo pipefail
cd "$(dirname "$0")/.."

VALIDATOR_VERSION=0.9.0
venv=.tools/venv
if [ ! -x "$venv/bin/openapi-spec-validator" ]; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check "openapi-spec-validator==$VALIDATOR_VERSION"
fi
binary=${1:-target/debug/expedientes}
if [ ! -x "$binary" ]; then
    cargo build --locked --quiet --bin expedientes
fi
mkdir -p target
"$binary" openapi > target/openapi.json
"$venv/bin/openapi-spec-validator" target/openapi.json
