#!/usr/bin/env bash
# Webhook latency benchmark: does a hanging receiver raise API latency? A fresh sled server
# answers N rounds of `POST /goals` + `GET /goals` (sequential, one client), first with no
# subscription, then with one to goal.created whose receiver accepts connections and never
# answers (every delivery hangs until its 10 s timeout, 16 in flight). Reports p50, p95 and
# max of each request kind in both phases.
#
#   bash benches/webhooks.sh                        # builds the release binary
#   BIN=target/debug/chanlab N=300 bash benches/webhooks.sh
#
# The server, curl, the receiver and this script share the machine's cores.
set -euo pipefail
cd "$(dirname "$0")/.."

N=${N:-200}
PORT=${PORT:-18193}
HANG_PORT=${HANG_PORT:-18194}
if [ -z "${BIN:-}" ]; then
    echo "== building"
    cargo build --release --quiet --bin chanlab
    BIN=${CARGO_TARGET_DIR:-target}/release/chanlab
fi

WORK=$(mktemp -d)
SERVER=""
HANG=""
cleanup() {
    for p in $SERVER $HANG; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
    rm -rf "$WORK"
}
trap cleanup EXIT

# A receiver that reads each request and never answers.
python3 - "$HANG_PORT" <<'PY' &
import socket, sys, threading, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(256)
held = []
while True:
    c, _ = s.accept(); held.append(c)
    threading.Thread(target=lambda c=c: (c.recv(65536), time.sleep(3600)), daemon=True).start()
PY
HANG=$!

TOKEN=$("$BIN" token create --role admin --data-dir "$WORK/data" 2>/dev/null)
"$BIN" serve --bind "127.0.0.1:$PORT" --data-dir "$WORK/data" 2>"$WORK/server.log" &
SERVER=$!
API="http://127.0.0.1:$PORT"
for _ in $(seq 100); do curl -sf "$API/healthz" >/dev/null && break; sleep 0.1; done
H=(-H "Authorization: Bearer $TOKEN" -H "Content-Type: application/json")

REGION=$(curl -sf "${H[@]}" "$API/regions" -d '{"name": "Nordics", "regional_manager": "A"}' | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
REP=$(curl -sf "${H[@]}" "$API/reps" -d "{\"name\": \"Lars\", \"region_id\": \"$REGION\", \"hired_on\": \"2025-03-01\", \"status\": \"active\"}" | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
GOAL="{\"scope\": {\"kind\": \"rep\", \"id\": \"$REP\"}, \"period\": \"2026-Q4\", \"metric\": \"visits\", \"target\": {\"count\": 6}, \"strategy\": \"manual\"}"

phase() {
    : >"$WORK/$1.post"; : >"$WORK/$1.get"
    for _ in $(seq "$N"); do
        curl -s -o /dev/null -w '%{time_total}\n' "${H[@]}" "$API/goals" -d "$GOAL" >>"$WORK/$1.post"
        curl -s -o /dev/null -w '%{time_total}\n' "${H[@]}" "$API/goals?limit=20" >>"$WORK/$1.get"
    done
    for kind in post get; do
        sort -n "$WORK/$1.$kind" | awk -v name="$1 $kind" '{ a[NR] = $1 } END {
            printf "%-22s n=%d p50=%.1f ms p95=%.1f ms max=%.1f ms\n", name, NR,
                a[int(NR * 0.5)] * 1000, a[int(NR * 0.95)] * 1000, a[NR] * 1000 }'
    done
}

echo "== $N rounds without a subscription"
phase baseline
curl -sf "${H[@]}" "$API/webhooks" -d "{\"url\": \"http://127.0.0.1:$HANG_PORT/hooks\", \"events\": [\"goal.created\"]}" >/dev/null
echo "== $N rounds with a subscription whose receiver hangs"
phase hanging
HOOK=$(curl -sf "${H[@]}" "$API/webhooks" | python3 -c 'import json,sys; print(json.load(sys.stdin)["items"][0]["id"])')
curl -sf "${H[@]}" "$API/webhooks/$HOOK/deliveries?limit=500" | python3 -c '
import json, sys
items = json.load(sys.stdin)["items"]
tried = sum(1 for d in items if d.get("last_attempt_at"))
delivered = sum(1 for d in items if d["status"] == "delivered")
print("deliveries:", len(items), "logged,", tried, "attempted,", delivered, "delivered")'
