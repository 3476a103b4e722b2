import Foundation
import Testing
import TorusCore
import TorusRuntime
@testable import TorusSchedules
@testable import TorusSim

/// Shapes of the issue's matrix.
let shapes = ["1x1x1", "2x1x1", "2x2x2", "3x4x5", "4x4x4", "1x6x1", "5x5x5"]

/// Collects per-rank failures from inside a simulated run.
// @unchecked Sendable: all mutable state is behind `lock`.
final class Failures: @unchecked Sendable {
    private let lock = NSLock()
    private(set) var list: [String] = []
    func add(_ s: String) { lock.lock(); if list.count < 20 { list.append(s) }; lock.unlock() }
}

/// Runs AllReduce of `count` elements on `comm` with exact inputs, in place or not, and compares
/// the result bit for bit with `expected`.
func check(_ comm: Communicator, _ algorithm: Algorithm?, _ type: ElementType, _ op: ReduceOp, count: Int,
           inPlace: Bool, expected: [UInt8], failures: Failures, label: String) throws {
    let input = VerifiableInputs.bytes(type: type, op: op, rank: comm.rank, count: count, period: .max)
    var output = inPlace ? input : [UInt8](repeating: 0xEE, count: input.count + 1)
    try input.withUnsafeBytes { send in
        try output.withUnsafeMutableBytes { recv in
            let dst = recv.baseAddress ?? UnsafeMutableRawPointer(mutating: send.baseAddress) ?? UnsafeMutableRawPointer.allocate(byteCount: 1, alignment: 1)
            try comm.allReduce(inPlace ? nil : send.baseAddress, dst, count: count, type: type, op: op, algorithm: algorithm)
        }
    }
    if !inPlace {
        if output.last != 0xEE { failures.add("\(label): wrote past the end of the output") }
        output.removeLast()
    }
    if output != expected {
        let first = zip(output, expected).enumerated().first { $0.element.0 != $0.element.1 }?.offset ?? -1
        failures.add("\(label) rank \(comm.rank): differs from the reference at byte \(first)")
    }
}

@Suite(.serialized) struct SimulatedAllReduceTests {
    /// Every algorithm on `torus` at `counts` × `types` (sums), in place and out of place in turn,
    /// each result compared bit for bit with the reference; `each` runs first on every rank.
    func checkEveryAlgorithm(on torus: SimulatedTorus, counts: [Int], types: [ElementType], label: String, failures: Failures,
                             each: @escaping @Sendable (Communicator) -> Void = { _ in }) throws {
        var expected: [String: [UInt8]] = [:]
        for count in counts {
            for type in types {
                expected["\(count) \(type)"] = VerifiableInputs.expected(kernel: try ReductionKernel(type: type, op: .sum), ranks: torus.size,
                                                                         count: count, period: .max)
            }
        }
        let reference = expected
        try torus.run { comm in
            each(comm)
            var inPlace = false
            for algorithm in Algorithm.allCases {
                for count in counts {
                    for type in types {
                        inPlace.toggle()
                        try check(comm, algorithm, type, .sum, count: count, inPlace: inPlace,
                                  expected: reference["\(count) \(type)"]!, failures: failures,
                                  label: "\(algorithm) \(label) \(type) count \(count) \(inPlace ? "in place" : "out of place")")
                    }
                }
            }
        }
    }

    /// Every algorithm × counts {0, 1, 5, 6p−1, 6p+1, 100003} × {f32 sum, i64 sum}, in place and out of place.
    @Test(arguments: shapes)
    func everyAlgorithmOnEveryShape(shape: String) throws {
        let torus = SimulatedTorus(shape: try TorusShape(parsing: shape), timeout: 120)
        let p = torus.size
        let failures = Failures()
        try checkEveryAlgorithm(on: torus, counts: [0, 1, 5, 6 * p - 1, 6 * p + 1, 100_003], types: [.float32, .int64], label: shape,
                                failures: failures)
        #expect(failures.list.isEmpty, "\(failures.list.joined(separator: "\n"))")
    }

    /// Every algorithm with receive-and-reduce scratch in a ring (issue rule 3): rings of 1 and 3
    /// segments of 256 bytes — above the fabric's eager limit of 128 bytes, so every send waits for
    /// its receive, as MPI's rendezvous does — at counts whose steps wrap around the ring many times,
    /// f32 and i64 sums, in place and out of place: exact results and no deadlock. A ring of 2 also
    /// with a pool of reduction threads (reductions finish out of order, after their receives).
    @Test(arguments: ["2x1x1", "3x2x1", "2x2x2"])
    func everyAlgorithmWithAScratchRing(shape: String) throws {
        let failures = Failures()
        for (ring, threads) in [(1, 0), (3, 0), (2, 3)] {
            let torus = SimulatedTorus(shape: try TorusShape(parsing: shape), timeout: 120, eagerLimit: 128, reductionThreads: threads)
            defer { torus.reductionPool?.shutdown() }
            torus.options.executor.rules = IssueRules(segmentBytes: 256, scratchSegments: ring)
            try checkEveryAlgorithm(on: torus, counts: [6 * torus.size + 1, 20_003], types: [.float32, .int64],
                                    label: "\(shape) ring \(ring), \(threads) reduction threads", failures: failures)
        }
        #expect(failures.list.isEmpty, "\(failures.list.joined(separator: "\n"))")
    }

    /// The same checks with a shared pool of reduction threads: every algorithm on 2x2x2, reductions
    /// large enough to be cut into parts, f32 and f16 sums, in place and out of place.
    @Test(arguments: ["2x2x2"])
    func everyAlgorithmWithReductionThreads(shape: String) throws {
        let torus = SimulatedTorus(shape: try TorusShape(parsing: shape), timeout: 120, reductionThreads: 3)
        defer { torus.reductionPool?.shutdown() }
        let failures = Failures()
        try checkEveryAlgorithm(on: torus, counts: [6 * torus.size + 1, 200_003], types: [.float32, .float16],
                                label: "\(shape) with reduction threads", failures: failures) { comm in
            #expect(comm.reductionEngine is PoolReductionEngine)
        }
        #expect(failures.list.isEmpty, "\(failures.list.joined(separator: "\n"))")
    }

    @Test func oneMebiFloat32On4x4x4() throws {
        let torus = SimulatedTorus(shape: try TorusShape(4, 4, 4), timeout: 120)
        let count = 1 << 20
        let expected = VerifiableInputs.expected(kernel: try ReductionKernel(type: .float32, op: .sum), ranks: 64, count: count, period: .max)
        let failures = Failures()
        try torus.run { comm in
            for algorithm in [Algorithm.sixRing, .ring] {
                try check(comm, algorithm, .float32, .sum, count: count, inPlace: true, expected: expected,
                          failures: failures, label: "\(algorithm) 1Mi")
            }
        }
        #expect(failures.list.isEmpty, "\(failures.list.joined(separator: "\n"))")
    }

    /// Shape-aware sixring on the in-process torus: 4×2×1 at a count where its crossing plan runs
    /// (all-gather pieces of several ranges per message), in place and out of place, float32 sum
    /// and float64 max, every element checked.
    @Test func shapeAwareSixRingOn4x2x1() throws {
        let shape = try TorusShape(4, 2, 1)
        let tuned = try #require(SixRingPlan.candidates(dims: shape.dims).first)
        let count = SixRingPlan.minimumMessageElements * tuned.messagesPerRank * 8 / 14 + 1001
        #expect(!SixRingPlan.of(dims: shape.dims, count: count).isEqualSplit, "the tuned plan should run at \(count)")
        let torus = SimulatedTorus(shape: shape, timeout: 120)
        let failures = Failures()
        for (type, op) in [(ElementType.float32, ReduceOp.sum), (.float64, .max)] {
            let expected = VerifiableInputs.expected(kernel: try ReductionKernel(type: type, op: op), ranks: 8, count: count, period: .max)
            try torus.run { comm in
                for inPlace in [false, true] {
                    try check(comm, .sixRing, type, op, count: count, inPlace: inPlace, expected: expected,
                              failures: failures, label: "sixring \(type) \(op) in place \(inPlace)")
                }
            }
        }
        #expect(failures.list.isEmpty, "\(failures.list.joined(separator: "\n"))")
    }

    /// Every element type × every op, for sixRing and ring, on 2×2×2 and 3×4×5.
    @Test(arguments: ["2x2x2", "3x4x5"])
    func everyTypeAndOp(shape: String) throws {
        let torus = SimulatedTorus(shape: try TorusShape(parsing: shape), timeout: 120)
        let p = torus.size
        let count = 6 * p + 7
        var expected: [String: [UInt8]] = [:]
        for type in ElementType.allCases {
            for op in ReduceOp.supported(by: type) {
                expected["\(type) \(op)"] = VerifiableInputs.expected(kernel: try ReductionKernel(type: type, op: op), ranks: p, count: count, period: .max)
            }
        }
        let reference = expected
        let failures = Failures()
        try torus.run { comm in
            for algorithm in [Algorithm.sixRing, .ring] {
                for type in ElementType.allCases {
                    for op in ReduceOp.supported(by: type) {
                        try check(comm, algorithm, type, op, count: count, inPlace: op == .max, expected: reference["\(type) \(op)"]!,
                                  failures: failures, label: "\(algorithm) \(shape) \(type) \(op)")
                    }
                }
            }
        }
        #expect(failures.list.isEmpty, "\(failures.list.joined(separator: "\n"))")
    }

    /// Data-parallel and tensor-parallel groups of a 4×4×4 job, reducing on all groups at once.
    @Test(arguments: [2, 4])
    func subcommunicatorsReduceConcurrently(tp: Int) throws {
        let torus = SimulatedTorus(shape: try TorusShape(4, 4, 4), timeout: 120)
        let dp = 64 / tp
        let count = 6 * dp + 5
        let expected = VerifiableInputs.expected(kernel: try ReductionKernel(type: .float32, op: .sum), ranks: dp, count: count, period: .max)
        let tpExpected = VerifiableInputs.expected(kernel: try ReductionKernel(type: .int64, op: .sum), ranks: tp, count: 1000, period: .max)
        let failures = Failures()
        try torus.run { world in
            // Megatron order with PP = 1: rank = dp·TP + tp.
            let tpComm = try #require(try world.split(color: world.rank / tp, key: world.rank))
            let dpComm = try #require(try world.split(color: world.rank % tp, key: world.rank))
            if dpComm.size != dp || tpComm.size != tp { failures.add("group sizes \(dpComm.size), \(tpComm.size)") }
            if dpComm.topology.kind != .box { failures.add("DP group is not a box: \(dpComm.topology)") }
            for algorithm in [Algorithm.sixRing, .ring, .rabenseifner] {
                try check(dpComm, algorithm, .float32, .sum, count: count, inPlace: false, expected: expected,
                          failures: failures, label: "DP \(algorithm) tp=\(tp)")
            }
            try check(tpComm, nil, .int64, .sum, count: 1000, inPlace: true, expected: tpExpected, failures: failures, label: "TP")
        }
        #expect(failures.list.isEmpty, "\(failures.list.joined(separator: "\n"))")
    }

    @Test func splitOrdersByKeyAndSkipsNilColor() throws {
        let torus = SimulatedTorus(shape: try TorusShape(2, 2, 2))
        let failures = Failures()
        try torus.run { world in
            // Reverse order by key; rank 7 takes no part.
            let sub = try world.split(color: world.rank == 7 ? nil : 1, key: -world.rank)
            if world.rank == 7 {
                if sub != nil { failures.add("rank 7 got a communicator") }
                return
            }
            guard let sub else { failures.add("no communicator"); return }
            if sub.size != 7 || sub.rank != 6 - world.rank { failures.add("rank \(world.rank) became \(sub.rank) of \(sub.size)") }
            let r = try sub.allReduce([Int64(world.rank)], op: .sum)
            if r != [21] { failures.add("sum \(r)") }
            if sub.topology.kind != .virtualGrid { failures.add("7 of 8 nodes is not a box") }
        }
        #expect(failures.list.isEmpty, "\(failures.list.joined(separator: "\n"))")
    }
}

/// Steps cut into more segments than any fixed request table, over rendezvous messages (the
/// simulated fabric completes a send above 4 KiB only when its receive is posted): every rank's
/// sends of a step come before its receives, so a cap on unfinished segments would deadlock here.
@Suite struct ManyRendezvousSegmentsTests {
    @Test(arguments: [Algorithm.sixRing, .recursiveDoubling, .ring])
    func manySmallRendezvousSegmentsComplete(algorithm: Algorithm) throws {
        var options = CollectiveOptions(algorithm: algorithm)
        options.executor.segmentBytes = 8 << 10
        let torus = SimulatedTorus(shape: try TorusShape(2, 1, 1), timeout: 60, options: options)
        let count = 2 << 20  // 8 MiB of floats: 85 to 1,024 segments of 8 KiB per step
        let expected = VerifiableInputs.expected(kernel: try ReductionKernel(type: .float32, op: .sum), ranks: 2, count: count, period: .max)
        let failures = Failures()
        try torus.run { comm in
            try check(comm, algorithm, .float32, .sum, count: count, inPlace: true, expected: expected, failures: failures, label: "8 KiB segments")
        }
        #expect(failures.list.isEmpty, "\(failures.list)")
    }
}
