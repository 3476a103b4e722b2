#!/usr/bin/env bash
# The main job: set up what is missing, build for this CPU, measure the reduction kernels, run the
# six-direction AllReduce beside ring and Rabenseifner on a simulated 4x4x4 torus (checked), predict
# an 8x8x8 Tofu-D torus and the Fugaku-LLM job placement with torus sim / torus rankmap, and finish
# with torus-bench on 8 MPI ranks as a 2x2x2 torus (checked) and the drop-in library preloaded into a
# plain C program (scripts/bench-dropin.sh).
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
echo "== predicted on an 8x8x8 Tofu-D torus, 256 MiB per rank (torus sim)" >&2
"$bin/torus" sim --torus 8x8x8 -a sixring,ring,rabenseifner --sweep 256M:256M
echo "== Fugaku-LLM 13B placement on 48x6x48: generated map vs ranks in rank order (torus rankmap)" >&2
"$bin/torus" rankmap generate --torus 48x6x48 --job tp=6,pp=8,dp=288 --output /dev/null --force
"$bin/torus" rankmap generate --torus 48x6x48 --job tp=6,pp=8,dp=288 --naive --output /dev/null --force
echo "== torus-bench: 8 MPI ranks as a 2x2x2 torus, sixring beside Open MPI's AllReduce, checked" >&2
root=()
[ "$(id -u)" -eq 0 ] && root=(--allow-run-as-root)
mpirun "${root[@]}" --oversubscribe -np 8 -x TORUS_DIMS=2x2x2 -x TORUS_VERBOSE=1 \
    "$bin/torus-bench" -b 64K -e 64M -f 4 -n 10 -w 3 -a sixring,mpi,auto -c 1
echo "== drop-in libtorus_mpi.so: a plain C program's MPI_Allreduce of 64 MiB, without and with the preload, 2 ranks" >&2
scripts/bench-dropin.sh 2 3 -b 64M -e 64M -n 10 -w 2
