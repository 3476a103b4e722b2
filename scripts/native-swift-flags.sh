#!/usr/bin/env bash
# Prints the swift build flags that target this machine's CPU (the Swift equivalent of
# -march=native): `-Xswiftc -target-cpu -Xswiftc znver4` on a Zen 4, for example. Builds without
# these flags run anywhere with the x86-64 baseline (SSE2) and are correct, only slower: the
# 16-bit float kernels need the F16C/AVX2 conversions to keep up with memory.
set -euo pipefail
clang=$(dirname "$(readlink -f "$(command -v swift)")")/clang
cpu=$("$clang" -march=native -x c -c /dev/null -o /dev/null -### 2>&1 | sed -n 's/.*"-target-cpu" "\([^"]*\)".*/\1/p' | head -1)
[ -n "$cpu" ] && echo "-Xswiftc -target-cpu -Xswiftc $cpu"
