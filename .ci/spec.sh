#!/usr/bin/env bash
# The committed OpenAPI document, checked the way an integrator's tools read it:
#
# 1. openapi-spec-validator: valid OpenAPI 3.1.
# 2. Redocly CLI lint, recommended rules as errors (.ci/redocly/redocly.yaml; the findings
#    kept on purpose, with their reasons, in .ci/redocly/.redocly.lint-ignore.yaml).
# 3. openapi-python-client generates a client from it; no operation or response may be
#    dropped from the client ("will not be generated", "will be omitted"). The only warning
#    allowed is the one for a `text/csv` request body, which every import also offers as
#    `application/octet-stream` (api/src/media.rs), and which the client sends instead.
# 4. That client, unmodified, drives a running server through .ci/client_flow.py: CRUD, a
#    CSV import and export, a stage transition, a scenario and a run with its result.
#
# Knobs (environment): ST_PROFILE (release or dev, as in .ci/schemathesis.sh: CI uses the
# test build's binary). Pinned tools: .ci/spec-requirements.txt (venv target/spec-venv),
# .ci/redocly/package-lock.json (installed into target/redocly).
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=.ci/serve.sh
source .ci/serve.sh

spec=openapi/openapi.json
venv=target/spec-venv
requirements=.ci/spec-requirements.txt

echo "-- tools"
if ! cmp -s "$requirements" "$venv/requirements.txt" 2>/dev/null; then
    rm -rf "$venv"
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$requirements"
    cp "$requirements" "$venv/requirements.txt"
fi
if ! cmp -s .ci/redocly/package-lock.json target/redocly/package-lock.json 2>/dev/null; then
    rm -rf target/redocly
    mkdir -p target/redocly
    cp .ci/redocly/package.json .ci/redocly/package-lock.json target/redocly/
    (cd target/redocly && npm ci --silent --no-audit --no-fund)
fi

echo "-- openapi-spec-validator"
"$venv/bin/openapi-spec-validator" "$spec"

echo "-- redocly lint"
# Redocly prints a banner about Node.js versions on stderr; its exit status is the verdict.
(cd .ci/redocly && ../../target/redocly/node_modules/.bin/redocly lint "../../$spec" --config redocly.yaml 2>&1 |
    grep -v '[║╔╚]')

echo "-- openapi-python-client"
out=target/python-client
rm -rf "$out"
mkdir -p "$out"
log=$(PATH="$PWD/$venv/bin:$PATH" "$venv/bin/openapi-python-client" generate --path "$spec" \
    --output-path "$out/chanlab_client" --meta none 2>&1) || { echo "$log"; exit 1; }
if grep -E "will not be generated|will be omitted|Unable to|Failed" <<<"$log"; then
    echo "$log"
    echo "openapi-python-client left part of the API out of the client"; exit 1
fi
unexpected=$(grep -i "unsupported" <<<"$log" | grep -v "Unsupported content type text/csv" || true)
if [ -n "$unexpected" ]; then
    echo "$log"
    echo "openapi-python-client cannot read some of the spec: $unexpected"; exit 1
fi
echo "generated $(find "$out/chanlab_client/api" -name '*.py' ! -name '__init__.py' | wc -l) operations, $(find "$out/chanlab_client/models" -name '*.py' ! -name '__init__.py' | wc -l) models"

echo "-- build"
case "${ST_PROFILE:-release}" in
    release) cargo build --release --locked --bin chanlab; bin=$PWD/target/release/chanlab ;;
    dev) cargo test --workspace --locked --no-run; bin=$PWD/target/debug/chanlab ;;
    *) echo "ST_PROFILE must be release or dev" >&2; exit 2 ;;
esac

echo "-- the generated client drives a server"
work=$(mktemp -d)
trap 'stop_server; rm -rf "$work"' EXIT
serve "$bin" "$work" --workers 2
status=0
"$venv/bin/python" .ci/client_flow.py "$base" "$token" "$PWD/$out" "$bin" || status=$?
server_checks "$work" || status=1
exit "$status"
