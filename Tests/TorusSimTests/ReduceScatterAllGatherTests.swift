import Foundation
import Testing
import TorusCore
import TorusRuntime
@testable import TorusSchedules
@testable import TorusSim

/// ReduceScatter and AllGather on the in-process torus: every rank's result checked byte for byte
/// against the AllReduce reference (a ReduceScatter's block r is elements r·c ..< (r+1)·c of it)
/// and against the other ranks' inputs (AllGather), in place and out of place.
@Suite(.serialized) struct ReduceScatterAllGatherTests {
    /// Runs both collectives on `comm` and records what differs.
    static func check(_ comm: Communicator, _ algorithm: Algorithm?, type: ElementType, op: ReduceOp, c: Int, inPlace: Bool,
                      reference: [UInt8], failures: Failures) throws {
        let p = comm.size, s = type.size, r = comm.rank
        let label = "\(algorithm?.rawValue ?? "auto") \(type) \(op) c=\(c) in place \(inPlace) rank \(r)"
        // ReduceScatter: p blocks in, block r out.
        let input = VerifiableInputs.bytes(type: type, op: op, rank: r, count: p * c, period: .max)
        var output = inPlace ? input : [UInt8](repeating: 0xEE, count: c * s + 1)
        try input.withUnsafeBytes { send in
            try output.withUnsafeMutableBytes { recv in
                try comm.reduceScatter(inPlace ? nil : send.baseAddress!, recv.baseAddress!, blockCount: c, type: type, op: op,
                                       algorithm: algorithm)
            }
        }
        if !inPlace && output.last != 0xEE { failures.add("\(label): reduce-scatter wrote past its block") }
        if Array(output.prefix(c * s)) != Array(reference[r * c * s ..< (r + 1) * c * s]) {
            failures.add("\(label): reduce-scatter block differs from the reference")
        }
        // AllGather: each rank's c elements in, all p blocks out.
        let mine = VerifiableInputs.bytes(type: type, op: op, rank: r, count: c, period: .max)
        var gathered = [UInt8](repeating: 0xEE, count: p * c * s + 1)
        if inPlace { gathered.replaceSubrange(r * c * s ..< (r + 1) * c * s, with: mine) }
        try mine.withUnsafeBytes { send in
            try gathered.withUnsafeMutableBytes { recv in
                try comm.allGather(inPlace ? nil : send.baseAddress ?? UnsafeRawPointer(recv.baseAddress!), recv.baseAddress!,
                                   blockCount: c, type: type, algorithm: algorithm)
            }
        }
        if gathered.last != 0xEE { failures.add("\(label): all-gather wrote past the end") }
        let expected = (0..<p).flatMap { VerifiableInputs.bytes(type: type, op: op, rank: $0, count: c, period: .max) }
        if Array(gathered.prefix(p * c * s)) != expected { failures.add("\(label): all-gather differs") }
    }

    @Test(arguments: ["2x2x2", "3x2x1", "1x1x1", "4x1x1"])
    func everyAlgorithmWithHalves(shape: String) throws {
        let torus = SimulatedTorus(shape: try TorusShape(parsing: shape), timeout: 120)
        let p = torus.size
        let cases: [(ElementType, ReduceOp)] = [(.float32, .sum), (.int64, .max), (.float16, .sum), (.uint8, .bxor)]
        var references: [String: [UInt8]] = [:]
        let counts = [0, 1, 7, 1000]
        for (type, op) in cases {
            for c in counts {
                references["\(type) \(op) \(c)"] = VerifiableInputs.expected(kernel: try ReductionKernel(type: type, op: op), ranks: p,
                                                                             count: p * c, period: .max)
            }
        }
        let refs = references
        let algorithms: [Algorithm?] = [nil, .sixRing, .ring] + (p & (p - 1) == 0 ? [.rabenseifner] : [])
        let failures = Failures()
        try torus.run { comm in
            for algorithm in algorithms {
                for (type, op) in cases {
                    for c in counts {
                        for inPlace in [false, true] {
                            try Self.check(comm, algorithm, type: type, op: op, c: c, inPlace: inPlace,
                                           reference: refs["\(type) \(op) \(c)"]!, failures: failures)
                        }
                    }
                }
            }
        }
        #expect(failures.list.isEmpty, "\(failures.list.joined(separator: "\n"))")
    }

    /// A tuned sixring plan (its blocks six or more ranges per rank) at a count where it runs.
    @Test func tunedSixRingPlanAsHalves() throws {
        let shape = try TorusShape(4, 2, 1)
        let tuned = try #require(SixRingPlan.candidates(dims: shape.dims).first)
        let c = SixRingPlan.minimumMessageElements * tuned.messagesPerRank / 8 + 13
        #expect(!SixRingPlan.of(dims: shape.dims, count: 8 * c).isEqualSplit, "the tuned plan should run at \(c) per rank")
        let reference = VerifiableInputs.expected(kernel: try ReductionKernel(type: .float32, op: .sum), ranks: 8, count: 8 * c, period: .max)
        let failures = Failures()
        try SimulatedTorus(shape: shape, timeout: 120).run { comm in
            for inPlace in [false, true] {
                try Self.check(comm, .sixRing, type: .float32, op: .sum, c: c, inPlace: inPlace, reference: reference, failures: failures)
            }
        }
        #expect(failures.list.isEmpty, "\(failures.list.joined(separator: "\n"))")
    }

    @Test func arraysRoutesAndErrors() throws {
        let failures = Failures()
        try SimulatedTorus(shape: try TorusShape(2, 2, 1), timeout: 60).run { comm in
            let p = comm.size, r = comm.rank
            let mine = (0..<3).map { Double(r * 10 + $0) }
            let all = try comm.allGather(mine)
            if all != (0..<p).flatMap { k in (0..<3).map { Double(k * 10 + $0) } } { failures.add("rank \(r): allGather array \(all)") }
            let block = try comm.reduceScatter((0..<(2 * p)).map { Float($0 + r) }, op: .sum)
            let want = (2 * r ..< 2 * r + 2).map { Float(p * $0 + (0..<p).reduce(0, +)) }
            if block != want { failures.add("rank \(r): reduceScatter array \(block), expected \(want)") }
            do {
                _ = try comm.reduceScatter([Float](repeating: 1, count: 5), op: .sum)
                failures.add("rank \(r): 5 elements on 4 ranks should be refused")
            } catch let error as TorusError {
                if !error.description.contains("multiple of the 4 ranks") { failures.add("rank \(r): \(error)") }
            }
            do {
                _ = try comm.allGather([Float(1)], algorithm: .recursiveDoubling)
                failures.add("rank \(r): recursive doubling has no all-gather")
            } catch let error as TorusError {
                if !error.description.contains("use one of sixring, ring, rabenseifner") { failures.add("rank \(r): \(error)") }
            }
            // TORUS_ALGORITHM naming an algorithm without halves leaves the choice to the rules.
            comm.options.route = .schedule(.recursiveDoubling)
            let (route, why) = try comm.explainRoute(.reduceScatter, blockCount: 1 << 20, type: .float32)
            if route == .schedule(.recursiveDoubling) || !why.contains("TORUS_ALGORITHM=recursive-doubling cannot") {
                failures.add("rank \(r): \(route) \(why)")
            }
            comm.options.route = nil
            // A ReduceScatter has a threshold of its own; an AllGather uses the AllReduce's.
            comm.options.libraryBelowBytes = 16 << 20
            comm.options.reduceScatterLibraryBelowBytes = 1 << 20
            let rs = try comm.explainRoute(.reduceScatter, blockCount: (2 << 20) / 4 / p, type: .float32)
            let ag = try comm.explainRoute(.allGather, blockCount: (2 << 20) / 4 / p, type: .float32)
            if rs.0 == .library || ag.0 != .library || !ag.1.contains("below the 16777216-byte threshold") {
                failures.add("rank \(r): thresholds: \(rs) \(ag)")
            }
        }
        #expect(failures.list.isEmpty, "\(failures.list.joined(separator: "\n"))")
    }
}
