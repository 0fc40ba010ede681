#!/usr/bin/env bash
# Load test of the records API over HTTP with wrk: req/s and p99 latency for
#   GET /healthz (the framework's ceiling), GET /partners/{id}, GET /partners?limit=50,
#   and durable POST /activities,
# each with 32 concurrent connections for DURATION seconds (default 10).
#
#   bash benches/load.sh            # builds the release binary, installs wrk if missing
#   DURATION=30 bash benches/load.sh
#
# The server runs on a fresh temporary data directory with its usual request logging
# (to a file); wrk runs on the same machine, so both share its cores.
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION=${DURATION:-10}
CONNECTIONS=${CONNECTIONS:-32}
THREADS=${THREADS:-2}
PORT=${PORT:-18181}

if ! command -v wrk >/dev/null 2>&1; then
    echo "== installing wrk (Debian package)"
    if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
    $SUDO apt-get update -qq
    $SUDO apt-get install -y -qq wrk >/dev/null
fi

echo "== building"
cargo build --release --quiet --bin chanlab
BIN=target/release/chanlab

WORK=$(mktemp -d)
SERVER=""
cleanup() {
    if [ -n "$SERVER" ]; then kill "$SERVER" 2>/dev/null || true; wait "$SERVER" 2>/dev/null || true; fi
    rm -rf "$WORK"
}
trap cleanup EXIT

TOKEN=$("$BIN" token create --role admin --data-dir "$WORK/data" 2>/dev/null)
"$BIN" serve --bind "127.0.0.1:$PORT" --data-dir "$WORK/data" 2>"$WORK/server.log" &
SERVER=$!
API="http://127.0.0.1:$PORT"
for _ in $(seq 50); do curl -sf "$API/healthz" >/dev/null && break; sleep 0.1; done

post() { curl -sf -H "Authorization: Bearer $TOKEN" -H "Content-Type: application/json" "$API$1" -d "$2"; }
id_of() { sed -E 's/.*"id":"([^"]+)".*/\1/'; }

echo "== seeding: 1 region, 1 rep, 200 partners"
REGION=$(post /regions '{"name": "Nordics", "regional_manager": "Astrid Berg"}' | id_of)
REP=$(post /reps "{\"name\": \"Lars Holm\", \"region_id\": \"$REGION\", \"hired_on\": \"2025-03-01\", \"status\": \"active\"}" | id_of)
for i in $(seq 200); do
    PARTNER=$(post /partners "{\"name\": \"Partner $i\", \"kind\": \"reseller\", \"tier\": \"B\", \"region_id\": \"$REGION\", \"owner_rep_id\": \"$REP\", \"stage\": \"active\"}" | id_of)
done

cat >"$WORK/post.lua" <<LUA
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer $TOKEN"
wrk.body = '{"rep_id": "$REP", "partner_id": "$PARTNER", "date": "2026-11-12", "kind": "visit", "outcome": "completed"}'
LUA

RESULTS=()
run() {
    local label=$1; shift
    local out
    out=$(wrk -t"$THREADS" -c"$CONNECTIONS" -d"${DURATION}s" --latency "$@")
    local rps p99 errors
    rps=$(awk '/^Requests\/sec/ {print $2}' <<<"$out")
    p99=$(awk '$1 == "99%" {print $2}' <<<"$out")
    errors=$(awk '/Non-2xx or 3xx responses/ {print $5}' <<<"$out")
    RESULTS+=("| $label | ${rps%.*} | $p99 | ${errors:-0} |")
    echo "$label: $rps req/s, p99 $p99"
}

echo "== wrk: $CONNECTIONS connections, $THREADS threads, ${DURATION}s each"
run "GET /healthz" "$API/healthz"
run "GET /partners/{id}" -H "Authorization: Bearer $TOKEN" "$API/partners/$PARTNER"
run "GET /partners?limit=50" -H "Authorization: Bearer $TOKEN" "$API/partners?limit=50"
run "POST /activities (durable)" -s "$WORK/post.lua" "$API/activities"

STORED=$(curl -sf -H "Authorization: Bearer $TOKEN" "$API/activities?limit=1" | grep -c '"id"' || true)
echo
echo "| request | req/s | p99 latency | non-2xx |"
echo "|---|---|---|---|"
printf '%s\n' "${RESULTS[@]}"
[ "$STORED" -ge 1 ] || { echo "no activity was stored" >&2; exit 1; }
