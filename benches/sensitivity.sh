#!/usr/bin/env bash
# Wall time and peak memory of a sensitivity study at the defaults: every uncalibrated
# behaviour parameter of the bundled mid-size scenario, 10 trajectories, 64 replications per
# parameter set (sim/MODEL.md §13.3), then the same split into shards merged afterwards.
#
#   bash benches/sensitivity.sh                 # dev profile (chanlab-sim at opt-level 3)
#   PROFILE=release bash benches/sensitivity.sh
#   SAMPLES=20 SHARDS=4 bash benches/sensitivity.sh
#
# Not a timed test: the figure depends on the machine and on what else runs on it.
set -euo pipefail
cd "$(dirname "$0")/.."

PROFILE=${PROFILE:-dev}
SAMPLES=${SAMPLES:-10}
SHARDS=${SHARDS:-2}
SCENARIO=${SCENARIO:-mid-size}
TARGET=${CARGO_TARGET_DIR:-target}

echo "== building ($PROFILE profile)"
cargo build --profile "$PROFILE" --quiet --bin chanlab
DIR=$([ "$PROFILE" = dev ] && echo debug || echo "$PROFILE")
BIN=$TARGET/$DIR/chanlab
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT

echo "== whole study: chanlab sensitivity $SCENARIO --samples $SAMPLES on $(nproc) cores"
/usr/bin/time -f "wall %e s, peak RSS %M kB" "$BIN" sensitivity "$SCENARIO" \
    --samples "$SAMPLES" --quiet --format json --out "$OUT/whole.json"

echo "== $SHARDS shards run one after another, then merged"
for k in $(seq 1 "$SHARDS"); do
    /usr/bin/time -f "shard $k/$SHARDS: wall %e s, peak RSS %M kB" "$BIN" sensitivity \
        "$SCENARIO" --samples "$SAMPLES" --quiet --shard "$k/$SHARDS" --out "$OUT/part-$k.json"
done
/usr/bin/time -f "merge: wall %e s, peak RSS %M kB" "$BIN" merge "$OUT"/part-*.json \
    --format json --out "$OUT/merged.json"
if cmp -s "$OUT/whole.json" "$OUT/merged.json"; then
    echo "merged shards equal the whole study, byte for byte"
else
    echo "MISMATCH: merged shards differ from the whole study" >&2
    exit 1
fi
ls -l "$OUT"/whole.json | awk '{print "result size: " $5 " bytes"}'
