#!/usr/bin/env bash
# MPI tests on real mpirun (part of scripts/test.sh): the AllReduce check program for several
# rank counts, rank maps and environment errors, and torus-bench's three output formats.
# Prints one line per case and a closing "mpi: N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/.."
bin=$(swift build --show-bin-path)
# shellcheck source=scripts/test-cases.sh
source scripts/test-cases.sh

for np in 1 2 3 4 6 8; do
    run "allreduce check, np=$np" "${mpirun[@]}" -np "$np" "$bin/torus-mpi-check"
    grep -h "passed" "$out/log" | sed 's/^/    /'
done

# TORUS_CHECK=1 on the Swift API (the agreement through MPI_Allgather before every call).
run "allreduce check with TORUS_CHECK=1, np=4" env TORUS_CHECK=1 "${mpirun[@]}" -np 4 -x TORUS_CHECK "$bin/torus-mpi-check"
grep -h "passed" "$out/log" | sed 's/^/    /'

# Soak: seeded random calls (communicator, count up to 4 Mi, type, op, placement, algorithm) checked
# bit for bit against PMPI_Allreduce; the seed is printed for a rerun. Open MPI 4.1's AVX op component
# saturates 8- and 16-bit integer sums that overflow (open-mpi/ompi#8045, closed as wontfix), so the
# reference runs without it. The README gives the 10,000-call runs.
run "soak: 300 random calls, np=4" "${mpirun[@]}" -np 4 --mca op ^avx "$bin/torus-mpi-check" --soak 300
grep -h "^soak" "$out/log" | sed 's/^/    /'

# Reduction threads: the same checks with a pool of 2 workers per rank (unpinned here: no free core).
run "allreduce check with 2 reduction threads, np=3" env TORUS_REDUCTION_THREADS=2 \
    "${mpirun[@]}" -np 3 -x TORUS_REDUCTION_THREADS "$bin/torus-mpi-check"
grep -h "passed" "$out/log" | sed 's/^/    /'
run "torus-bench --reduction-threads 1" "${mpirun[@]}" -np 2 "$bin/torus-bench" -b 4M -e 4M -n 2 -w 1 -a sixring,ring --reduction-threads 1
grep -q "^# reduction threads per rank: 1," "$out/log" && [ "$(grep -c 'Out of bounds values : 0 OK' "$out/log")" = 2 ] \
    && pass "torus-bench reports its reduction threads, results checked" || fail "torus-bench reports its reduction threads, results checked"
# ReduceScatter and AllGather over MPI: every algorithm that has the halves beside MPI's own, results
# checked bit for bit (nccl-tests' sizes: the whole buffer of p blocks), at np 2, 4 (rabenseifner
# refused at np=3, not a power of two, below) and 8.
for collective in reduce-scatter all-gather; do
    for np in 2 4 8; do
        run "torus-bench --collective $collective, np=$np" "${mpirun[@]}" -np $np "$bin/torus-bench" --collective $collective \
            -b 1K -e 8M -f 8 -n 2 -w 1 -a auto,sixring,ring,rabenseifner,mpi
        [ "$(grep -c 'Out of bounds values : 0 OK' "$out/log")" = 5 ] && ! grep -q FAILED "$out/log" \
            && pass "torus-bench --collective $collective, np=$np: 0 wrong" || fail "torus-bench --collective $collective, np=$np: 0 wrong"
    done
done
run_failing "torus-bench --collective reduce-scatter -a rabenseifner at np=3" "runs a reduce-scatter or all-gather alone only on a power-of-two group" \
    "${mpirun[@]}" -np 3 "$bin/torus-bench" --collective reduce-scatter -b 1K -e 1K -a rabenseifner
run_failing "torus-bench --collective all-gather -a recursive-doubling" "recursive-doubling has no all-gather" \
    "${mpirun[@]}" -np 2 "$bin/torus-bench" --collective all-gather -b 1K -e 1K -a recursive-doubling
# Shape-aware sixring over MPI: 12 ranks form a 3×2×2 grid, where 32 MiB runs the tuned plan (52
# parts, all-gather pieces of several ranges); np=6 (3×2×1, crossing parts) runs in the check above.
run "sixring's tuned plan on a 3x2x2 grid, 32 MiB, np=12" "${mpirun[@]}" -np 12 "$bin/torus-bench" -b 32M -e 32M -n 1 -w 0 -a sixring
grep -q 'Out of bounds values : 0 OK' "$out/log" && pass "sixring's tuned plan: results checked" || fail "sixring's tuned plan: results checked"
# A crossing plan whose steps exceed its segment limit (SixRingPlan.segmentLimitElements: 64 Ki elements, 256 KiB of float):
# 12 ranks as a 4×3 plane, 16 MiB.
run "sixring's crossing plan in 256 KiB segments on a 4x3 plane, 16 MiB, np=12" env TORUS_DIMS=4x3x1 \
    "${mpirun[@]}" -np 12 -x TORUS_DIMS "$bin/torus-bench" -b 16M -e 16M -n 1 -w 0 -a sixring
grep -q 'Out of bounds values : 0 OK' "$out/log" && pass "sixring's crossing plan: results checked" || fail "sixring's crossing plan: results checked"
run_failing "invalid TORUS_REDUCTION_CORES" "invalid value '9-1' for TORUS_REDUCTION_CORES" \
    env TORUS_REDUCTION_CORES=9-1 "${mpirun[@]}" -np 2 -x TORUS_REDUCTION_CORES "$bin/torus-bench" -b 1K -e 1K -n 1

# Small segments over MPI's rendezvous protocol (messages above the 4 KiB eager limit): hundreds of
# send segments per step come before the step's receives, so nothing may cap unfinished segments.
run "4 MiB in 8 KiB segments (rendezvous), np=2" env TORUS_SEGMENT_BYTES=8K \
    "${mpirun[@]}" -np 2 -x TORUS_SEGMENT_BYTES "$bin/torus-bench" -b 4M -e 4M -n 2 -w 1 -a sixring,recursive-doubling,ring
[ "$(grep -c 'Out of bounds values : 0 OK' "$out/log")" = 3 ] && pass "small rendezvous segments, results checked" \
    || fail "small rendezvous segments, results checked"
# Issue rule 3's scratch ring (on by default where all ranks share a host: 2 segments, the banner
# says so): the tightest ring, one segment, in 8 KiB rendezvous segments, every algorithm, in place
# and out of place, np 2 and 3, results checked; TORUS_SCRATCH_SEGMENTS=0 turns it off.
for np in 2 3; do
    run "scratch ring of one 8 KiB segment (rendezvous), np=$np" env TORUS_SCRATCH_SEGMENTS=1 TORUS_SEGMENT_BYTES=8K \
        "${mpirun[@]}" -np $np -x TORUS_SCRATCH_SEGMENTS -x TORUS_SEGMENT_BYTES "$bin/torus-bench" -b 1M -e 1M -n 2 -w 1 \
        -a sixring,ring,bidirectional-ring,recursive-doubling,rabenseifner,reduce-broadcast,swing,swing-latency
    [ "$(grep -c 'Out of bounds values : 0 OK' "$out/log")" = 8 ] && pass "scratch ring of one segment, np=$np: results checked" \
        || fail "scratch ring of one segment, np=$np: results checked"
done
run "scratch ring by default on one host" env TORUS_VERBOSE=1 "${mpirun[@]}" -np 2 -x TORUS_VERBOSE "$bin/torus-bench" -b 8M -e 8M -n 2 -w 1 -a ring
grep -q "receive-and-reduce scratch in a ring of 2 segments" "$out/log" && grep -q 'Out of bounds values : 0 OK' "$out/log" \
    && pass "the banner names the default scratch ring, results checked" || fail "the banner names the default scratch ring, results checked"
run "TORUS_SCRATCH_SEGMENTS=0" env TORUS_SCRATCH_SEGMENTS=0 TORUS_VERBOSE=1 "${mpirun[@]}" -np 2 -x TORUS_SCRATCH_SEGMENTS -x TORUS_VERBOSE \
    "$bin/torus-bench" -b 8M -e 8M -n 2 -w 1 -a ring
! grep -q "scratch in a ring" "$out/log" && grep -q 'Out of bounds values : 0 OK' "$out/log" \
    && pass "TORUS_SCRATCH_SEGMENTS=0 turns the ring off, results checked" || fail "TORUS_SCRATCH_SEGMENTS=0 turns the ring off, results checked"
# Set on one rank only: every rank still asks MPI whether the group shares a host (a collective),
# so none hangs, and ranks with different rings agree on the result.
run "TORUS_SCRATCH_SEGMENTS on one rank only" timeout 120 "${mpirun[@]}" -np 1 env TORUS_SCRATCH_SEGMENTS=1 TORUS_SEGMENT_BYTES=64K \
    "$bin/torus-bench" -b 4M -e 4M -n 2 -w 1 -a ring,sixring : -np 1 env TORUS_SEGMENT_BYTES=64K "$bin/torus-bench" -b 4M -e 4M -n 2 -w 1 -a ring,sixring
[ "$(grep -c 'Out of bounds values : 0 OK' "$out/log")" = 2 ] && pass "scratch ring on one rank only: results checked" \
    || fail "scratch ring on one rank only: results checked"
# Settings that decide which messages and collectives a rank joins, set on one rank only: every rank
# stops at the communicator's creation with the same error naming the variable (no hang, no data sent).
bench=("$bin/torus-bench" -b 8M -e 8M -n 2 -w 1 -a auto,sixring)
run_failing "TORUS_MIN_BYTES on one rank only" "TORUS_MIN_BYTES: rank 0 has 1048576 bytes; ranks 1-2 have unset" \
    "${mpirun[@]}" -np 1 env TORUS_MIN_BYTES=1M "${bench[@]}" : -np 2 "${bench[@]}"
expect "the mismatch names the fix" "mpirun -x TORUS_MIN_BYTES"
run_failing "TORUS_TIMEOUT=0 on one rank only" "TORUS_TIMEOUT: ranks 0-1 have a limit (unset or seconds); rank 2 has 0 (never)" \
    "${mpirun[@]}" -np 2 "${bench[@]}" : -np 1 env TORUS_TIMEOUT=0 "${bench[@]}"
run_failing "TORUS_CHECK=1 on one rank only" "TORUS_CHECK: rank 0 has 0 (unset); rank 1 has 1" \
    "${mpirun[@]}" -np 1 "${bench[@]}" : -np 1 env TORUS_CHECK=1 "${bench[@]}"
run_failing "TORUS_DIMS on one rank only" "the placement (TORUS_RANKMAP, TORUS_DIMS): rank 0 has fingerprint" \
    "${mpirun[@]}" -np 1 env TORUS_DIMS=4x1x1 "${bench[@]}" : -np 3 "${bench[@]}"
run "TORUS_TIMEOUT's seconds and TORUS_VERBOSE may differ by rank" "${mpirun[@]}" -np 1 env TORUS_TIMEOUT=60 TORUS_VERBOSE=1 "${bench[@]}" \
    : -np 1 "${bench[@]}"
expect "TORUS_TIMEOUT's seconds may differ by rank: results checked" "Out of bounds values : 0 OK"
run_failing "TORUS_SCRATCH_SEGMENTS not a number" "invalid value 'many' for TORUS_SCRATCH_SEGMENTS" \
    env TORUS_SCRATCH_SEGMENTS=many "${mpirun[@]}" -np 2 -x TORUS_SCRATCH_SEGMENTS "$bin/torus-bench" -b 1K -e 1K -n 1

# Eager halves (TORUS_EAGER_BYTES): steps between the eager limit and twice it go as two messages
# (recursive doubling at 4,500 B, ring's halves of 9,000 B and thirds of 18,000 B), results checked bit for
# bit, at np 2 and 3; a model file that sets them (TORUS_MODEL) turns them on as the variable does.
for np in 2 3; do
    run "eager halves, np=$np" env TORUS_EAGER_BYTES=4032 \
        "${mpirun[@]}" -np $np -x TORUS_EAGER_BYTES "$bin/torus-bench" -b 4500 -e 18000 -f 2 -n 3 -w 1 -a recursive-doubling,ring,sixring,bidirectional-ring
    [ "$(grep -c 'Out of bounds values : 0 OK' "$out/log")" = 4 ] && pass "eager halves, np=$np: results checked" \
        || fail "eager halves, np=$np: results checked"
done
# On one host the executor takes Open MPI's shared-memory eager limit (MPI_T) unless told otherwise.
run "eager halves by default on one host (Open MPI's limit), np=2" env TORUS_VERBOSE=1 "${mpirun[@]}" -np 2 -x TORUS_VERBOSE \
    "$bin/torus-bench" -b 4500 -e 4500 -n 3 -w 1 -a recursive-doubling,ring
grep -q "steps of 4033-8064 bytes go as two eager halves" "$out/log" && [ "$(grep -c 'Out of bounds values : 0 OK' "$out/log")" = 2 ] \
    && pass "eager halves by default: the banner and checked results" || fail "eager halves by default: the banner and checked results"
run "eager halves follow --mca btl_vader_eager_limit 8192" env TORUS_VERBOSE=1 "${mpirun[@]}" -np 2 --mca btl_vader_eager_limit 8192 \
    -x TORUS_VERBOSE "$bin/torus-bench" -b 9000 -e 9000 -n 3 -w 1 -a recursive-doubling
expect "eager halves follow the MCA parameter" "steps of 8129-16256 bytes go as two eager halves"
run "no eager halves without the shared-memory transport" env TORUS_VERBOSE=1 "${mpirun[@]}" -np 2 --mca btl self,tcp \
    -x TORUS_VERBOSE "$bin/torus-bench" -b 4500 -e 4500 -n 3 -w 1 -a recursive-doubling
! grep -q "eager halves" "$out/log" && grep -q 'Out of bounds values : 0 OK' "$out/log" \
    && pass "no eager halves over TCP, results checked" || fail "no eager halves over TCP, results checked"
run "TORUS_EAGER_BYTES=0 turns the default off" env TORUS_VERBOSE=1 TORUS_EAGER_BYTES=0 "${mpirun[@]}" -np 2 -x TORUS_VERBOSE -x TORUS_EAGER_BYTES \
    "$bin/torus-bench" -b 4500 -e 4500 -n 3 -w 1 -a recursive-doubling
! grep -q "eager halves" "$out/log" && pass "TORUS_EAGER_BYTES=0: no eager halves" || fail "TORUS_EAGER_BYTES=0: no eager halves"
# A rank with its own limit: all take the smallest, so they cut alike (results checked).
run "Open MPI's eager limit on one rank only: the smallest" "${mpirun[@]}" -np 1 env OMPI_MCA_btl_vader_eager_limit=8192 TORUS_VERBOSE=1 \
    "$bin/torus-bench" -b 4500 -e 9000 -n 3 -w 1 -a recursive-doubling,ring : -np 1 "$bin/torus-bench" -b 4500 -e 9000 -n 3 -w 1 -a recursive-doubling,ring
grep -q "steps of 4033-8064 bytes go as two eager halves" "$out/log" && [ "$(grep -c 'Out of bounds values : 0 OK' "$out/log")" = 2 ] \
    && pass "eager limits that differ by rank: the smallest, results checked" || fail "eager limits that differ by rank: the smallest, results checked"
run "eager halves from a model file, np=2" env TORUS_MODEL=Benchmarks/results/model-2cpu-vm.json TORUS_VERBOSE=1 \
    "${mpirun[@]}" -np 2 -x TORUS_MODEL -x TORUS_VERBOSE "$bin/torus-bench" -b 4500 -e 4500 -n 3 -w 1 -a recursive-doubling
grep -q "steps of 3073-6144 bytes go as two eager halves" "$out/log" && grep -q 'Out of bounds values : 0 OK' "$out/log" \
    && pass "TORUS_MODEL turns eager halves on (its np=2 limit), results checked" || fail "TORUS_MODEL turns eager halves on (its np=2 limit), results checked"
run_failing "TORUS_EAGER_BYTES below 64 bytes" "TORUS_EAGER_BYTES" \
    env TORUS_EAGER_BYTES=12 "${mpirun[@]}" -np 2 -x TORUS_EAGER_BYTES "$bin/torus-bench" -b 1K -e 1K -n 1

# A 2x2x2 rank map: the world is seen as a 2x2x2 box with one-hop rings, results checked.
run "TORUS_RANKMAP 2x2x2" env TORUS_RANKMAP=RankMaps/laptop-2x2x2.vcoord TORUS_VERBOSE=1 \
    "${mpirun[@]}" -np 8 -x TORUS_RANKMAP -x TORUS_VERBOSE "$bin/torus-bench" -b 64K -e 64K -n 2 -w 1 -a sixring,auto
grep -q "box 2x2x2 on machine 2x2x2, worst ring hop 1" "$out/log" && grep -q "Out of bounds values : 0 OK" "$out/log" \
    && pass "rank map placement reported" || fail "rank map placement reported"

# The same nodes in reverse rank order: a permuted placement is still a box and still correct.
tac RankMaps/laptop-2x2x2.vcoord > "$out/reversed.vcoord"
run "TORUS_RANKMAP reversed" env TORUS_RANKMAP="$out/reversed.vcoord" TORUS_VERBOSE=1 \
    "${mpirun[@]}" -np 8 -x TORUS_RANKMAP -x TORUS_VERBOSE "$bin/torus-mpi-check"

# The same world as an Open MPI rankfile, and a generated DP×TP map as JSON (DP groups of 4 on
# 2x2 planes, TP pairs on neighbouring nodes), checked against PMPI_Allreduce.
run "TORUS_RANKMAP rankfile" env TORUS_RANKMAP=RankMaps/laptop-2x2x2.rankfile \
    "${mpirun[@]}" -np 8 -x TORUS_RANKMAP "$bin/torus-mpi-check"
"$bin/torus" rankmap generate --torus 2x2x2 --job tp=2,dp=4 --format json --output "$out/job.json" --force 2>/dev/null
run "TORUS_RANKMAP generated JSON, DP groups" env TORUS_RANKMAP="$out/job.json" TORUS_VERBOSE=1 \
    "${mpirun[@]}" -np 8 -x TORUS_RANKMAP -x TORUS_VERBOSE "$bin/torus-bench" -b 64K -e 64K -n 2 -w 1 -a sixring --split tp=2
grep -q "box 2x2x1 on machine 2x2x2, worst ring hop 1" "$out/log" && pass "DP group of a generated map is a 2x2 box" \
    || fail "DP group of a generated map is a 2x2 box"

printf '(0,0,0)\n(1,0\n(0,1,0)\n(1,1,0)\n' > "$out/bad.vcoord"
run_failing "malformed rank map" "bad.vcoord:2: found '(1,0'" \
    env TORUS_RANKMAP="$out/bad.vcoord" "${mpirun[@]}" -np 4 -x TORUS_RANKMAP "$bin/torus-bench" -b 1K -e 1K -n 1
head -3 RankMaps/laptop-2x2x2.vcoord > "$out/short.vcoord"
run_failing "rank map with too few lines" "the job has 4 ranks, the file has 3" \
    env TORUS_RANKMAP="$out/short.vcoord" "${mpirun[@]}" -np 4 -x TORUS_RANKMAP "$bin/torus-bench" -b 1K -e 1K -n 1
run_failing "TORUS_RANKMAP=/dev/urandom is refused, not read forever" "expected a regular file" \
    env TORUS_RANKMAP=/dev/urandom "${mpirun[@]}" -np 2 -x TORUS_RANKMAP "$bin/torus-bench" -b 1K -e 1K -n 1
run_failing "TORUS_DIMS of the wrong size" "TORUS_DIMS" \
    env TORUS_DIMS=2x2x2 "${mpirun[@]}" -np 4 -x TORUS_DIMS "$bin/torus-bench" -b 1K -e 1K -n 1
# TORUS_ALGORITHM=mpi on a type MPI lacks: said at TORUS_VERBOSE=1, small calls by recursive doubling,
# large ones by the large-message algorithm, results checked.
run "TORUS_ALGORITHM=mpi on bf16 falls back by size" "${mpirun[@]}" -np 2 -x TORUS_ALGORITHM=mpi -x TORUS_VERBOSE=1 \
    "$bin/torus-bench" -a auto -d bf16 -b 1K -e 32M -f 32768 -n 1 -w 0
grep -q "bfloat16 sum of 1024 bytes.*runs recursive-doubling instead" "$out/log" && grep -q "bfloat16 sum of 33554432 bytes.*runs sixring instead" "$out/log" \
    && [ "$(grep -c 'Out of bounds values : 0 OK' "$out/log")" = 1 ] && pass "the fallback is said and checked" || fail "the fallback is said and checked"
run_failing "torus-bench -a '' is refused" "invalid value '' for -a" "${mpirun[@]}" -np 1 "$bin/torus-bench" -a "" -b 1K -e 1K -n 1
run_failing "invalid TORUS_ALGORITHM" "invalid value 'fastest' for TORUS_ALGORITHM" \
    env TORUS_ALGORITHM=fastest "${mpirun[@]}" -np 2 -x TORUS_ALGORITHM "$bin/torus-bench" -b 1K -e 1K -n 1

# torus-bench: nccl-tests table, OSU layout, JSON, data-parallel split.
run "torus-bench nccl-tests table" "${mpirun[@]}" -np 4 "$bin/torus-bench" -b 1K -e 64K -f 8 -n 3 -w 1 -a sixring,mpi,ring -d f32 -o sum
grep -q "#wrong" "$out/log" && [ "$(grep -c 'Out of bounds values : 0 OK' "$out/log")" = 3 ] \
    && pass "nccl-tests table has three clean algorithms" || fail "nccl-tests table has three clean algorithms"
run "torus-bench --osu" "${mpirun[@]}" -np 2 "$bin/torus-bench" --osu --full -b 4 -e 1K -n 3 -w 1 -a sixring
grep -q "^# OSU MPI Allreduce Latency Test v7.4" "$out/log" && grep -q "^# Size *Avg Latency(us) *Min Latency(us) *Max Latency(us) *Iterations *Validation" "$out/log" \
    && grep -qE "^1024 +[0-9.]+ +[0-9.]+ +[0-9.]+ +3 +Pass" "$out/log" && pass "OSU layout" || fail "OSU layout"
run "torus-bench --json --split tp=2" "${mpirun[@]}" -np 8 "$bin/torus-bench" --json --split tp=2 -b 1K -e 4K -f 4 -n 2 -w 0 -a sixring,mpi -d bf16 -o max
python3 - "$out/log" <<'PY' && pass "JSON rows" || fail "JSON rows"
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.startswith("{")]
need = {"algorithm", "bytes", "ranks", "time_us", "algbw_gbps", "busbw_gbps", "wrong"}
assert rows and all(need <= set(r) for r in rows), rows[:1]
assert all(r["ranks"] == 4 and r["groups"] == 2 and r["wrong"] == 0 for r in rows)
assert {r["algorithm"] for r in rows} == {"sixring"}  # mpi has no bf16: skipped
PY

# Calibration: torus-bench --calibrate measures this machine into a model file; a second
# calibration of as many ranks is refused without --force (the file unchanged), another rank count
# is added; torus sim predicts with the file; TORUS_MODEL routes each call by its estimates, MPI's
# AllReduce among them (TORUS_VERBOSE=2 shows them), with results checked.
model="$out/model.json"
rm -f "$model"
run "torus-bench --calibrate, np=2" "${mpirun[@]}" -np 2 "$bin/torus-bench" --calibrate "$model" -e 1M
grep -q "^#   eager-limit" "$out/log" && python3 -c "import json,sys; d=json.load(open(sys.argv[1])); assert [c['ranks'] for c in d['calibrations']] == [2]" "$model" \
    && pass "the model file holds the np=2 calibration" || fail "the model file holds the np=2 calibration"
# The rates and the latency are the median of three rounds spread over the calibration (this VM's
# speed changes for seconds at a time), and the file says each round's figure.
python3 - "$model" <<'PY' && pass "the calibration's figures are medians of three rounds" || fail "the calibration's figures are medians of three rounds"
import json, re, sys
c = json.load(open(sys.argv[1]))['calibrations'][0]
machine, sources = c['model']['machine'], c['model']['sources']
for key, field, scale in [('link-bandwidth', 'linkBandwidth', 1e9), ('reduction-rate', 'reductionRatePerThread', 1e9),
                          ('link-latency', 'linkLatency', 1e-6)]:
    rounds = [float(x) for x in re.search(r'the median of three rounds: ([0-9., ]+) ', sources[key]).group(1).split(', ')]
    assert len(rounds) == 3, (key, rounds)
    # The file prints each round to two decimals (GB/s, µs): the median round within that rounding.
    assert abs(sorted(rounds)[1] - machine[field] / scale) <= 0.0051, (key, rounds, machine[field])
PY
cp "$model" "$out/model.before"
run_failing "torus-bench --calibrate again without --force" "add --force to replace" "${mpirun[@]}" -np 2 "$bin/torus-bench" --calibrate "$model" -e 1M
cmp -s "$model" "$out/model.before" && pass "the refused calibration left the file as it was" || fail "the refused calibration left the file as it was"
run "torus-bench --calibrate, np=3, added" "${mpirun[@]}" -np 3 "$bin/torus-bench" --calibrate "$model" -e 1M
python3 -c "import json,sys; d=json.load(open(sys.argv[1])); assert [c['ranks'] for c in d['calibrations']] == [2, 3]" "$model" \
    && pass "the np=3 calibration was added" || fail "the np=3 calibration was added"
echo '{"not": "a model"}' > "$out/other.json"
run_failing "torus-bench --calibrate onto a file that is not a model" "does not parse" "${mpirun[@]}" -np 2 "$bin/torus-bench" --calibrate "$out/other.json" -e 1M
grep -q '"not"' "$out/other.json" && pass "a file that is not a model is left alone" || fail "a file that is not a model is left alone"
run "torus sim --model" "$bin/torus" sim --model "$model" --torus 2x1x1 -a ring,recursive-doubling --sweep 64K:1M
grep -q "calibrated-np2" "$out/log" && pass "torus sim predicts with the np=2 calibration" || fail "torus sim predicts with the np=2 calibration"
run "TORUS_MODEL routes by the calibrated estimates, np=2" env TORUS_MODEL="$model" TORUS_VERBOSE=2 \
    "${mpirun[@]}" -np 2 -x TORUS_MODEL -x TORUS_VERBOSE "$bin/torus-bench" -b 8 -e 1M -f 32 -n 2 -w 1 -a auto
grep -q "calibrated estimates .*mpi" "$out/log" && [ "$(grep -c 'Out of bounds values : 0 OK' "$out/log")" = 1 ] \
    && pass "auto chose from the calibrated estimates, results checked" || fail "auto chose from the calibrated estimates, results checked"
run_failing "TORUS_MODEL naming no file" "TORUS_MODEL" env TORUS_MODEL=/nonexistent/model.json \
    "${mpirun[@]}" -np 2 -x TORUS_MODEL "$bin/torus-bench" -b 8 -e 8 -n 1
# TORUS_TUNE: auto's first calls of each size time the routes whose estimates are close, and every
# rank settles on the same one (rank 0 reports it); results checked, at np 2 and 4 (the model file
# holds both); without TORUS_MODEL the variable is an error naming the fix.
for np in 2 4; do
    run "TORUS_TUNE=2 with the model file, np=$np" env TORUS_MODEL=Benchmarks/results/model-2cpu-vm.json TORUS_TUNE=2 TORUS_VERBOSE=1 \
        "${mpirun[@]}" -np $np -x TORUS_MODEL -x TORUS_TUNE -x TORUS_VERBOSE "$bin/torus-bench" -b 4K -e 2M -f 8 -n 2 -w 30 -a auto
    [ "$(grep -c 'measured .*TORUS_TUNE' "$out/log")" -ge 2 ] && [ "$(grep -c 'Out of bounds values : 0 OK' "$out/log")" = 1 ] \
        && pass "TORUS_TUNE timed the close routes and settled, np=$np, results checked" \
        || fail "TORUS_TUNE timed the close routes and settled, np=$np, results checked"
done
run_failing "TORUS_TUNE without TORUS_MODEL" "set TORUS_MODEL=FILE" env TORUS_TUNE=5 \
    "${mpirun[@]}" -np 2 -x TORUS_TUNE "$bin/torus-bench" -b 8 -e 8 -n 1

# The Swift DP×TP example: on the simulated torus with the generated placement, then on mpirun with
# the generated rank map (TORUS_MIN_BYTES=0: every call through the library's algorithms).
run "example-dp-tp on a simulated 2x2x2 torus" "$bin/example-dp-tp"
run "example-dp-tp on mpirun, generated rank map, np=8" env TORUS_RANKMAP="$out/job.json" TORUS_MIN_BYTES=0 \
    "${mpirun[@]}" -np 8 -x TORUS_RANKMAP -x TORUS_MIN_BYTES "$bin/example-dp-tp" --mpi

echo "mpi: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
