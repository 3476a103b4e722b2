#!/usr/bin/env bash
# Builds libtorus_mpi.so (the drop-in MPI_Allreduce and the C API) and writes its pkg-config entry,
# torus_mpi.pc, next to it. Prints the directory that holds both. Usage:
#   bash scripts/build-dropin.sh [debug|release]      (default release, built for this CPU)
# then  mpirun -x LD_PRELOAD=<dir>/libtorus_mpi.so ...   or
#       mpicc app.c $(PKG_CONFIG_PATH=<dir> pkg-config --cflags --libs torus_mpi)
set -euo pipefail
cd "$(dirname "$0")/.."
configuration=${1:-release}
case $configuration in
    release) flags=$(scripts/native-swift-flags.sh || true) ;;
    debug) flags= ;;
    *) echo "build-dropin: unknown configuration '$configuration': use debug or release" >&2; exit 64 ;;
esac
# shellcheck disable=SC2086
swift build -c "$configuration" --product torus_mpi $flags >&2
# shellcheck disable=SC2086
bin=$(swift build -c "$configuration" --show-bin-path $flags)
cat > "$bin/torus_mpi.pc" <<PC
prefix=$PWD
libdir=$bin
includedir=$PWD/Sources/CTorusMPI/include

Name: torus_mpi
Description: TorusCollectives: torus AllReduce for MPI programs (drop-in MPI_Allreduce and the torus.h C API)
Version: 0.1
Requires: ompi-c
Cflags: -I\${includedir}
Libs: -L\${libdir} -Wl,-rpath,\${libdir} -ltorus_mpi
PC
echo "$bin"
