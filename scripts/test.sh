#!/usr/bin/env bash
# Every test: set up what is missing, build, run the Swift test suites, then the MPI tests on real
# mpirun (scripts/test-mpi.sh), the drop-in library's tests (scripts/test-dropin.sh) and a short
# fuzzing run of the parsers (scripts/fuzz.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
swift build --build-tests
swift test --skip-build
status=0
scripts/test-mpi.sh || status=1
scripts/test-dropin.sh || status=1
# The parsers under libFuzzer, a short run (the README gives the long one).
scripts/fuzz.sh 2000 || status=1
exit $status
