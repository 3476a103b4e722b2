#!/usr/bin/env bash
# The drop-in's speed, side by side in one run: Benchmarks/dropin/allreduce_loop (plain
# MPI_Allreduce, float sum, in place) without and with the release libtorus_mpi.so preloaded,
# the two alternated ROUNDS times; prints the median over rounds of each size's median time and
# the ratio. Usage: bash scripts/bench-dropin.sh [NP] [ROUNDS] [allreduce_loop options...]
#   bash scripts/bench-dropin.sh 2 5 -b 64M -e 64M -n 10        # the 64 MiB speed-up
#   bash scripts/bench-dropin.sh 2 5 -b 8 -e 8 -n 50             # the per-call cost below the threshold
# Preloaded runs use the library's defaults unless TORUS_* variables are exported.
set -euo pipefail
cd "$(dirname "$0")/.."
np=${1:-2}; rounds=${2:-5}; shift $(( $# >= 2 ? 2 : $# ))
bin=$(scripts/build-dropin.sh release 2>/dev/null)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mpicc -O2 -o "$work/loop" Benchmarks/dropin/allreduce_loop.c
root=()
[ "$(id -u)" -eq 0 ] && root=(--allow-run-as-root)
env_args=()
for v in $(env | grep -o '^TORUS_[A-Z_]*' || true); do env_args+=(-x "$v"); done
for r in $(seq "$rounds"); do
    mpirun "${root[@]}" --oversubscribe -np "$np" "$work/loop" "$@" > "$work/plain.$r"
    mpirun "${root[@]}" --oversubscribe -np "$np" -x LD_PRELOAD="$bin/libtorus_mpi.so" "${env_args[@]}" "$work/loop" "$@" > "$work/preloaded.$r"
done
python3 - "$work" "$rounds" "$np" <<'PY'
import statistics, sys
work, rounds, np = sys.argv[1], int(sys.argv[2]), sys.argv[3]
def load(kind):
    runs = [dict(tuple(map(float, line.split())) for line in open(f"{work}/{kind}.{r}")) for r in range(1, rounds + 1)]
    return {size: [run[size] for run in runs] for size in runs[0]}
plain, preloaded = load("plain"), load("preloaded")
print(f"# MPI_Allreduce, float sum, in place, np={np}; median over {rounds} alternated rounds of each run's median (us)")
print(f"{'bytes':>12} {'plain':>12} {'preloaded':>12} {'speed-up':>9} {'difference':>11}")
for size in sorted(plain):
    a, b = statistics.median(plain[size]), statistics.median(preloaded[size])
    print(f"{int(size):>12} {a:>12.3f} {b:>12.3f} {a / b:>8.2f}x {b - a:>+10.3f}")
PY
