#!/usr/bin/env bash
# Large CSV import benchmark: one partners file of ROWS rows (default 100,000, 7.8 MiB,
# near the 8 MiB limit) into a fresh sled server, reporting
#   - the import's wall time,
#   - the server's resident memory before, at its peak during, and after the import
#     (growth = peak - before; VmHWM from /proc),
#   - GET /healthz latencies (p50, p99, max) sampled every 20 ms while the import runs,
#   - and, with CONCURRENT=3, three imports at once: how many were refused with 429.
#
#   bash benches/import.sh                    # builds the release binary
#   ROWS=50000 CONCURRENT=3 bash benches/import.sh
#   DATABASE_URL=postgres://chanlab:chanlab@127.0.0.1:5432/chanlab_bench ROWS=20000 bash benches/import.sh
#
# The server, curl and this script share the machine's cores.
set -euo pipefail
cd "$(dirname "$0")/.."

ROWS=${ROWS:-100000}
CONCURRENT=${CONCURRENT:-1}
PORT=${PORT:-18191}

echo "== building"
cargo build --release --quiet --bin chanlab
BIN=${CARGO_TARGET_DIR:-target}/release/chanlab

WORK=$(mktemp -d)
SERVER=""
cleanup() {
    if [ -n "$SERVER" ]; then kill "$SERVER" 2>/dev/null || true; wait "$SERVER" 2>/dev/null || true; fi
    rm -rf "$WORK"
}
trap cleanup EXIT

# DATABASE_URL=postgres://... measures PostgreSQL instead (an empty database; the
# server's memory is then chanlab's alone, not PostgreSQL's).
STORE=(--data-dir "$WORK/data")
if [ -n "${DATABASE_URL:-}" ]; then STORE=(--database-url "$DATABASE_URL"); fi
TOKEN=$("$BIN" token create --role admin "${STORE[@]}" 2>/dev/null)
"$BIN" serve --bind "127.0.0.1:$PORT" "${STORE[@]}" 2>"$WORK/server.log" &
SERVER=$!
API="http://127.0.0.1:$PORT"
for _ in $(seq 100); do curl -sf "$API/healthz" >/dev/null && break; sleep 0.1; done

REGION=$(curl -sf -H "Authorization: Bearer $TOKEN" -H "Content-Type: application/json" \
    "$API/regions" -d '{"name": "Nordics", "regional_manager": "Astrid Berg"}' |
    sed 's/.*"id":"\([^"]*\)".*/\1/')

make_file() {
    {
        echo "name,kind,tier,region_id,stage"
        awk -v n="$ROWS" -v r="$REGION" -v p="$1" \
            'BEGIN { for (i = 0; i < n; i++) printf "Partner %s%07d Handels AB,reseller,B,%s,active\n", p, i, r }'
    } >"$WORK/partners-$1.csv"
}
for i in $(seq "$CONCURRENT"); do make_file "$i"; done
SIZE=$(stat -c %s "$WORK/partners-1.csv")
echo "== $ROWS rows, $SIZE bytes per file, $CONCURRENT import(s) at once"

rss_kb() { awk '/^VmRSS/ { print $2 }' "/proc/$SERVER/status"; }
BEFORE=$(rss_kb)
# Reset the peak so VmHWM measures this import (Linux 4.0+: writing 5 to clear_refs).
echo 5 >"/proc/$SERVER/clear_refs" 2>/dev/null || true

START=$(date +%s.%N)
PIDS=()
for i in $(seq "$CONCURRENT"); do
    curl -s -o "$WORK/answer-$i.json" -w "%{http_code} %{time_total}\n" \
        -H "Authorization: Bearer $TOKEN" -H "Content-Type: text/csv" \
        --data-binary "@$WORK/partners-$i.csv" "$API/partners/import" >"$WORK/status-$i" &
    PIDS+=($!)
done
: >"$WORK/healthz"
: >"$WORK/reads"
while kill -0 "${PIDS[0]}" 2>/dev/null; do
    curl -s -o /dev/null -w "%{time_total}\n" --max-time 10 "$API/healthz" >>"$WORK/healthz" || echo 10 >>"$WORK/healthz"
    # A read of the store itself (a bulk commit holds off other writes, never reads).
    curl -s -o /dev/null -w "%{time_total}\n" --max-time 10 -H "Authorization: Bearer $TOKEN" \
        "$API/regions?limit=1" >>"$WORK/reads" || echo 10 >>"$WORK/reads"
    sleep 0.02
done
for pid in "${PIDS[@]}"; do wait "$pid"; done
END=$(date +%s.%N)
PEAK=$(awk '/^VmHWM/ { print $2 }' "/proc/$SERVER/status")
AFTER=$(rss_kb)

for i in $(seq "$CONCURRENT"); do
    read -r code secs <"$WORK/status-$i"
    echo "import $i: HTTP $code in ${secs}s"
done
awk -v s="$START" -v e="$END" 'BEGIN { printf "wall time (all imports): %.2fs\n", e - s }'
echo "server RSS: before $((BEFORE / 1024)) MiB, peak $((PEAK / 1024)) MiB, after $((AFTER / 1024)) MiB; growth $(((PEAK - BEFORE) / 1024)) MiB"
latencies() {
    sort -n "$2" | awk -v what="$1" '{ v[NR] = $1 } END {
        if (NR == 0) { print what ": no samples"; exit }
        p99 = int(NR * 0.99); if (p99 < 1) p99 = 1
        printf "%s during the import: %d samples, p50 %.1f ms, p99 %.1f ms, max %.1f ms\n",
            what, NR, v[int(NR * 0.5) + 1] * 1000, v[p99] * 1000, v[NR] * 1000 }'
}
latencies "GET /healthz" "$WORK/healthz"
latencies "GET /regions?limit=1" "$WORK/reads"

# The floor, measured now on the same machine: the same number of records committed
# straight to a fresh sled store. The ratio is what to compare across machines.
if [ -z "${DATABASE_URL:-}" ]; then
    FLOOR=$(cargo bench --quiet --bench import_floor -- "$ROWS" 2>/dev/null | grep '^storage floor')
    echo "$FLOOR"
    read -r _ secs <"$WORK/status-1"
    echo "$FLOOR" | awk -v i="$secs" '{ f = $7; sub("s", "", f); printf "import / storage floor: %.2f\n", i / f }'
fi
