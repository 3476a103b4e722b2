#!/usr/bin/env bash
# Tests of the drop-in libtorus_mpi.so on real mpirun (part of scripts/test.sh): the check program
# preloaded and linked (every C and Fortran type x op against PMPI_Allreduce, fallbacks, a pending
# wildcard receive), every algorithm forced, the pass-through, split/allreduce/free cycles,
# MPI_THREAD_MULTIPLE, MPI_Reduce_scatter_block and MPI_Allgather, the C API, invalid settings, mpi_f08, and the C, Fortran and mpi4py
# training examples plain and preloaded. Prints one line per case and "dropin: N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/.."
bin=$(scripts/build-dropin.sh debug 2>/dev/null) || { echo "FAIL building libtorus_mpi.so"; exit 1; }
lib=$bin/libtorus_mpi.so
preload=(-x LD_PRELOAD="$lib")
python=/usr/bin/python3
# shellcheck source=scripts/test-cases.sh
source scripts/test-cases.sh

cc=(mpicc -O2 -Wall)
"${cc[@]}" -o "$out/check_dropin" Tests/DropIn/check_dropin.c -ldl &&
    "${cc[@]}" -o "$out/check_linked" Tests/DropIn/check_dropin.c -ldl -L"$bin" -Wl,-rpath,"$bin" -ltorus_mpi &&
    "${cc[@]}" -pthread -o "$out/check_threads" Tests/DropIn/check_threads.c &&
    "${cc[@]}" -o "$out/check_capi" Tests/DropIn/check_capi.c $(PKG_CONFIG_PATH="$bin" pkg-config --cflags --libs torus_mpi) &&
    "${cc[@]}" -o "$out/check_iallreduce" Tests/DropIn/check_iallreduce.c -ldl $(PKG_CONFIG_PATH="$bin" pkg-config --cflags --libs torus_mpi) &&
    "${cc[@]}" -DPLAIN_MPI -o "$out/check_mpi_iallreduce" Tests/DropIn/check_iallreduce.c -ldl &&
    "${cc[@]}" -o "$out/check_first_requests" Tests/DropIn/check_first_requests.c -ldl $(PKG_CONFIG_PATH="$bin" pkg-config --cflags --libs torus_mpi) &&
    "${cc[@]}" -DPLAIN_MPI -o "$out/check_mpi_first_requests" Tests/DropIn/check_first_requests.c -ldl &&
    "${cc[@]}" -o "$out/check_mismatch" Tests/DropIn/check_mismatch.c &&
    "${cc[@]}" -o "$out/check_halves" Tests/DropIn/check_halves.c -ldl &&
    "${cc[@]}" -DCAPI -o "$out/check_halves_capi" Tests/DropIn/check_halves.c -ldl $(PKG_CONFIG_PATH="$bin" pkg-config --cflags --libs torus_mpi) &&
    "${cc[@]}" -o "$out/sgd" Examples/c/sgd.c -lm &&
    "${cc[@]}" -o "$out/buffer_distance" Benchmarks/c/allreduce_buffer_distance.c &&
    mpif90 -O2 -o "$out/sgd_f" Examples/fortran/sgd.f90 &&
    mpif90 -O2 -o "$out/check_f08" Tests/DropIn/check_f08.f90 >"$out/log" 2>&1 ||
    { fail "compiling the test programs and examples"; exit 1; }

# The check program itself, without the library: PMPI against PMPI.
run "check program without the library, np=2" "${mpirun[@]}" -np 2 "$out/check_dropin"
expect "check program sees no library" "library not loaded"

# Preloaded, every call the library can take taken (TORUS_MIN_BYTES=1), np 1 to 8.
for np in 1 2 3 4 8; do
    run "preloaded, every type x op, np=$np" "${mpirun[@]}" -np $np "${preload[@]}" -x TORUS_MIN_BYTES=1 "$out/check_dropin"
    grep -h "checks passed" "$out/log" | sed 's/^/    /'
done
# Receive buffers 16 bytes past the send buffer modulo 4 KiB (two same-sized malloc buffers, where
# glibc's memcpy is slow on AMD Zen and ByteCopy avoids it; recursive doubling's higher rank reads
# its input in place): every element checked, recursive doubling at np 2 and 3, ring.
for np in 2 3; do
    run "preloaded recursive-doubling, buffers 16 bytes apart, 256 KiB, np=$np" "${mpirun[@]}" -np $np "${preload[@]}" \
        -x TORUS_ALGORITHM=recursive-doubling "$out/buffer_distance" 262144 16 5
done
run "preloaded ring, buffers 16 bytes apart, 40 KiB, np=2" "${mpirun[@]}" -np 2 "${preload[@]}" -x TORUS_ALGORITHM=ring \
    "$out/buffer_distance" 40960 16 5
# The default threshold (16 MiB): the check's calls are smaller, so all go to MPI.
run "preloaded, default TORUS_MIN_BYTES, np=2" "${mpirun[@]}" -np 2 "${preload[@]}" "$out/check_dropin"
# A calibrated model (TORUS_MODEL): every size asks it, MPI among the candidates, results checked.
run "calibrating for the drop-in, np=2" "${mpirun[@]}" -np 2 "$bin/torus-bench" --calibrate "$out/model.json" -e 1M
run "preloaded with TORUS_MODEL, np=2" "${mpirun[@]}" -np 2 "${preload[@]}" -x TORUS_MODEL="$out/model.json" -x TORUS_VERBOSE=2 "$out/check_dropin"
expect "TORUS_MODEL: routes from the calibrated estimates" "calibrated estimates"
expect "TORUS_MODEL: the banner says the model routes every size" "each call → the cheapest estimate of calibrated model"
# TORUS_TUNE with a model: the first calls of each size time the close routes (most of the check
# program's calls are in such a trial, so routes change from call to call), results checked. The
# project's release-build model: one made with this debug build prices every schedule far above MPI.
run "preloaded with TORUS_MODEL and TORUS_TUNE=1, np=2" "${mpirun[@]}" -np 2 "${preload[@]}" -x TORUS_MODEL=Benchmarks/results/model-2cpu-vm.json -x TORUS_TUNE=1 \
    -x TORUS_VERBOSE=1 "$out/check_dropin"
expect "TORUS_TUNE: a size timed and settled" "slowest rank (TORUS_TUNE)"
# Linked before libmpi instead of preloaded.
run "linked before libmpi, np=3" "${mpirun[@]}" -np 3 -x TORUS_MIN_BYTES=1 "$out/check_linked"
expect "linked library is loaded" "library loaded"
# Every algorithm forced (a named TORUS_ALGORITHM takes every size), and the pass-through.
for algorithm in sixring ring bidirectional-ring recursive-doubling rabenseifner reduce-broadcast swing swing-latency; do
    run "TORUS_ALGORITHM=$algorithm, np=4" "${mpirun[@]}" -np 4 "${preload[@]}" -x TORUS_ALGORITHM=$algorithm "$out/check_dropin" --large 30011
done
run "TORUS_ALGORITHM=mpi passes everything through, np=2" "${mpirun[@]}" -np 2 "${preload[@]}" -x TORUS_ALGORITHM=mpi -x TORUS_MIN_BYTES=1 "$out/check_dropin"

# 1,000 split/allreduce/free cycles: the state is made and freed each time; memory stays flat.
run "1000 split/allreduce/free cycles, np=4" "${mpirun[@]}" -np 4 "${preload[@]}" -x TORUS_MIN_BYTES=1 "$out/check_dropin" --cycles 1000 --large 4096
grep -h "cycles" "$out/log" | sed 's/^/    /'
run "MPI_THREAD_MULTIPLE, two threads on two communicators, np=4" "${mpirun[@]}" -np 4 "${preload[@]}" -x TORUS_MIN_BYTES=1 "$out/check_threads"

# MPI_Reduce_scatter_block and MPI_Allgather against PMPI's, every call the library can take taken
# (72 per rank: 5 types x 4 counts x 4 calls, less the double max reduce-scatters it leaves to MPI).
for np in 1 2 3 4; do
    run "reduce-scatter and all-gather preloaded, np=$np" "${mpirun[@]}" -np $np "${preload[@]}" -x TORUS_MIN_BYTES=1 "$out/check_halves"
    expect "reduce-scatter and all-gather taken by the library, np=$np" "the library took $([ $np -gt 1 ] && echo 72 || echo 0) calls"
done
for algorithm in sixring ring rabenseifner; do
    run "reduce-scatter and all-gather, TORUS_ALGORITHM=$algorithm, np=4" "${mpirun[@]}" -np 4 "${preload[@]}" -x TORUS_ALGORITHM=$algorithm "$out/check_halves"
    expect "TORUS_ALGORITHM=$algorithm: reduce-scatter and all-gather taken" "the library took 72 calls"
done
# Rabenseifner runs the halves on powers of two only: at np=3 the rules choose, and TORUS_VERBOSE=2 says why.
run "TORUS_ALGORITHM=rabenseifner at np=3: the halves fall back" "${mpirun[@]}" -np 3 "${preload[@]}" -x TORUS_ALGORITHM=rabenseifner \
    -x TORUS_VERBOSE=2 "$out/check_halves"
expect "TORUS_ALGORITHM=rabenseifner at np=3: the fallback is said" "TORUS_ALGORITHM=rabenseifner cannot: rabenseifner runs a reduce-scatter"
run "reduce-scatter and all-gather through the C API, np=3" "${mpirun[@]}" -np 3 -x TORUS_MIN_BYTES=1 "$out/check_halves_capi"
expect "C API: torus_reduce_scatter_block and torus_allgather taken" "the library took 72 calls"
run_failing "TORUS_CHECK=1, a reduce-scatter count differs" "called ReduceScatter with different arguments (this is rank 0): count: ranks 0-2 passed 100000; rank 3 passed 100001" \
    "${mpirun[@]}" -np 4 "${preload[@]}" -x TORUS_CHECK=1 -x TORUS_MIN_BYTES=1M "$out/check_halves" mismatch
run "TORUS_NAN_CHECK=1 on MPI_Reduce_scatter_block, np=2" "${mpirun[@]}" -np 2 "${preload[@]}" -x TORUS_NAN_CHECK=1 -x TORUS_MIN_BYTES=1 "$out/check_halves" nan
expect "TORUS_NAN_CHECK: a reduce-scatter's input reported" "rank 1, MPI_Reduce_scatter_block call 1: the input has"
expect "TORUS_NAN_CHECK: a reduce-scatter's result reported" "rank 0, MPI_Reduce_scatter_block call 1: the result has"

# The C API, linked through pkg-config, no preload.
for np in 1 2 3; do
    run "C API (torus.h), np=$np" "${mpirun[@]}" -np $np -x TORUS_MIN_BYTES=1024 "$out/check_capi"
done

# TORUS_CHECK=1: the ranks agree on every call's arguments first. Agreeing calls are checked results;
# a rank that differs (count, op, size threshold, in place) stops the job with every rank's report.
check=(-np 4 "${preload[@]}" -x TORUS_CHECK=1 -x TORUS_MIN_BYTES=1M)
run "TORUS_CHECK=1, agreeing ranks, np=4" "${mpirun[@]}" "${check[@]}" "$out/check_mismatch" none
expect "TORUS_CHECK=1 lets agreeing calls through" "agreed and checked"
run_failing "TORUS_CHECK=1, one rank's count differs" "count: ranks 0-2 passed 100000; rank 3 passed 100001" \
    "${mpirun[@]}" "${check[@]}" "$out/check_mismatch" count
run_failing "TORUS_CHECK=1, one rank's op differs" "op: ranks 0-2 passed sum; rank 3 passed max" \
    "${mpirun[@]}" "${check[@]}" "$out/check_mismatch" op
run_failing "TORUS_CHECK=1, one rank below the threshold" "route: ranks 0-2 passed the library; rank 3 passed mpi" \
    "${mpirun[@]}" "${check[@]}" "$out/check_mismatch" threshold
run_failing "TORUS_CHECK=1, one rank in place" "in place: ranks 0-2 passed no; rank 3 passed yes" \
    "${mpirun[@]}" "${check[@]}" "$out/check_mismatch" inplace
# The same for MPI_Iallreduce under MPI_THREAD_MULTIPLE: the request's first stage agrees on the
# arguments, for calls the library takes and calls it passes to MPI (below TORUS_MIN_BYTES) alike.
run "TORUS_CHECK=1, MPI_Iallreduce passed to MPI, agreeing ranks" "${mpirun[@]}" "${check[@]}" "$out/check_mismatch" none i
expect "TORUS_CHECK=1 lets an agreeing MPI_Iallreduce through" "agreed and checked"
run "TORUS_CHECK=1, MPI_Iallreduce taken, agreeing ranks" "${mpirun[@]}" "${check[@]}" -x TORUS_MIN_BYTES=1 "$out/check_mismatch" none i
expect "TORUS_CHECK=1 lets an agreeing MPI_Iallreduce the library takes through" "agreed and checked"
run_failing "TORUS_CHECK=1, MPI_Iallreduce, one rank's count differs" "MPI_Iallreduce failed: TORUS_CHECK: the 4 ranks of the communicator called AllReduce with different arguments (this is rank 0): count: ranks 0-2 passed 100000; rank 3 passed 100001" \
    "${mpirun[@]}" "${check[@]}" -x TORUS_MIN_BYTES=1 "$out/check_mismatch" count i
[ "$(grep -c "MPI_Iallreduce failed: TORUS_CHECK" "$out/log")" = 4 ] && pass "TORUS_CHECK=1, MPI_Iallreduce: every rank reports it" \
    || fail "TORUS_CHECK=1, MPI_Iallreduce: every rank reports it"
run_failing "TORUS_CHECK=1, MPI_Iallreduce, one rank's op differs" "op: ranks 0-2 passed sum; rank 3 passed max" \
    "${mpirun[@]}" "${check[@]}" "$out/check_mismatch" op i
run_failing "TORUS_CHECK=1, MPI_Iallreduce, one rank below the threshold" "route: ranks 0-2 passed the library; rank 3 passed mpi" \
    "${mpirun[@]}" "${check[@]}" "$out/check_mismatch" threshold i
run_failing "TORUS_CHECK=1, MPI_Iallreduce, one rank in place" "in place: ranks 0-2 passed no; rank 3 passed yes" \
    "${mpirun[@]}" "${check[@]}" "$out/check_mismatch" inplace i
run "TORUS_CHECK=1 below MPI_THREAD_MULTIPLE: MPI_Iallreduce unchecked, and said so" "${mpirun[@]}" "${check[@]}" "$out/check_mismatch" none i-single
expect "TORUS_CHECK=1 says it cannot check MPI_Iallreduce below MPI_THREAD_MULTIPLE" "check MPI_Iallreduce only under MPI_THREAD_MULTIPLE"
run_failing "TORUS_CHECK=abc is refused" "invalid value 'abc' for TORUS_CHECK" \
    "${mpirun[@]}" -np 2 "${preload[@]}" -x TORUS_CHECK=abc "$out/check_mismatch" none
# Without the check, a count that differs fails cleanly in our algorithms: no double free of the
# request MPI already freed (it used to abort with "free(): invalid pointer").
for algorithm in sixring reduce-broadcast; do
    run_failing "count differs, no check, $algorithm: a clean error" "did every rank pass the same count" \
        "${mpirun[@]}" -np 4 "${preload[@]}" -x TORUS_ALGORITHM=$algorithm "$out/check_mismatch" count
    if grep -qE "free\(\)|corrupted|double free|Signal: Aborted" "$out/log"; then fail "count differs, $algorithm: no memory error"
    else pass "count differs, $algorithm: no memory error"; fi
done

# TORUS_NAN_CHECK=1: the first NaN or Inf of an input and of a result, with rank, call and index,
# for calls MPI takes (below the threshold) and calls the library takes.
for min in 1M 1; do
    run "TORUS_NAN_CHECK=1, TORUS_MIN_BYTES=$min" "${mpirun[@]}" -np 4 "${preload[@]}" -x TORUS_NAN_CHECK=1 -x TORUS_MIN_BYTES=$min "$out/check_mismatch" nan
    expect "TORUS_NAN_CHECK reports rank 1's input (TORUS_MIN_BYTES=$min)" "TORUS_NAN_CHECK: rank 1, MPI_Allreduce call 1: the input has 2 NaN or Inf values, the first at index 7"
    [ "$(grep -c "MPI_Allreduce call 1: the result has 2 NaN or Inf values, the first at index 7" "$out/log")" = 4 ] \
        && pass "TORUS_NAN_CHECK reports every rank's result (TORUS_MIN_BYTES=$min)" || fail "TORUS_NAN_CHECK reports every rank's result (TORUS_MIN_BYTES=$min)"
    run "TORUS_NAN_CHECK=1, MPI_Iallreduce, TORUS_MIN_BYTES=$min" "${mpirun[@]}" -np 4 "${preload[@]}" -x TORUS_NAN_CHECK=1 -x TORUS_MIN_BYTES=$min "$out/check_mismatch" nan i
    expect "TORUS_NAN_CHECK reports rank 1's MPI_Iallreduce input (TORUS_MIN_BYTES=$min)" "TORUS_NAN_CHECK: rank 1, MPI_Iallreduce call 1: the input has 2 NaN or Inf values, the first at index 7"
    [ "$(grep -c "MPI_Iallreduce call 1: the result has 2 NaN or Inf values, the first at index 7" "$out/log")" = 4 ] \
        && pass "TORUS_NAN_CHECK reports every rank's MPI_Iallreduce result (TORUS_MIN_BYTES=$min)" || fail "TORUS_NAN_CHECK reports every rank's MPI_Iallreduce result (TORUS_MIN_BYTES=$min)"
done
run_failing "TORUS_NAN_CHECK=on is refused" "invalid value 'on' for TORUS_NAN_CHECK" \
    "${mpirun[@]}" -np 2 "${preload[@]}" -x TORUS_NAN_CHECK=on "$out/check_mismatch" none

# The stall watch (TORUS_TIMEOUT): a rank that never makes a call. The others report what they wait
# for (peers as world ranks and torus nodes, part, step, bytes) and end the job within the timeout
# plus 30 s; at the first call they wait in the setup and say so; TORUS_ON_STALL=warn keeps waiting.
stall=(-np 4 "${preload[@]}" -x TORUS_ALGORITHM=sixring -x TORUS_TIMEOUT=5)
started=$SECONDS
run_failing "a rank that never calls: the others report and end the job" "stalled for 5 s in call 2 (sixring): never heard from world rank 3" \
    "${mpirun[@]}" "${stall[@]}" "$out/check_mismatch" absent
expect "the stall report names peer, node, part, step and bytes" "receive of 25000 bytes from rank 3 = world rank 3 at torus node (1,1,0), part 0, step 3"
[ $((SECONDS - started)) -le 35 ] && pass "the stalled job ended within TORUS_TIMEOUT + 30 s ($((SECONDS - started)) s)" \
    || fail "the stalled job ended within TORUS_TIMEOUT + 30 s ($((SECONDS - started)) s)"
run_failing "a rank that never makes an MPI_Iallreduce: the others report and end the job" \
    "stalled for 5 s in call 2 (sixring): never heard from world rank 3" "${mpirun[@]}" "${stall[@]}" "$out/check_mismatch" iabsent
run_failing "TORUS_CHECK=1: a rank that never makes an MPI_Iallreduce: reported from the agreement" \
    "stalled for 5 s in call 2 (sixring): never heard from world rank 3" "${mpirun[@]}" "${stall[@]}" -x TORUS_CHECK=1 "$out/check_mismatch" iabsent
expect "the stall report says the call waits in the TORUS_CHECK exchange" "sixring, 100000 × float32 sum, in the TORUS_CHECK exchange of the call's arguments before it, has waited 5 s"
run_failing "a rank that never makes its first call: the others report from the setup" "for the other ranks to make their first library call" \
    "${mpirun[@]}" "${stall[@]}" "$out/check_mismatch" first
run "TORUS_ON_STALL=warn: a late rank is reported, then the call completes" \
    "${mpirun[@]}" -np 4 "${preload[@]}" -x TORUS_ALGORITHM=sixring -x TORUS_TIMEOUT=2 -x TORUS_ON_STALL=warn "$out/check_mismatch" late
expect "TORUS_ON_STALL=warn reported the wait at the setup" "has waited 2 s (TORUS_TIMEOUT) for the other ranks to make their first"
expect "TORUS_ON_STALL=warn reported the wait in the second call" "call 2 on this communicator, sixring, 100000 × float32 sum, has waited 2 s"
expect "TORUS_ON_STALL=warn: the late call's result is checked" "agreed and checked"
run_failing "TORUS_TIMEOUT=soon is refused" "invalid value 'soon' for TORUS_TIMEOUT" \
    "${mpirun[@]}" -np 2 "${preload[@]}" -x TORUS_TIMEOUT=soon "$out/check_mismatch" none
run_failing "TORUS_ON_STALL=retry is refused" "invalid value 'retry' for TORUS_ON_STALL" \
    "${mpirun[@]}" -np 2 "${preload[@]}" -x TORUS_ON_STALL=retry "$out/check_mismatch" none

# Nonblocking: torus_iallreduce with the progress thread (MPI_THREAD_MULTIPLE) and with progress in
# test/wait (FUNNELED); the drop-in's MPI_Iallreduce, taken under MULTIPLE only.
for mode in multiple funneled; do
    run "torus_iallreduce, 5 requests on 3 communicators, $mode, np=3" "${mpirun[@]}" -np 3 -x TORUS_MIN_BYTES=1K "$out/check_iallreduce" $mode
    expect "torus_iallreduce ($mode): the library took 4 of 5" "5 requests passed, the library took 4, MPI 1"
done
run "torus_iallreduce with TORUS_PROGRESS_CORE=1, np=2" "${mpirun[@]}" -np 2 -x TORUS_MIN_BYTES=1K -x TORUS_PROGRESS_CORE=1 \
    -x TORUS_VERBOSE=1 "$out/check_iallreduce" multiple
expect "the progress thread is pinned" "progress thread pinned to unit 1"
run_failing "invalid TORUS_PROGRESS_CORE stops the job" "TORUS_PROGRESS_CORE" \
    "${mpirun[@]}" -np 2 -x TORUS_PROGRESS_CORE=two "$out/check_iallreduce" multiple
run "MPI_Iallreduce preloaded, MPI_THREAD_MULTIPLE, np=3" "${mpirun[@]}" -np 3 "${preload[@]}" -x TORUS_MIN_BYTES=1K "$out/check_mpi_iallreduce" multiple
expect "MPI_Iallreduce taken under MPI_THREAD_MULTIPLE" "5 requests passed, the library took 4, MPI 1"
# The first requests on two communicators started in opposite orders on even and odd ranks (legal
# MPI): the set-up of a communicator whose first call is nonblocking must not wait for the other
# ranks (MPI_Comm_idup, then the rest in rounds on the progress thread), else each rank waits in one set-up for ranks
# waiting in the other. Then more requests while the set-ups run, a blocking call, and communicators
# freed after a request, while a request runs, and while the set-up runs (MPI allows both); last,
# a first request followed at once by a call that goes to MPI on the same communicator while the
# library copies it: MPI_Iallreduce, MPI_Allreduce or MPI_Ibcast (Open MPI 4.1 corrupted memory there
# when the progress thread tested the idup: 4 of 4 runs crashed before the drop-in waited for the copy,
# and with MPI_Ibcast 2 of 3 before dropin_copy_guard.c).
run "first MPI_Iallreduce on two communicators in opposite orders, plain MPI, np=3" "${mpirun[@]}" -np 3 "$out/check_mpi_first_requests"
expect "opposite first requests: plain MPI completes them" "89 requests, 26 blocking calls and 15 broadcasts passed, the library took 0, MPI 0"
run "first MPI_Iallreduce on two communicators in opposite orders, preloaded, np=3" "${mpirun[@]}" -np 3 "${preload[@]}" \
    -x TORUS_MIN_BYTES=1K -x TORUS_TIMEOUT=30 "$out/check_mpi_first_requests"
expect "opposite first requests: the library takes and completes them" "89 requests, 26 blocking calls and 15 broadcasts passed, the library took 85, MPI 30"
run "first torus_iallreduce on two communicators in opposite orders, C API, np=4" "${mpirun[@]}" -np 4 \
    -x TORUS_MIN_BYTES=1K -x TORUS_TIMEOUT=30 "$out/check_first_requests"
expect "opposite first requests (C API): the library takes and completes them" "89 requests, 26 blocking calls and 15 broadcasts passed, the library took 85, MPI 30"
run "first torus_iallreduce on two communicators in opposite orders, C API under MPI_THREAD_FUNNELED, np=4" "${mpirun[@]}" -np 4 \
    -x TORUS_MIN_BYTES=1K -x TORUS_TIMEOUT=30 "$out/check_first_requests" funneled
expect "opposite first requests (C API, FUNNELED): set up and completed inside torus_wait" "89 requests, 26 blocking calls and 15 broadcasts passed, the library took 85, MPI 30"
run_failing "a rank that never makes its first call, an MPI_Iallreduce: the others report from the set-up" \
    "where the library copies it (MPI_Comm_idup)" "${mpirun[@]}" "${stall[@]}" "$out/check_mismatch" first i
run_failing "settings that differ, the first call an MPI_Iallreduce: every request fails with the difference" \
    "MPI_Iallreduce failed: could not set up the communicator: the 3 ranks of a communicator have different library settings (this is rank 2): TORUS_ALGORITHM: rank 0 has ring" \
    "${mpirun[@]}" -np 1 "${preload[@]}" -x TORUS_MIN_BYTES=1 -x TORUS_ALGORITHM=ring "$out/check_mismatch" none i \
    : -np 2 "${preload[@]}" -x TORUS_MIN_BYTES=1 "$out/check_mismatch" none i
# A first MPI_Iallreduce that one rank's settings alone would send to MPI (below its TORUS_MIN_BYTES,
# under TORUS_ALGORITHM=mpi) while another's take it: nothing has compared the settings yet, so the
# call waits behind the set-up, which compares them (before: PMPI_Iallreduce on one rank against
# MPI_Comm_idup on the others, a hang). Alike everywhere, such calls run as MPI_Iallreduce.
run_failing "TORUS_MIN_BYTES on one rank only, the first call an MPI_Iallreduce: every request fails with the difference" \
    "MPI_Iallreduce failed: could not set up the communicator: the 3 ranks of a communicator have different library settings (this is rank 2): TORUS_MIN_BYTES: rank 0 has 1 byte; ranks 1-2 have 1048576 bytes" \
    "${mpirun[@]}" -np 1 "${preload[@]}" -x TORUS_MIN_BYTES=1 "$out/check_mismatch" none i \
    : -np 2 "${preload[@]}" -x TORUS_MIN_BYTES=1M "$out/check_mismatch" none i
run_failing "TORUS_ALGORITHM=mpi on one rank only, the first call an MPI_Iallreduce: every request fails with the difference" \
    "MPI_Iallreduce failed: could not set up the communicator: the 3 ranks of a communicator have different library settings (this is rank 0): TORUS_ALGORITHM: ranks 0-1 have auto (unset); rank 2 has mpi" \
    "${mpirun[@]}" -np 2 "${preload[@]}" "$out/check_mismatch" none i : -np 1 "${preload[@]}" -x TORUS_ALGORITHM=mpi "$out/check_mismatch" none i
run "the first call an MPI_Iallreduce below TORUS_MIN_BYTES on every rank, np=3" "${mpirun[@]}" -np 3 "${preload[@]}" \
    -x TORUS_MIN_BYTES=1M "$out/check_mismatch" none i
expect "the first MPI_Iallreduce below TORUS_MIN_BYTES: right result" "agreed and checked"
run "first MPI_Iallreduce on two communicators in opposite orders, all below TORUS_MIN_BYTES, np=3" "${mpirun[@]}" -np 3 \
    "${preload[@]}" -x TORUS_MIN_BYTES=1G -x TORUS_TIMEOUT=30 "$out/check_mpi_first_requests"
expect "opposite first requests below TORUS_MIN_BYTES: MPI completes them" "89 requests, 26 blocking calls and 15 broadcasts passed, the library took 0, MPI 115"
run "MPI_Iallreduce preloaded, FUNNELED, np=3" "${mpirun[@]}" -np 3 "${preload[@]}" -x TORUS_MIN_BYTES=1K "$out/check_mpi_iallreduce" funneled
expect "MPI_Iallreduce passed to MPI below MPI_THREAD_MULTIPLE" "5 requests passed, the library took 0, MPI 5"

# Settings: the banner, one line per call, and invalid values stopping the job with the variable's name.
run "TORUS_VERBOSE=2" "${mpirun[@]}" -np 2 "${preload[@]}" -x TORUS_VERBOSE=2 -x TORUS_MIN_BYTES=1M "$out/sgd"
expect "TORUS_VERBOSE=2 names the path of a call MPI takes" "PMPI_Allreduce (below TORUS_MIN_BYTES)"
run "TORUS_VERBOSE=1 banner" "${mpirun[@]}" -np 2 "${preload[@]}" -x TORUS_VERBOSE=1 -x TORUS_MIN_BYTES=0 "$out/sgd"
expect "TORUS_VERBOSE=1 banner says the library is active" "torus_mpi: library active on a communicator of 2 ranks"
run_failing "invalid TORUS_MIN_BYTES stops the job" "TORUS_MIN_BYTES" "${mpirun[@]}" -np 2 "${preload[@]}" -x TORUS_MIN_BYTES=lots "$out/sgd"
run_failing "invalid TORUS_ALGORITHM stops the job" "invalid value 'fastest' for TORUS_ALGORITHM" \
    "${mpirun[@]}" -np 2 "${preload[@]}" -x TORUS_ALGORITHM=fastest "$out/sgd"
run_failing "TORUS_DIMS of the wrong size stops the job" "TORUS_DIMS" "${mpirun[@]}" -np 2 "${preload[@]}" -x TORUS_DIMS=2x2x2 "$out/sgd"
# A setting that decides where calls go, on one rank only: at the first call on a communicator every
# rank reports it and the error handler ends the job (the call would go to MPI on one rank and to the
# library on the others). The pass-through (TORUS_ALGORITHM=mpi) is compared too.
run_failing "TORUS_MIN_BYTES on one rank only stops the job" "TORUS_MIN_BYTES: rank 0 has 1 byte; ranks 1-3 have unset" \
    "${mpirun[@]}" -np 1 "${preload[@]}" -x TORUS_MIN_BYTES=1 "$out/sgd" : -np 3 "${preload[@]}" "$out/sgd"
run_failing "TORUS_ALGORITHM=mpi on one rank only stops the job" "TORUS_ALGORITHM: ranks 0-2 have auto (unset); rank 3 has mpi" \
    "${mpirun[@]}" -np 3 "${preload[@]}" "$out/sgd" : -np 1 "${preload[@]}" -x TORUS_ALGORITHM=mpi "$out/sgd"
run_failing "TORUS_CHECK=1 on one rank only, MPI_Reduce_scatter_block first" "TORUS_CHECK: ranks 0-2 have 0 (unset); rank 3 has 1" \
    "${mpirun[@]}" -np 3 "${preload[@]}" -x TORUS_MIN_BYTES=1 "$out/check_halves" nan : -np 1 "${preload[@]}" -x TORUS_MIN_BYTES=1 -x TORUS_CHECK=1 "$out/check_halves" nan
run "TORUS_VERBOSE on one rank only" "${mpirun[@]}" -np 1 "${preload[@]}" -x TORUS_MIN_BYTES=1 -x TORUS_VERBOSE=1 "$out/sgd" \
    : -np 1 "${preload[@]}" -x TORUS_MIN_BYTES=1 "$out/sgd"
expect "TORUS_VERBOSE on one rank only: the library took the calls" "torus_mpi: library active on a communicator of 2 ranks"

# The examples: plain and preloaded give the same final weights (exact gradient sums).
for example in sgd sgd_f; do
    run "$example plain, np=4" "${mpirun[@]}" -np 4 "$out/$example"
    grep "checksum" "$out/log" > "$out/$example.plain"
    run "$example preloaded, np=4" "${mpirun[@]}" -np 4 "${preload[@]}" -x TORUS_MIN_BYTES=0 -x TORUS_VERBOSE=2 "$out/$example"
    grep "checksum" "$out/log" > "$out/$example.preloaded"
    if [ -s "$out/$example.plain" ] && cmp -s "$out/$example.plain" "$out/$example.preloaded" && grep -q "torus: allreduce 528 bytes on 4 ranks" "$out/log"
    then pass "$example: the library summed the gradients; final weights identical plain and preloaded ($(cut -c1-34 "$out/$example.plain"))"
    else fail "$example: final weights identical plain and preloaded"; fi
done
run "mpi_f08 preloaded, np=3" "${mpirun[@]}" -np 3 "${preload[@]}" -x TORUS_MIN_BYTES=1K -x TORUS_VERBOSE=2 "$out/check_f08"
[ "$(grep -c 'torus: allreduce' "$out/log")" -ge 3 ] && pass "mpi_f08 calls taken by the library" || fail "mpi_f08 calls taken by the library"
expect "mpi_f08 MPI_Reduce_scatter_block taken by the library" "torus: reduce-scatter 1200036 bytes on 3 ranks"
expect "mpi_f08 MPI_Allgather taken by the library" "torus: all-gather 1200036 bytes on 3 ranks"

# mpi4py: the same loss curve plain and preloaded (to float tolerance), bit-identical across two preloaded runs.
if $python -c "import mpi4py, numpy" 2>/dev/null; then
    run "mpi4py Reduce_scatter_block and Allgather preloaded, np=3" "${mpirun[@]}" -np 3 "${preload[@]}" -x TORUS_MIN_BYTES=1 \
        -x TORUS_VERBOSE=2 $python Tests/DropIn/check_halves.py
    grep -q "torus: reduce-scatter 600012 bytes" "$out/log" && grep -q "torus: all-gather 1200024 bytes" "$out/log" \
        && pass "mpi4py Reduce_scatter_block and Allgather taken by the library" || fail "mpi4py Reduce_scatter_block and Allgather taken by the library"
    run "mpi4py Iallreduce, first requests on two communicators in opposite orders, preloaded, np=3" "${mpirun[@]}" -np 3 \
        "${preload[@]}" -x TORUS_MIN_BYTES=1K -x TORUS_TIMEOUT=30 $python Tests/DropIn/check_first_requests.py
    expect "mpi4py Iallreduce: the library takes the crossed first requests, and first requests with an Ibcast beside them" \
        "check_first_requests.py: passed, the library took 19"
    run "mpi4py training plain, np=4" "${mpirun[@]}" -np 4 $python Examples/python/train_mlp.py
    grep "loss curve" "$out/log" > "$out/py.plain"
    for i in 1 2; do
        run "mpi4py training preloaded (run $i), np=4" "${mpirun[@]}" -np 4 "${preload[@]}" -x TORUS_MIN_BYTES=0 -x TORUS_VERBOSE=2 \
            $python Examples/python/train_mlp.py
        grep "digest" "$out/log" > "$out/py.digest$i"
        grep "loss curve" "$out/log" > "$out/py.preloaded"
        grep -q "torus: allreduce 5392 bytes on 4 ranks" "$out/log" && pass "mpi4py gradients summed by the library (run $i)" \
            || fail "mpi4py gradients summed by the library (run $i)"
    done
    cmp -s "$out/py.digest1" "$out/py.digest2" && [ -s "$out/py.digest1" ] && pass "mpi4py: two preloaded runs bit-identical" \
        || fail "mpi4py: two preloaded runs bit-identical"
    $python - "$out/py.plain" "$out/py.preloaded" <<'PY' && pass "mpi4py: plain and preloaded loss curves agree to 1e-5" || fail "mpi4py: plain and preloaded loss curves agree to 1e-5"
import sys
a, b = ([float(v) for v in open(f).read().split(":")[1].split()] for f in sys.argv[1:3])
sys.exit(0 if len(a) == len(b) > 0 and all(abs(x - y) <= 1e-5 * max(1, abs(x)) for x, y in zip(a, b)) else 1)
PY
else
    fail "mpi4py and numpy for $python (scripts/setup.sh installs python3-mpi4py and python3-numpy)"
fi

echo "dropin: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
