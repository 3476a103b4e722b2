#!/usr/bin/env bash
# libFuzzer over the parsers users feed us (rank maps, TORUS_* values, sizes, shapes, jobs, core
# lists: Sources/TorusFuzzing), with AddressSanitizer.
#   bash scripts/fuzz.sh [RUNS] [TARGET...]   RUNS inputs per target (default 100000); all targets by default
# Builds torus-fuzz into .build-fuzz (TORUS_FUZZ=1 adds it to the package). Each target starts from
# its seeds in Tests/TorusFuzzingTests/Inputs/<target>; an input that crashes is copied there, so
# FuzzRegressionTests replays it from then on (fix the parser, then commit the input).
# Prints one line per target: inputs run, crashes. Exits non-zero if any target crashed.
set -uo pipefail
cd "$(dirname "$0")/.."
runs=${1:-100000}
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(vcoord rankfile json environment size shape job cores)
TORUS_FUZZ=1 swift build --build-path .build-fuzz --product torus-fuzz \
    -Xswiftc -sanitize=fuzzer,address -Xswiftc -parse-as-library >&2 || exit 1
fuzzer=.build-fuzz/debug/torus-fuzz
inputs=Tests/TorusFuzzingTests/Inputs
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export ASAN_OPTIONS=detect_leaks=0
failed=0
for target in "${targets[@]}"; do
    [ -d "$inputs/$target" ] || { echo "fuzz: unknown target '$target' (see $inputs)" >&2; exit 64; }
    mkdir -p "$work/$target/corpus" "$work/$target/crashes"
    started=$SECONDS
    # -max_len: rank maps for 64 ranks fit in 4 KiB; -rss_limit_mb: a parser that allocates without
    # bound is a finding too; -timeout: one input taking 10 s is a hang.
    TORUS_FUZZ_TARGET=$target "$fuzzer" -runs="$runs" -max_len=4096 -rss_limit_mb=2048 -timeout=10 \
        -artifact_prefix="$work/$target/crashes/" "$work/$target/corpus" "$inputs/$target" > "$work/$target/log" 2>&1
    status=$?
    done_runs=$(grep -o 'Done [0-9]* runs' "$work/$target/log" | grep -o '[0-9]*' || true)
    crashes=$(find "$work/$target/crashes" -type f | wc -l)
    echo "fuzz $target: ${done_runs:-0} inputs run, $crashes crashes, $((SECONDS - started)) s"
    if [ "$status" != 0 ] || [ "$crashes" != 0 ]; then
        failed=1
        grep -m 5 -E "ERROR|Fatal error|panic|deadly signal" "$work/$target/log" | sed 's/^/    /'
        for f in "$work/$target/crashes"/*; do
            [ -f "$f" ] || continue
            cp "$f" "$inputs/$target/$(basename "$f")"
            echo "    saved $inputs/$target/$(basename "$f") (FuzzRegressionTests now replays it)"
        done
    fi
done
exit $failed
