#!/usr/bin/env bash
# MPI_Allreduce with the receive buffer 16 bytes past the send buffer modulo 4 KiB (as two
# same-sized malloc buffers lie) against 0 bytes: Benchmarks/c/allreduce_buffer_distance.c run with
# MPI's own AllReduce and with the release libtorus_mpi.so preloaded (TORUS_ALGORITHM each of
# ALGORITHMS), np=2, float sum, out of place, every combination alternated ROUNDS times; prints the
# median over rounds of each run's median (slowest rank) and the wrong-element count.
# Usage: bash scripts/bench-buffer-distance.sh [ROUNDS] [BYTES...]     (default 3; 16384 65536 262144)
#   ALGORITHMS="recursive-doubling ring sixring" (default) chooses the preloaded routes.
# To compare two builds, set OLD_LIB to another libtorus_mpi.so: its runs are labelled "old".
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-3}; shift $(( $# >= 1 ? 1 : 0 ))
sizes=("$@"); [ ${#sizes[@]} -eq 0 ] && sizes=(16384 65536 262144)
algorithms=${ALGORITHMS:-recursive-doubling ring sixring}
[[ "$rounds" =~ ^[1-9][0-9]*$ ]] || { echo "bench-buffer-distance: ROUNDS '$rounds': give a positive whole number, such as 3" >&2; exit 2; }
for bytes in "${sizes[@]}"; do
    [[ "$bytes" =~ ^[1-9][0-9]*$ ]] && (( bytes % 4 == 0 )) ||
        { echo "bench-buffer-distance: BYTES '$bytes': give a positive multiple of 4 in bytes, such as 262144" >&2; exit 2; }
done
[ -z "${OLD_LIB:-}" ] || [ -f "$OLD_LIB" ] || { echo "bench-buffer-distance: OLD_LIB=$OLD_LIB: no such file (a libtorus_mpi.so)" >&2; exit 2; }
bin=$(scripts/build-dropin.sh release 2>/dev/null)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mpicc -O2 -o "$work/distance" Benchmarks/c/allreduce_buffer_distance.c
root=()
[ "$(id -u)" -eq 0 ] && root=(--allow-run-as-root)
libs=("new=$bin/libtorus_mpi.so")
[ -n "${OLD_LIB:-}" ] && libs=("old=$OLD_LIB" "${libs[@]}")
for _ in $(seq "$rounds"); do
    for bytes in "${sizes[@]}"; do
        for distance in 0 16; do
            printf 'mpi - %s\n' "$(mpirun "${root[@]}" --oversubscribe -np 2 "$work/distance" "$bytes" "$distance" 400)" >> "$work/runs"
            for algorithm in $algorithms; do
                for lib in "${libs[@]}"; do
                    printf '%s %s %s\n' "$algorithm" "${lib%%=*}" "$(mpirun "${root[@]}" --oversubscribe -np 2 -x LD_PRELOAD="${lib#*=}" \
                        -x TORUS_ALGORITHM="$algorithm" "$work/distance" "$bytes" "$distance" 400)" >> "$work/runs"
                done
            done
        done
    done
done
python3 - "$work/runs" <<'PY'
import collections, statistics, sys
times, wrong = collections.defaultdict(list), collections.Counter()
for line in open(sys.argv[1]):
    route, build, _, size, _, distance, _, us, _, _, bad = line.split()
    key = (int(size), route, build, int(distance))
    times[key].append(float(us)); wrong[key] += int(bad)
print(f"{'bytes':>7} {'route':19} {'build':5} {'distance 0':>11} {'distance 16':>12}  ratio  wrong")
for size, route, build in sorted({k[:3] for k in times}):
    a, b = (statistics.median(times[(size, route, build, d)]) for d in (0, 16))
    bad = wrong[(size, route, build, 0)] + wrong[(size, route, build, 16)]
    print(f"{size:>7} {route:19} {build:5} {a:9.1f}us {b:10.1f}us  {b / a:5.2f}  {bad}")
PY
