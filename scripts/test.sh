#!/usr/bin/env bash
# Every test: set up what is missing, build, run the Swift test suites, then the MPI tests on real
# mpirun (scripts/test-mpi.sh) and the drop-in library's tests (scripts/test-dropin.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
swift build --build-tests
# The Swift test process has twice died by signal 11 inside libgcc_s's unwinder (a backtrace,
# which Swift Testing takes at every throw, met a return address of 0; cause not found yet, README
# "Tests"). A second run tells such a crash from a failing test, which fails again.
if ! swift test --skip-build; then
    echo "test.sh: the Swift test run failed; running it once more (see README, Tests)" >&2
    swift test --skip-build
fi
status=0
scripts/test-mpi.sh || status=1
scripts/test-dropin.sh || status=1
exit $status
