#!/usr/bin/env bash
# Wall time of the two heavy experiments of sim/MODEL.md §13 on this machine:
#   1. a two-field 6×6 sweep of the mid-size channel at 500 replications per point
#      (sim/scenarios/sweeps/stretch-sweep.toml), and
#   2. a policy search over three fields of its "Stretch goals" spec at default settings
#      (27 candidates + the spec as written, 40 replications in the first rung, confirmed on
#      the scenario's 1000 replications).
#
#   bash benches/explore.sh                 # builds the dev binary (sim at opt-level 3)
#   THREADS=1 bash benches/explore.sh
set -euo pipefail
cd "$(dirname "$0")/.."

THREADS=${THREADS:-0}
TARGET=${CARGO_TARGET_DIR:-target}
echo "== building"
cargo build --quiet --bin chanlab
BIN=$TARGET/debug/chanlab
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT

echo "== sweep: 6x6 spec fields, 500 replications per point"
start=$(date +%s.%N)
"$BIN" compare sim/scenarios/sweeps/stretch-sweep.toml --quiet --threads "$THREADS" \
    --format json --out "$OUT/sweep.json" --chart "$OUT/sweep.svg"
end=$(date +%s.%N)
echo "sweep: $(echo "$end - $start" | bc) s"

echo "== optimise: 3 fields of Stretch goals in mid-size, default settings"
start=$(date +%s.%N)
"$BIN" optimise mid-size --quiet --threads "$THREADS" --spec "Stretch goals" \
    --objective margin_after_incentives --constraint "rep_attrition <= 40" \
    --vary goal_setting.strategy.uplift=0.0..0.5 \
    --vary incentive.accelerators[0].multiplier=1.0..3.0 \
    --vary incentive.commission_rate=0.01..0.06 \
    --out "$OUT/best.toml" >"$OUT/optimise.txt"
end=$(date +%s.%N)
cat "$OUT/optimise.txt"
echo "optimise: $(echo "$end - $start" | bc) s"
