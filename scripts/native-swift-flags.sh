#!/usr/bin/env bash
# Prints the swift build flags that target this machine's CPU (the Swift equivalent of
# -march=native): `-Xswiftc -target-cpu -Xswiftc znver4` on a Zen 4, for example. Builds without
# these flags run anywhere with the x86-64 baseline (SSE2) and are correct, only slower. On a CPU
# with F16C it also passes -DTORUS_HARDWARE_F16, so that the binary16 kernels convert with
# vcvtph2ps/vcvtps2ph instead of the portable bit manipulation (same results, ElementOps.swift).
set -euo pipefail
clang=$(dirname "$(readlink -f "$(command -v swift)")")/clang
cpu=$("$clang" -march=native -x c -c /dev/null -o /dev/null -### 2>&1 | sed -n 's/.*"-target-cpu" "\([^"]*\)".*/\1/p' | head -1)
flags=()
[ -n "$cpu" ] && flags+=(-Xswiftc -target-cpu -Xswiftc "$cpu")
[ -n "$cpu" ] && grep -qw f16c /proc/cpuinfo 2>/dev/null && flags+=(-Xswiftc -DTORUS_HARDWARE_F16)
echo "${flags[@]}"
