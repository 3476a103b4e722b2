#!/usr/bin/env bash
# The large-message path against what memory allows (issue 15, item 5): at np=2 and BYTES (default
# 64M), alternating ROUNDS times (default 3), Benchmarks/c/allreduce_memory_limit.c (two processes
# doing a two-rank AllReduce's data movement through shared memory, no MPI) and torus-bench's
# sixring, ring and MPI's own AllReduce (release build, out of place, float sum), and sixring and
# ring again without the scratch ring (TORUS_SCRATCH_SEGMENTS=0); prints each run and the medians,
# as busbw GB/s and as fractions of the limit (the best of the C program's variants). Every
# torus-bench row must have 0 wrong elements.
set -euo pipefail
cd "$(dirname "$0")/.."
bytes=${1:-64M}
rounds=${ROUNDS:-3}
flags=$(scripts/native-swift-flags.sh || true)
# shellcheck disable=SC2086
swift build -c release --product torus-bench $flags >/dev/null
bin=$(swift build -c release --show-bin-path $flags)/torus-bench
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
gcc -O3 -march=native -o "$out/limit" Benchmarks/c/allreduce_memory_limit.c
for _ in $(seq "$rounds"); do
    "$out/limit" "$bytes" 20 | tee -a "$out/limit.txt"
    mpirun --allow-run-as-root --oversubscribe -np 2 "$bin" -b "$bytes" -e "$bytes" -n 10 -w 2 -a sixring,ring,mpi --json \
        | tee -a "$out/bench.jsonl"
    TORUS_SCRATCH_SEGMENTS=0 mpirun --allow-run-as-root --oversubscribe -np 2 -x TORUS_SCRATCH_SEGMENTS "$bin" -b "$bytes" -e "$bytes" \
        -n 10 -w 2 -a sixring,ring --json | sed 's/"algorithm" *: *"\([a-z-]*\)"/"algorithm":"\1 (ring off)"/' | tee -a "$out/bench.jsonl"
done
python3 - "$out" <<'PY'
import json, re, statistics, sys
d = sys.argv[1]
limits = {"staged": [], "fused": [], "chunked staged": []}
for line in open(f"{d}/limit.txt"):
    m = re.match(r"(staged|fused|chunked staged) \(.*busbw\s+([\d.]+) GB/s", line)
    if m: limits[m.group(1)].append(float(m.group(2)))
rows = [json.loads(l) for l in open(f"{d}/bench.jsonl") if l.startswith("{")]
limit = max(statistics.median(v) for v in limits.values())
print("median busbw GB/s: " + ", ".join(f"C {k} {statistics.median(v):.2f}" for k, v in limits.items()))
wrong = sum(r["wrong"] for r in rows)
for a in ("sixring", "ring", "sixring (ring off)", "ring (ring off)", "mpi"):
    v = [r["busbw_gbps"] for r in rows if r["algorithm"] == a and not r["in_place"]]
    print(f"  {a:18s} {statistics.median(v):.2f} GB/s = {statistics.median(v) / limit:.2f} of the limit")
print(f"wrong elements in all torus-bench rows: {wrong}")
sys.exit(1 if wrong else 0)
PY
