#!/usr/bin/env bash
# Automatic selection against the best fixed route (README "Calibrating a model of this machine"):
# with TORUS_MODEL=MODEL, torus-bench times auto, mpi, sixring, ring, rabenseifner and recursive
# doubling at every size from 8 B to 64 MiB (×8), out of place, float sum, results checked. Each
# size runs in ROUNDS separate invocations with the routes in a rotated order (timings here drift
# by tens of percent over minutes); a route's figure is the median of its per-round medians.
# "auto / best" divides those medians; "paired" is the median over rounds of auto's time divided by
# the best fixed route's time in the same invocation (the best by the medians): on a machine whose
# speed changes between invocations (this 2-core VM has two modes, README) only that ratio
# compares the two under the same conditions.
# TUNE=N runs every route with TORUS_TUNE=N (auto then times its close candidates, N calls each, in
# the first calls of each size) and enough warm-up calls for that trial to end before timing.
#   scripts/bench-auto.sh NP MODEL [ROUNDS]      e.g. scripts/bench-auto.sh 2 calibrated-model.json 3
#   TUNE=5 scripts/bench-auto.sh NP MODEL [ROUNDS]
set -euo pipefail
cd "$(dirname "$0")/.."
np=${1:?usage: scripts/bench-auto.sh NP MODEL [ROUNDS]}
model=${2:?usage: scripts/bench-auto.sh NP MODEL [ROUNDS]}
rounds=${3:-3}
tune=${TUNE:-0}
[[ "$tune" =~ ^[0-9]+$ ]] || { echo "bench-auto: TUNE=$tune: give the timed calls per candidate, such as 5 (0: off)" >&2; exit 2; }
# A trial runs each of at most four candidates twice, one untimed call and TUNE timed ones each time.
trial=$((2 * 4 * (tune + 1)))
[ -f "$model" ] || { echo "bench-auto: no model file $model (make one: mpirun -np $np torus-bench --calibrate $model)" >&2; exit 2; }
swift build -c release $(bash scripts/native-swift-flags.sh) --product torus-bench >/dev/null
bin=$(swift build -c release --show-bin-path)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
routes=(auto mpi sixring ring rabenseifner recursive-doubling)
for bytes in 8 64 512 4096 32768 262144 2097152 16777216 67108864; do
    if [ "$bytes" -le 32768 ]; then n=400; w=20; elif [ "$bytes" -le 2097152 ]; then n=40; w=3; else n=8; w=1; fi
    [ "$tune" -gt 0 ] && w=$((w + trial))
    for ((k = 0; k < rounds; k++)); do
        order=("${routes[@]:k % ${#routes[@]}}" "${routes[@]:0:k % ${#routes[@]}}")
        list=$(IFS=,; echo "${order[*]}")
        TORUS_MODEL="$model" TORUS_TUNE=$tune mpirun --allow-run-as-root --oversubscribe -x TORUS_MODEL -x TORUS_TUNE -np "$np" "$bin/torus-bench" \
            -b "$bytes" -e "$bytes" -n $n -w $w -a "$list" --json >"$tmp/rows.$bytes.$k.json" 2>/dev/null
    done
done
/usr/bin/python3 - "$np" "$tune" "$tmp"/rows.*.json <<'PY'
import json, statistics, sys
rows = []
for k, name in enumerate(sys.argv[3:]):   # one file per invocation: its rows share a round
    rows += [dict(json.loads(l), round=k) for l in open(name) if l.startswith("{") and '"in_place":false' in l.replace(" ", "")]
routes = ["auto", "mpi", "sixring", "ring", "rabenseifner", "recursive-doubling"]
print(f"np={sys.argv[1]}, TORUS_TUNE={sys.argv[2]}, µs, median over rounds of each round's median, out of place")
print("| bytes | " + " | ".join(routes) + " | best fixed | auto / best | paired | wrong |")
print("|---" * (len(routes) + 5) + "|")
worst = worstPaired = 0
for b in sorted({r["bytes"] for r in rows}):
    t = {a: statistics.median([r["time_us"] for r in rows if r["bytes"] == b and r["algorithm"] == a]) for a in routes}
    wrong = sum(r["wrong"] or 0 for r in rows if r["bytes"] == b)
    best = min(routes[1:], key=t.get)
    ratio = t["auto"] / t[best]
    worst = max(worst, ratio)
    mine = lambda a: {r["round"]: r["time_us"] for r in rows if r["bytes"] == b and r["algorithm"] == a}
    autoTimes, bestTimes = mine("auto"), mine(best)
    paired = statistics.median([autoTimes[k] / bestTimes[k] for k in autoTimes if k in bestTimes])
    worstPaired = max(worstPaired, paired)
    f = lambda v: f"{v:.2f}" if v < 10 else f"{v:.1f}" if v < 1000 else f"{v:.0f}"
    print(f"| {b} | " + " | ".join(f(t[a]) for a in routes) + f" | {best} | {ratio:.2f} | {paired:.2f} | {wrong} |")
print(f"worst auto / best: {worst:.2f}; paired: {worstPaired:.2f}")
PY
