#!/usr/bin/env bash
# Automatic selection against the best fixed route (README "Calibrating a model of this machine"):
# with TORUS_MODEL=MODEL, torus-bench times auto, mpi, sixring, ring, rabenseifner and recursive
# doubling at every size from 8 B to 64 MiB (×8), out of place, float sum, results checked. Each
# size runs in ROUNDS separate invocations with the routes in a rotated order (timings here drift
# by tens of percent over minutes); a route's figure is the median of its per-round medians.
#   scripts/bench-auto.sh NP MODEL [ROUNDS]      e.g. scripts/bench-auto.sh 2 calibrated-model.json 3
set -euo pipefail
cd "$(dirname "$0")/.."
np=${1:?usage: scripts/bench-auto.sh NP MODEL [ROUNDS]}
model=${2:?usage: scripts/bench-auto.sh NP MODEL [ROUNDS]}
rounds=${3:-3}
[ -f "$model" ] || { echo "bench-auto: no model file $model (make one: mpirun -np $np torus-bench --calibrate $model)" >&2; exit 2; }
swift build -c release $(bash scripts/native-swift-flags.sh) --product torus-bench >/dev/null
bin=$(swift build -c release --show-bin-path)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
routes=(auto mpi sixring ring rabenseifner recursive-doubling)
for bytes in 8 64 512 4096 32768 262144 2097152 16777216 67108864; do
    if [ "$bytes" -le 32768 ]; then n=400; w=20; elif [ "$bytes" -le 2097152 ]; then n=40; w=3; else n=8; w=1; fi
    for ((k = 0; k < rounds; k++)); do
        order=("${routes[@]:k % ${#routes[@]}}" "${routes[@]:0:k % ${#routes[@]}}")
        list=$(IFS=,; echo "${order[*]}")
        TORUS_MODEL="$model" mpirun --allow-run-as-root --oversubscribe -x TORUS_MODEL -np "$np" "$bin/torus-bench" \
            -b "$bytes" -e "$bytes" -n $n -w $w -a "$list" --json >>"$tmp/rows.json" 2>/dev/null
    done
done
/usr/bin/python3 - "$tmp/rows.json" "$np" <<'PY'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.startswith("{") and '"in_place":false' in l.replace(" ", "")]
routes = ["auto", "mpi", "sixring", "ring", "rabenseifner", "recursive-doubling"]
print(f"np={sys.argv[2]}, µs, median over rounds of each round's median, out of place")
print("| bytes | " + " | ".join(routes) + " | best fixed | auto / best | wrong |")
print("|---" * (len(routes) + 4) + "|")
worst = 0
for b in sorted({r["bytes"] for r in rows}):
    t = {a: statistics.median([r["time_us"] for r in rows if r["bytes"] == b and r["algorithm"] == a]) for a in routes}
    wrong = sum(r["wrong"] or 0 for r in rows if r["bytes"] == b)
    best = min(routes[1:], key=t.get)
    ratio = t["auto"] / t[best]
    worst = max(worst, ratio)
    f = lambda v: f"{v:.2f}" if v < 10 else f"{v:.1f}" if v < 1000 else f"{v:.0f}"
    print(f"| {b} | " + " | ".join(f(t[a]) for a in routes) + f" | {best} | {ratio:.2f} | {wrong} |")
print(f"worst auto / best: {worst:.2f}")
PY
