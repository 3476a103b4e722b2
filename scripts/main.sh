#!/usr/bin/env bash
# The main job: set up what is missing, build for this CPU, measure the reduction kernels, then run
# the six-direction AllReduce beside ring and Rabenseifner on a simulated 4x4x4 torus, checked.
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
echo "== AllReduce on a simulated 4x4x4 torus, every rank's result checked (torus allreduce)" >&2
"$bin/torus" allreduce --torus 4x4x4 -a sixring,ring,rabenseifner --bytes 16M -n 3
