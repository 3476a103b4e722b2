#!/usr/bin/env bash
# The Swift suites under a sanitizer (not part of CI: see the README for how long each takes).
#   bash scripts/sanitize.sh thread  [FILTER]   ThreadSanitizer: by default the threaded suites
#                                                (reduction pool, nonblocking requests, kernels)
#   bash scripts/sanitize.sh address [FILTER]   AddressSanitizer (stack use after return too): by
#                                                default the runtime, simulated-torus, rank-map and drop-in suites
# FILTER is a Swift Testing --filter (a regular expression over suite and test names; "." for all).
# Builds into .build-thread or .build-address; stops at the first report (exit non-zero).
set -euo pipefail
cd "$(dirname "$0")/.."
kind=${1:-thread}
case $kind in
    thread) filter=${2:-ReductionPoolTests|NonblockingAllReduceTests|ReductionKernelTests} ;;
    address) filter=${2:-TorusEnvironmentTests|ReductionPoolTests|SimulatedTorusTests|SimulatedAllReduceTests|RankMapTests|DropInTests|MemoryBudgetTests} ;;
    *) echo "sanitize: unknown sanitizer '$kind': use thread or address" >&2; exit 64 ;;
esac
swift build --build-tests -Xswiftc -sanitize="$kind" -Xcc -fsanitize="$kind" --build-path ".build-$kind" >&2
export TSAN_OPTIONS=halt_on_error=1 ASAN_OPTIONS=detect_stack_use_after_return=1:detect_leaks=0:halt_on_error=1
started=$SECONDS
".build-$kind/debug/TorusCollectivesPackageTests.xctest" --testing-library swift-testing --filter "$filter"
echo "sanitize $kind: clean, $((SECONDS - started)) s for '$filter'"
