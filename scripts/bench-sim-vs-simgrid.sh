#!/usr/bin/env bash
# torus sim (payload mode) against SimGrid SMPI 3.32 on the same ring AllReduce: 64 ranks on a
# 4x4x4 torus, 16 MiB of floats, links of 6.8 GB/s and 0.49 us, no software overhead, reductions free
# (SimGrid: smpi/simulate-computation off). Prints both predicted times and both wall times, run
# side by side, and the wall-time ratio (payload against payload); the last column is torus sim's
# timing-only run of the same case, for scale. Installs SimGrid (apt, as root) when missing.
# The floor column is Benchmarks/simgrid/payload-floor.c: no simulator at all, just the same real
# bytes built, reduced, copied and checked in one C process on all cores (OpenMP) — what any payload
# simulator on this machine must spend at least.
# Note: SMPI's lr ring runs in rank order (some steps cross two hops on 4x4x4); torus sim's ring
# follows a one-hop (snake) order, so the predicted times differ by design.
set -euo pipefail
cd "$(dirname "$0")/.."
BYTES=${BYTES:-16777216}
ROUNDS=${ROUNDS:-3}
if ! command -v smpicc >/dev/null; then
    if [ "$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq libsimgrid-dev simgrid >/dev/null
    else echo "SimGrid is missing: run  sudo apt-get install libsimgrid-dev simgrid" >&2; exit 1; fi
fi
swift build -c release --product torus >/dev/null
TORUS=$(swift build -c release --show-bin-path)/torus
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cat > "$work/torus.xml" <<XML
<?xml version='1.0'?>
<!DOCTYPE platform SYSTEM "https://simgrid.org/simgrid.dtd">
<platform version="4.1">
  <cluster id="torus" prefix="node-" radical="0-63" suffix="" speed="1Gf" bw="6.8GBps" lat="0.49us"
           topology="TORUS" topo_parameters="4,4,4" loopback_bw="1000GBps" loopback_lat="0"/>
</platform>
XML
for i in $(seq 0 63); do echo "node-$i"; done > "$work/hosts"
smpicc -O2 -o "$work/allreduce" Benchmarks/simgrid/allreduce.c 2>/dev/null
cc -O2 -march=native -fopenmp -o "$work/floor" Benchmarks/simgrid/payload-floor.c
now() { date +%s.%N; }
echo "# ring AllReduce, 64 ranks, 4x4x4 torus, $BYTES bytes of float, $ROUNDS rounds side by side"
echo "# SimGrid: smpirun --cfg=smpi/allreduce:lr, cluster topology=TORUS 4,4,4, bw 6.8GBps, lat 0.49us, simulate-computation off"
echo "# torus sim: -a ring --payload --preset ideal (6.8 GB/s links, 0.49 us latency, 0.1 us/hop, no overhead, free reduction)"
printf "%-6s %14s %14s %12s %12s %8s %14s %11s %12s\n" round simgrid_pred_s torus_pred_s simgrid_wall torus_wall ratio timing_only_wall floor_wall floor_ratio
ratios=(); floors=()
for r in $(seq 1 "$ROUNDS"); do
    t0=$(now)
    sg=$(smpirun -np 64 -platform "$work/torus.xml" -hostfile "$work/hosts" --cfg=smpi/allreduce:lr \
         --cfg=smpi/simulate-computation:no --log=root.thres:critical "$work/allreduce" "$BYTES" 2>/dev/null | awk '/simgrid_predicted_s/ {print $2, $4}')
    t1=$(now)
    ts=$("$TORUS" sim --torus 4x4x4 -a ring --bytes "$BYTES" --payload --preset ideal --json \
         | python3 -c 'import json,sys; o=json.load(sys.stdin); print(o["time_s"], o["wrong_elements"])')
    t2=$(now)
    "$TORUS" sim --torus 4x4x4 -a ring --bytes "$BYTES" --preset ideal --json >/dev/null
    t3=$(now)
    "$work/floor" "$BYTES" >/dev/null
    t4=$(now)
    read -r sgp sgwrong <<<"$sg"; read -r tsp tswrong <<<"$ts"
    [ "$sgwrong" = 0 ] && [ "$tswrong" = 0 ] || { echo "a result was wrong (simgrid $sgwrong, torus $tswrong)" >&2; exit 1; }
    sgw=$(python3 -c "print($t1 - $t0)"); tsw=$(python3 -c "print($t2 - $t1)"); ratio=$(python3 -c "print($sgw / $tsw)"); tow=$(python3 -c "print($t3 - $t2)")
    flw=$(python3 -c "print($t4 - $t3)"); flr=$(python3 -c "print($sgw / $flw)")
    ratios+=("$ratio"); floors+=("$flr")
    printf "%-6s %14.6f %14.6f %12.3f %12.3f %8.1f %14.3f %11.3f %12.1f\n" "$r" "$sgp" "$tsp" "$sgw" "$tsw" "$ratio" "$tow" "$flw" "$flr"
done
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
printf "median wall-time ratio (SimGrid / torus sim): %.1f\n" "$(median "${ratios[@]}")"
printf "median wall-time ratio (SimGrid / the floor, no simulator): %.1f\n" "$(median "${floors[@]}")"
