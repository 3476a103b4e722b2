#!/usr/bin/env bash
# The main job: set up what is missing, build for this CPU, run the reduction-kernel benchmark.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
flags=$(scripts/native-swift-flags.sh || true)
echo "== build (release, $flags)" >&2
# shellcheck disable=SC2086
swift build -c release $flags
bin=$(swift build -c release --show-bin-path $flags)
echo "== reduction kernels vs memcpy (torus kernels)" >&2
"$bin/torus" kernels
