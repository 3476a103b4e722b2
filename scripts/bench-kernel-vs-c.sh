#!/usr/bin/env bash
# Float32 sum at 64 MiB: `torus kernels` (release, native CPU) against the same loop in C built
# with gcc -O3 -march=native, alternating in one run; prints each run and the medians' ratio.
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${ROUNDS:-5}
flags=$(scripts/native-swift-flags.sh || true)
# shellcheck disable=SC2086
swift build -c release --product torus $flags >/dev/null
bin=$(swift build -c release --show-bin-path $flags)/torus
out=$(mktemp -d)
gcc -O3 -march=native -o "$out/sum_f32" Benchmarks/c/sum_f32.c
for _ in $(seq "$rounds"); do
    "$bin" kernels --type f32 --op sum --bytes 64M --json | tee -a "$out/swift.jsonl"
    "$out/sum_f32" $((64 << 20)) | tee -a "$out/c.jsonl"
done
python3 - "$out" <<'PY'
import json, statistics, sys
d = sys.argv[1]
med = lambda f: statistics.median(json.loads(l)["gbps"] for l in open(f"{d}/{f}"))
s, c = med("swift.jsonl"), med("c.jsonl")
print(f"median GB/s: swift {s:.2f}  C -O3 -march=native {c:.2f}  ratio {s / c:.2f}")
PY
rm -rf "$out"
