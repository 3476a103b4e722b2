#!/usr/bin/env bash
# The overlap of a nonblocking AllReduce with computation (osu_iallreduce style):
# Benchmarks/dropin/iallreduce_overlap.c, a plain MPI_THREAD_MULTIPLE program, run without and
# with the release libtorus_mpi.so preloaded (the library then takes MPI_Iallreduce and runs it on
# its progress thread). Usage: bash scripts/bench-overlap.sh [NP] [iallreduce_overlap options...]
#   bash scripts/bench-overlap.sh 2 -b 1M -e 64M -n 5
set -euo pipefail
cd "$(dirname "$0")/.."
np=${1:-2}; shift $(( $# >= 1 ? 1 : 0 ))
bin=$(scripts/build-dropin.sh release 2>/dev/null)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mpicc -O2 -o "$work/overlap" Benchmarks/dropin/iallreduce_overlap.c
root=()
[ "$(id -u)" -eq 0 ] && root=(--allow-run-as-root)
env_args=()
for v in $(env | grep -o '^TORUS_[A-Z_]*' || true); do env_args+=(-x "$v"); done
echo "## plain MPI"
mpirun "${root[@]}" --oversubscribe -np "$np" "$work/overlap" "$@"
echo "## libtorus_mpi.so preloaded"
mpirun "${root[@]}" --oversubscribe -np "$np" -x LD_PRELOAD="$bin/libtorus_mpi.so" "${env_args[@]}" "$work/overlap" "$@"
