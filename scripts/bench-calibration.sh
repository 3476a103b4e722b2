#!/usr/bin/env bash
# Calibrates this machine and holds the model against measurement (README "Calibrating a model of
# this machine"): torus-bench --calibrate at NP ranks writes MODEL (refused if it holds an NP-rank
# calibration already: pass a new path), torus-bench measures sixring, ring and recursive doubling,
# torus sim --model predicts them, and the script prints predicted against measured and writes an
# SVG of time against size (measured points, predicted lines).
#   scripts/bench-calibration.sh [NP] [MODEL] [SVG]     defaults: 2, ./calibrated-model.json, ./calibration.svg
set -euo pipefail
cd "$(dirname "$0")/.."
np=${1:-2}
model=${2:-calibrated-model.json}
svg=${3:-calibration.svg}
[ -e "$svg" ] && { echo "bench-calibration: $svg exists; give a new path (nothing is overwritten)" >&2; exit 2; }
swift build -c release $(bash scripts/native-swift-flags.sh) --product torus-bench >/dev/null
swift build -c release $(bash scripts/native-swift-flags.sh) --product torus >/dev/null
bin=$(swift build -c release --show-bin-path)
mpirun=(mpirun --allow-run-as-root --oversubscribe)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

"${mpirun[@]}" -np "$np" "$bin/torus-bench" --calibrate "$model"
# Three rounds, the algorithms in a rotated order each time (timings here drift by tens of percent
# over minutes); the plot takes the median of the rounds' medians.
for order in sixring,ring,recursive-doubling ring,recursive-doubling,sixring recursive-doubling,sixring,ring; do
    "${mpirun[@]}" -np "$np" "$bin/torus-bench" -b 64K -e 1M -f 16 -n 100 -w 5 -a "$order" --json >>"$tmp/measured.json"
    "${mpirun[@]}" -np "$np" "$bin/torus-bench" -b 16M -e 64M -f 4 -n 10 -w 2 -a "$order" --json >>"$tmp/measured.json"
done
torus=$(python3 -c "import sys; n=int(sys.argv[1]); print(f'{n}x1x1')" "$np")
# The runtime's own view of NP ranks on one host (a near-cubic grid) is what the model's links join.
grid=$("${mpirun[@]}" -np "$np" env TORUS_VERBOSE=1 "$bin/torus-bench" -b 8 -e 8 -n 1 -a ring 2>&1 | sed -n 's/.*communicator of [0-9]* ranks: box \([0-9x]*\) .*/\1/p' | head -1)
torus=${grid:-$torus}
"$bin/torus" sim --model "$model" --torus "$torus" -a sixring,ring,recursive-doubling --sweep 32K:128M --csv >"$tmp/predicted.csv"
/usr/bin/python3 scripts/plot-calibration.py "$tmp/predicted.csv" "$tmp/measured.json" --svg "$svg" --title "np=$np on $(hostname), model $model"
