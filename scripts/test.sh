#!/usr/bin/env bash
# Every test: set up what is missing, build, run the Swift test suites, then the MPI tests on real
# mpirun (scripts/test-mpi.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
swift build --build-tests
swift test --skip-build
scripts/test-mpi.sh
