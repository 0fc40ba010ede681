#!/usr/bin/env bash
# Load test of the records API over HTTP with wrk: req/s and p99 latency for
#   GET /healthz (the framework's ceiling), GET /partners/{id}, GET /partners?limit=50,
#   and durable POST /activities,
# each with 32 concurrent connections for DURATION seconds (default 10), on each backend:
#   sled         one server on a fresh data directory
#   postgres     one server on a fresh PostgreSQL database
#   postgres-x2  two servers on one fresh database, half the connections on each (two wrk
#                processes at once: req/s summed, p99 the worse of the two)
#
#   bash benches/load.sh                      # builds the release binary, installs wrk if missing
#   DURATION=30 BACKENDS="sled postgres" bash benches/load.sh
#
# PostgreSQL: CHANLAB_TEST_DATABASE_URL names a database whose role may create databases
# (`source .ci/postgres.sh` starts a local server and sets it); each backend run gets a new
# database, dropped after. The servers run with their usual request logging (to a file); wrk
# and PostgreSQL run on the same machine, so all share its cores.
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION=${DURATION:-10}
CONNECTIONS=${CONNECTIONS:-32}
THREADS=${THREADS:-2}
PORT=${PORT:-18181}
BACKENDS=${BACKENDS:-sled postgres postgres-x2}

if ! command -v wrk >/dev/null 2>&1; then
    echo "== installing wrk (Debian package)"
    if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
    $SUDO apt-get update -qq
    $SUDO apt-get install -y -qq wrk >/dev/null
fi
case " $BACKENDS " in
    *" postgres"*)
        if [ -z "${CHANLAB_TEST_DATABASE_URL:-}" ]; then
            # shellcheck source=../.ci/postgres.sh
            source .ci/postgres.sh
        fi
        ;;
esac

echo "== building"
cargo build --release --quiet --bin chanlab
BIN=${CARGO_TARGET_DIR:-target}/release/chanlab

WORK=$(mktemp -d)
SERVERS=()
DATABASE=""
stop_servers() {
    for pid in "${SERVERS[@]}"; do kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; done
    SERVERS=()
}
drop_database() {
    if [ -n "$DATABASE" ]; then
        psql "$CHANLAB_TEST_DATABASE_URL" -qAtX -c "DROP DATABASE IF EXISTS $DATABASE WITH (FORCE)" >/dev/null || true
        DATABASE=""
    fi
}
cleanup() {
    stop_servers
    drop_database
    rm -rf "$WORK"
}
trap cleanup EXIT

post() { curl -sf -H "Authorization: Bearer $TOKEN" -H "Content-Type: application/json" "$API$1" -d "$2"; }
id_of() { sed -E 's/.*"id":"([^"]+)".*/\1/'; }

# One measurement: wrk on every server in ADDRESSES at once, the connections split.
measure() {
    local label=$1 path=$2; shift 2
    local n=${#ADDRESSES[@]} outs=() pids=() i
    for i in "${!ADDRESSES[@]}"; do
        wrk -t"$THREADS" -c"$((CONNECTIONS / n))" -d"${DURATION}s" --latency "$@" "${ADDRESSES[$i]}$path" >"$WORK/wrk.$i" &
        pids+=($!)
    done
    for pid in "${pids[@]}"; do wait "$pid"; done
    local rps=0 p99="" errors=0 r p e
    for i in "${!ADDRESSES[@]}"; do
        r=$(awk '/^Requests\/sec/ {print $2}' "$WORK/wrk.$i")
        p=$(awk '$1 == "99%" {print $2}' "$WORK/wrk.$i")
        e=$(awk '/Non-2xx or 3xx responses/ {print $5}' "$WORK/wrk.$i")
        rps=$(awk -v a="$rps" -v b="$r" 'BEGIN {printf "%.0f", a + b}')
        errors=$((errors + ${e:-0}))
        # The worse p99 of the servers (wrk prints us, ms or s).
        p99=$(printf '%s\n%s\n' "$p99" "$p" | awk 'NF {v=$1; s=v; sub(/[a-z]+$/, "", v); u=s; sub(/^[0-9.]+/, "", u);
            m = (u == "us") ? v / 1000 : (u == "s") ? v * 1000 : v; if (m > best) {best = m; out = s}} END {print out}')
    done
    CELLS["$label"]+=" $rps, p99 $p99$([ "$errors" = 0 ] || echo ", $errors non-2xx") |"
    echo "$BACKEND $label: $rps req/s, p99 $p99"
}

declare -A CELLS
LABELS=("GET /healthz" "GET /partners/{id}" "GET /partners?limit=50" "POST /activities (durable)")
for BACKEND in $BACKENDS; do
    echo "== $BACKEND"
    case $BACKEND in
        sled)
            STORAGE=(--data-dir "$WORK/data-sled") INSTANCES=1 ;;
        postgres | postgres-x2)
            drop_database
            DATABASE="chanlab_load_$$"
            psql "$CHANLAB_TEST_DATABASE_URL" -qAtX -c "CREATE DATABASE $DATABASE" >/dev/null
            STORAGE=(--database-url "${CHANLAB_TEST_DATABASE_URL%/*}/$DATABASE")
            INSTANCES=$([ "$BACKEND" = postgres-x2 ] && echo 2 || echo 1) ;;
        *) echo "unknown backend $BACKEND (sled, postgres, postgres-x2)" >&2; exit 1 ;;
    esac
    TOKEN=$("$BIN" token create --role admin "${STORAGE[@]}" 2>/dev/null)
    ADDRESSES=()
    for i in $(seq "$INSTANCES"); do
        port=$((PORT + i - 1))
        "$BIN" serve --bind "127.0.0.1:$port" "${STORAGE[@]}" 2>"$WORK/server-$BACKEND-$i.log" &
        SERVERS+=($!)
        ADDRESSES+=("http://127.0.0.1:$port")
        for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.1; done
    done
    API=${ADDRESSES[0]}

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

    echo "== wrk: $CONNECTIONS connections over $INSTANCES server(s), $THREADS threads each, ${DURATION}s each"
    measure "GET /healthz" /healthz
    measure "GET /partners/{id}" "/partners/$PARTNER" -H "Authorization: Bearer $TOKEN"
    measure "GET /partners?limit=50" "/partners?limit=50" -H "Authorization: Bearer $TOKEN"
    measure "POST /activities (durable)" /activities -s "$WORK/post.lua"

    STORED=$(curl -sf -H "Authorization: Bearer $TOKEN" "$API/activities?limit=1" | grep -c '"id"' || true)
    [ "$STORED" -ge 1 ] || { echo "$BACKEND: no activity was stored" >&2; exit 1; }
    stop_servers
done

echo
header="| request |" rule="|---|"
for BACKEND in $BACKENDS; do header+=" $BACKEND req/s |"; rule+="---|"; done
echo "$header"
echo "$rule"
for label in "${LABELS[@]}"; do echo "| $label |${CELLS[$label]}"; done
