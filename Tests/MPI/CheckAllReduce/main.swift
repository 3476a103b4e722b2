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

/// The reference: PMPI_Allreduce, or the gathered inputs folded in rank order for 16-bit floats.
func reference(_ comm: MPICommunicator, _ input: [UInt8], _ type: ElementType, _ op: ReduceOp, count: Int) throws -> [UInt8] {
    var out = [UInt8](repeating: 0, count: input.count)
    if let datatype = type.mpiDatatype {
        let code = input.withUnsafeBytes { i in
            out.withUnsafeMutableBytes { o in
                PMPI_Allreduce(i.baseAddress ?? UnsafeRawPointer(bitPattern: 64)!, o.baseAddress ?? UnsafeMutableRawPointer(bitPattern: 64)!,
                               Int32(count), datatype, op.mpiOp, comm.handle)
            }
        }
        guard code == 0 else { throw Failure(text: "reference PMPI_Allreduce failed: \(code)") }
        return out
    }
    var all = [UInt8](repeating: 0, count: input.count * comm.size)
    if count > 0 {
        let code = input.withUnsafeBytes { i in
            all.withUnsafeMutableBytes { a in
                PMPI_Allgather(i.baseAddress, Int32(input.count), torus_MPI_BYTE(), a.baseAddress, Int32(input.count), torus_MPI_BYTE(), comm.handle)
            }
        }
        guard code == 0 else { throw Failure(text: "reference PMPI_Allgather failed: \(code)") }
    }
    let kernel = try ReductionKernel(type: type, op: op)
    out = Array(all[0..<input.count])
    for r in 1..<comm.size where count > 0 {
        let next = Array(all[r * input.count ..< (r + 1) * input.count])
        out.withUnsafeMutableBytes { o in next.withUnsafeBytes { kernel.accumulate(into: o.baseAddress!, $0.baseAddress!, count: count) } }
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

do {
    let world = try MPICommunicator.world()
    let n = world.size
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
