#!/usr/bin/env bash
# Fuzz the records API from its own OpenAPI document with schemathesis.
#
# Builds the binary (release, or the test build's with ST_PROFILE=dev), starts `chanlab
# serve` on loopback over a fresh data directory with an admin token, seeds a small channel
# so that `/{id}` operations and references reach real records
# (.ci/schemathesis_seed.py), then runs every operation of /openapi.json with every check
# (`--checks all`: server errors, status codes, content types, headers, response schemas,
# schema-valid requests accepted and schema-violating ones refused, deleted records gone,
# created ones found, auth not ignored, 405 with `Allow`) in every phase, the stateful one
# included (it chains operations through the links it infers). The seed script lists the
# few refusals of schema-valid requests that no schema can state, each with its reason.
# Fails on any failure, on a server that stopped answering, or on a panic in the server's
# log. The output, a JUnit report and the server's log are left
# in target/schemathesis/.
#
# Knobs (environment): ST_MAX_EXAMPLES (cases per operation and phase, default 80),
# ST_SEED (default 7; "random" for a new one each run), ST_VENV (the virtualenv, default
# target/schemathesis-venv, reused when it has the pinned version), ST_PROFILE (release or
# dev, default release; CI fuzzes the dev binary the tests already built, so it compiles
# nothing twice: the simulator is optimised in dev builds too).
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=.ci/serve.sh
source .ci/serve.sh

max_examples=${ST_MAX_EXAMPLES:-80}
seed=${ST_SEED:-7}
venv=${ST_VENV:-target/schemathesis-venv}
requirements=.ci/schemathesis-requirements.txt
pinned=$(sed -n 's/^schemathesis==//p' "$requirements")

echo "-- build"
profile=${ST_PROFILE:-release}
case "$profile" in
    release) cargo build --release --locked --bin chanlab; bin=$PWD/target/release/chanlab ;;
    # The test build's binary, with the test build's features: `cargo build --bin` alone
    # resolves fewer features (no dev-dependencies) and would recompile half the tree.
    dev) cargo test --workspace --locked --no-run; bin=$PWD/target/debug/chanlab ;;
    *) echo "ST_PROFILE must be release or dev, not $profile" >&2; exit 2 ;;
esac

echo "-- schemathesis $pinned in $venv"
as_root() {
    if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo -n "$@"; else return 1; fi
}
if ! "$venv/bin/st" --version 2>/dev/null | grep -q "$pinned"; then
    rm -rf "$venv"
    if ! python3 -m venv "$venv" 2>/dev/null; then
        echo "python3 -m venv failed; installing python3-venv"
        rm -rf "$venv"
        as_root apt-get update -qq && as_root apt-get install -y -qq python3-venv python3-pip >/dev/null
        python3 -m venv "$venv"
    fi
    "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$requirements"
fi
"$venv/bin/st" --version

work=$(mktemp -d)
trap 'stop_server; rm -rf "$work"' EXIT

echo "-- server"
# Runs the fuzzer starts stay small (a million partner-months, well under a second), so
# the step tests the endpoints rather than the simulator.
serve "$bin" "$work" --workers 2 --max-run-partner-months 1000000 --metrics

echo "-- seed"
python3 .ci/schemathesis_seed.py "$base" "$token" "$work/schemathesis.toml"

echo "-- run"
seed_arg=(--seed "$seed")
[ "$seed" = random ] && seed_arg=()
report=target/schemathesis
mkdir -p "$report"
start=$(date +%s)
status=0
# Revoking or rotating tokens is left out: the stateful phase follows `GET /tokens` to the
# fuzzer's own token and revoked it, and every later request was a 401 (stop 23's run:
# 62 operations saw only 401s). tests/api/tokens.rs covers both operations.
# A guard against a hung fuzzer, not a speed target: the run takes about 230 s on an idle
# 2-core machine and passed 300 s on a loaded one (exit 124), so the guard leaves room.
timeout 600 "$venv/bin/st" --config-file "$work/schemathesis.toml" run "$base/openapi.json" \
    --header "Authorization: Bearer $token" \
    --checks all \
    --exclude-operation-id revoke_token --exclude-operation-id rotate_token \
    --max-examples "$max_examples" \
    "${seed_arg[@]}" \
    --request-timeout 30 \
    --no-color \
    --report junit --report-dir "$report" \
    | tee "$report/output.txt" || status=$?
elapsed=$(( $(date +%s) - start ))

# The server must still answer, and must not have panicked on anything it was sent.
server_checks "$work" || status=1
cp "$work/server.log" "$report/server.log"
cases=$(sed -n 's/^ *\([0-9]*\) generated.*/\1/p' "$report/output.txt" | tail -n 1)
requests=$(grep -c ' request request_id=' "$work/server.log" || true)
statuses=$(sed -n 's/.* request request_id=.* status=\([0-9]*\).*/\1/p' "$work/server.log" | sort | uniq -c | awk '{printf "%s%s×%s", sep, $2, $1; sep=", "}')
echo "schemathesis: ${cases:-?} test cases, $requests requests answered ($statuses), ${elapsed}s, exit status $status"
exit "$status"
