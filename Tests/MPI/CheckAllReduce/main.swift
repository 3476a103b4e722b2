// The MPI test program, run by scripts/test-mpi.sh under `mpirun -np N` for several N: every
// algorithm (and the automatic choice) against PMPI_Allreduce — for Float16 and BFloat16, which MPI
// has no type for, against the gathered inputs folded with the library's kernel — on the world, a
// dup, a rank-reversed world, the even ranks, and data-parallel groups reducing at once beside
// their tensor-parallel groups; several counts, six types, four ops, in place and out of place.
// Inputs are exact in any order, so every rank's result must equal the reference bit for bit.
import CMPI
import Foundation
import TorusCore
import TorusMPI
import TorusRuntime
import TorusSchedules

struct Failure: Error { let text: String }

/// Exact-in-any-order inputs, every element different, without the float values whose min/max
/// MPI treats differently from us (NaN, ±0).
func inputs(_ type: ElementType, _ op: ReduceOp, rank: Int, count: Int) -> [UInt8] {
    VerifiableInputs.bytes(type: type, op: op, rank: rank, count: count, values: .mpiComparable, period: .max)
}

/// The reference: PMPI_Allreduce, or the gathered inputs folded in rank order for 16-bit floats
/// (`gather` has room for every rank's input).
func reference(_ comm: MPICommunicator, _ input: UnsafeRawPointer, into out: UnsafeMutableRawPointer, _ type: ElementType, _ op: ReduceOp,
               count: Int, gather: UnsafeMutableRawPointer) throws {
    guard count > 0 else { return }
    if let datatype = type.mpiDatatype {
        let code = PMPI_Allreduce(input, out, Int32(count), datatype, op.mpiOp, comm.handle)
        guard code == 0 else { throw Failure(text: "reference PMPI_Allreduce failed: \(code)") }
        return
    }
    let bytes = count * type.size
    let code = PMPI_Allgather(input, Int32(bytes), torus_MPI_BYTE(), gather, Int32(bytes), torus_MPI_BYTE(), comm.handle)
    guard code == 0 else { throw Failure(text: "reference PMPI_Allgather failed: \(code)") }
    let kernel = try ReductionKernel(type: type, op: op)
    out.copyMemory(from: gather, byteCount: bytes)
    for r in 1..<comm.size { kernel.accumulate(into: out, gather + r * bytes, count: count) }
}

func reference(_ comm: MPICommunicator, _ input: [UInt8], _ type: ElementType, _ op: ReduceOp, count: Int) throws -> [UInt8] {
    var out = [UInt8](repeating: 0, count: input.count)
    // Room to gather every rank's input only where MPI has no type for the reference.
    var all = [UInt8](repeating: 0, count: type.mpiDatatype == nil ? max(1, input.count * comm.size) : 1)
    try input.withUnsafeBytes { i in
        try out.withUnsafeMutableBytes { o in
            try all.withUnsafeMutableBytes { a in
                try reference(comm, i.baseAddress ?? UnsafeRawPointer(bitPattern: 64)!, into: o.baseAddress ?? UnsafeMutableRawPointer(bitPattern: 64)!,
                              type, op, count: count, gather: a.baseAddress!)
            }
        }
    }
    return out
}

var checks = 0
var failures: [String] = []

@MainActor func check(_ comm: MPICommunicator, _ label: String, routes: [Algorithm?], counts: [Int], types: [ElementType], ops: [ReduceOp]) throws {
    for type in types {
        for op in ops {
            for count in counts {
                let input = inputs(type, op, rank: comm.rank, count: count)
                let expected = try reference(comm, input, type, op, count: count)
                for route in routes {
                    for inPlace in [false, true] {
                        var output = inPlace ? input : [UInt8](repeating: 0xAB, count: input.count)
                        try input.withUnsafeBytes { i in
                            try output.withUnsafeMutableBytes { o in
                                let dst = o.baseAddress ?? UnsafeMutableRawPointer(bitPattern: 64)!
                                try comm.allReduce(inPlace ? nil : i.baseAddress, dst, count: count, type: type, op: op, algorithm: route)
                            }
                        }
                        checks += 1
                        if output != expected {
                            let at = zip(output, expected).enumerated().first { $0.element.0 != $0.element.1 }?.offset ?? -1
                            failures.append("\(label): \(route?.rawValue ?? "auto") \(type.rawValue) \(op.rawValue) count \(count) "
                                            + "\(inPlace ? "in place" : "out of place") rank \(comm.rank): first wrong byte \(at)")
                        }
                    }
                }
            }
        }
    }
}

/// Resident memory of this process in bytes (/proc/self/statm).
func residentBytes() -> Int {
    guard let text = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8) else { return 0 }
    let fields = text.split(separator: " ")
    return fields.count > 1 ? (Int(fields[1]) ?? 0) * Int(sysconf(Int32(_SC_PAGESIZE))) : 0
}

/// `--soak CALLS [--seed S]`: CALLS calls with random communicator (world, dup, the even or odd
/// ranks, the rank-reversed world), count (0 to 4 Mi, log-uniform), type, op, placement and
/// algorithm (auto included), each checked bit for bit against PMPI_Allreduce; resident memory is
/// read halfway and at the end. Every rank draws the same sequence from the printed seed.
@MainActor func soak(_ world: MPICommunicator, calls: Int, seed: UInt64) throws -> Int32 {
    let dup = try world.dup()
    let halves = try world.split(color: world.rank % 2, key: world.rank) as! MPICommunicator
    let reversed = try world.split(color: 0, key: -world.rank) as! MPICommunicator
    let comms: [(String, MPICommunicator)] = [("world", world), ("dup", dup), ("even/odd", halves), ("reversed", reversed)]
    let types = ElementType.allCases, ops = ReduceOp.allCases
    let routes: [Algorithm?] = Algorithm.allCases.map { $0 } + [nil]
    let largest = 4 << 20, widest = 8
    let input = UnsafeMutableRawPointer.allocate(byteCount: largest * widest, alignment: 64)
    let output = UnsafeMutableRawPointer.allocate(byteCount: largest * widest, alignment: 64)
    let expected = UnsafeMutableRawPointer.allocate(byteCount: largest * widest, alignment: 64)
    let gather = UnsafeMutableRawPointer.allocate(byteCount: largest * 2 * world.size, alignment: 64)
    defer { [input, output, expected, gather].forEach { $0.deallocate() } }
    var random = SplitMix64(seed: seed)
    var mismatches = 0, bytesMoved = 0
    var halfway = 0
    var tenths: [Int] = []
    if world.rank == 0 { print("soak: \(calls) calls, np=\(world.size), seed \(seed) (rerun: torus-mpi-check --soak \(calls) --seed \(seed))") }
    let start = Date()
    for call in 1...calls {
        let (label, comm) = comms[random.below(comms.count)]
        var type = types[random.below(types.count)], op = ops[random.below(ops.count)]
        while !op.supports(type) || VerifiableInputs.inexact(type: type, op: op, ranks: comm.size, period: 1 << 40) != nil {
            type = types[random.below(types.count)]
            op = ops[random.below(ops.count)]
        }
        // 1 in 20 calls empty; the rest log-uniform from 1 to 4 Mi elements.
        let exponent = Double(random.below(1 << 20)) / Double(1 << 20) * 22
        let count = random.below(20) == 0 ? 0 : min(largest, Int(pow(2.0, exponent)))
        let inPlace = random.below(2) == 0
        let route = routes[random.below(routes.count)]
        let bytes = count * type.size
        VerifiableInputs.fill(UnsafeMutableRawBufferPointer(start: input, count: bytes), type: type, op: op, rank: comm.rank,
                              values: .mpiComparable, period: .max)
        try reference(comm, input, into: expected, type, op, count: count, gather: gather)
        if inPlace { output.copyMemory(from: input, byteCount: bytes) } else { output.initializeMemory(as: UInt8.self, repeating: 0xAB, count: bytes) }
        try comm.allReduce(inPlace ? nil : UnsafeRawPointer(input), output, count: count, type: type, op: op, algorithm: route)
        bytesMoved += bytes
        if memcmp(output, expected, bytes) != 0 {
            mismatches += 1
            let at = (0..<bytes).first { output.load(fromByteOffset: $0, as: UInt8.self) != expected.load(fromByteOffset: $0, as: UInt8.self) } ?? -1
            print("FAIL soak call \(call) (seed \(seed)): \(label) \(route?.rawValue ?? "auto") \(type.rawValue) \(op.rawValue) count \(count) "
                  + "\(inPlace ? "in place" : "out of place") rank \(world.rank): first wrong byte \(at)")
        }
        if call == calls / 2 { halfway = residentBytes() }
        if call % max(1, calls / 10) == 0 { tenths.append(residentBytes()) }
    }
    let end = residentBytes()
    var local = [Int64(mismatches), Int64(end - halfway), Int64(end)]
    var worst = [Int64](repeating: 0, count: 3)
    _ = PMPI_Allreduce(&local, &worst, 3, torus_MPI_INT64_T(), ReduceOp.max.mpiOp, torus_MPI_COMM_WORLD())
    var totalMismatches: Int64 = 0
    var mine = Int64(mismatches)
    _ = PMPI_Allreduce(&mine, &totalMismatches, 1, torus_MPI_INT64_T(), torus_MPI_SUM(), torus_MPI_COMM_WORLD())
    if world.rank == 0 {
        let mib = { (b: Int64) in String(format: "%.1f MiB", Double(b) / 1048576) }
        print("soak: \(calls) calls, np=\(world.size), seed \(seed): \(totalMismatches) mismatches; "
              + "resident memory over the last \(calls - calls / 2) calls grew by at most \(mib(worst[1])) on a rank (largest: \(mib(worst[2]))); "
              + String(format: "%.0f s, %.1f GB reduced per rank", Date().timeIntervalSince(start), Double(bytesMoved) / 1e9))
        print("soak: rank 0's resident memory after each tenth of the calls: " + tenths.map { mib(Int64($0)) }.joined(separator: ", "))
    }
    return totalMismatches == 0 ? 0 : 1
}

do {
    let world = try MPICommunicator.world()
    let n = world.size
    let arguments = CommandLine.arguments
    if let at = arguments.firstIndex(of: "--soak") {
        guard at + 1 < arguments.count, let calls = Int(arguments[at + 1]), calls > 0 else {
            throw Failure(text: "--soak takes a number of calls, e.g. --soak 10000")
        }
        var seed = UInt64(Date().timeIntervalSince1970 * 1000) & 0xFFFF_FFFF
        if let s = arguments.firstIndex(of: "--seed") {
            guard s + 1 < arguments.count, let value = UInt64(arguments[s + 1]) else { throw Failure(text: "--seed takes a non-negative integer") }
            seed = value
        }
        // Every rank uses rank 0's seed.
        _ = PMPI_Bcast(&seed, 1, torus_MPI_UINT64_T(), 0, torus_MPI_COMM_WORLD())
        let status = try soak(world, calls: calls, seed: seed)
        try MPIEnvironment.finalize()
        exit(status)
    }
    let routes: [Algorithm?] = Algorithm.allCases.map { $0 } + [nil]
    let counts = Array(Set([0, 1, max(n - 1, 0), 6 * n + 1])).sorted()
    let types: [ElementType] = [.float32, .float64, .int32, .int64, .float16, .bfloat16]
    let ops: [ReduceOp] = [.sum, .max, .min, .prod]
    try check(world, "world", routes: routes, counts: counts, types: types, ops: ops)
    try check(world, "world 1Mi", routes: routes, counts: [1 << 20], types: [.float32], ops: [.sum])
    let dup = try world.dup()
    try check(dup, "dup", routes: routes, counts: counts, types: [.float32, .int64, .bfloat16], ops: [.sum, .max])
    let reversed = try world.split(color: 0, key: -world.rank) as! MPICommunicator
    if reversed.rank != n - 1 - world.rank { failures.append("reversed world: rank \(world.rank) became \(reversed.rank)") }
    try check(reversed, "reversed", routes: routes, counts: counts, types: [.float32, .int32, .float16], ops: [.sum, .min])
    if let even = try world.split(color: world.rank % 2 == 0 ? 0 : nil, key: world.rank) as? MPICommunicator {
        try check(even, "even ranks", routes: routes, counts: counts, types: [.float64, .int64], ops: [.sum, .prod])
    }
    // A DP×TP layout (Megatron order, PP = 1): DP groups reduce concurrently, then the TP groups.
    let tp = n % 2 == 0 ? 2 : 1
    let dp = try world.split(color: world.rank % tp, key: world.rank) as! MPICommunicator
    let tpComm = try world.split(color: world.rank / tp, key: world.rank) as! MPICommunicator
    try check(dp, "data-parallel (tp=\(tp))", routes: routes, counts: counts + [1 << 20], types: [.float32], ops: [.sum])
    try check(tpComm, "tensor-parallel (tp=\(tp))", routes: [nil, .sixRing], counts: counts, types: [.bfloat16, .float32], ops: [.sum])

    // A call the library took goes straight to it when repeated (`ScratchSpace.routeRepeat`);
    // changing the options must still route the next one afresh: here to ring, which leaves its
    // schedule in the communicator's run cache.
    if n > 1 {
        let again = try world.dup()
        let input = [Float](repeating: Float(world.rank + 1), count: 8)
        let expected = [Float](repeating: Float(n * (n + 1) / 2), count: 8)
        for _ in 0..<3 {
            checks += 1
            if try again.allReduce(input, op: .sum) != expected { failures.append("a repeated call routed to MPI: wrong result") }
        }
        checks += 1
        if again.scratch.runs.count != 0 { failures.append("repeated calls below the threshold ran a schedule, not MPI") }
        again.options.route = .schedule(.ring)
        checks += 1
        if try again.allReduce(input, op: .sum) != expected { failures.append("the repeated call after an options change: wrong result") }
        checks += 1
        if again.scratch.runs.count != 1 {
            failures.append("after options.route changed to ring, the repeated call did not run ring (\(again.scratch.runs.count) schedules ran)")
        }
    }

    // A communicator freed with a request under way (MPI allows it: the request completes): the
    // communicator goes after it (`MPICommunicator.free`).
    if n > 1 {
        let doomed = try world.dup()
        let count = 1 << 16
        let input = UnsafeMutableBufferPointer<Float>.allocate(capacity: count)
        let output = UnsafeMutableBufferPointer<Float>.allocate(capacity: count)
        defer {
            input.deallocate()
            output.deallocate()
        }
        for i in 0..<count { input[i] = Float((world.rank + 1) * (i % 5)) }
        let request = try doomed.iAllReduce(UnsafeRawPointer(input.baseAddress!), UnsafeMutableRawPointer(output.baseAddress!), count: count,
                                            type: .float32, op: .sum, algorithm: .ring)
        doomed.free()
        try request.wait()
        checks += 1
        if (0..<count).contains(where: { output[$0] != Float(n * (n + 1) / 2 * ($0 % 5)) }) {
            failures.append("a request on a communicator freed while it ran: wrong result")
        }
    }

    // Every rank learns the totals, so every rank exits with the same status.
    var local = [Int64(checks), Int64(failures.count)]
    var total = [Int64](repeating: 0, count: 2)
    _ = PMPI_Allreduce(&local, &total, 2, torus_MPI_INT64_T(), torus_MPI_SUM(), torus_MPI_COMM_WORLD())
    for f in failures.prefix(10) { print("FAIL \(f)") }
    if world.rank == 0 {
        print("mpi np=\(n): \(total[0] - total[1]) passed, \(total[1]) failed")
    }
    try MPIEnvironment.finalize()
    // A call after MPI_Finalize is an error that says so, not an abort inside MPI.
    do {
        _ = try world.allReduce([Float](repeating: 1, count: 8), op: .sum)
        print("FAIL a call after finalize went through")
        exit(1)
    } catch let error as TorusError where "\(error)".contains("MPI has been finalised") {
        if world.rank == 0 { print("a call after finalize is an error: passed") }
    }
    exit(total[1] == 0 ? 0 : 1)
} catch {
    print("torus-mpi-check: error: \(error)")
    exit(2)
}
