import Foundation
import Testing
import TorusCore
import TorusRuntime
import TorusSchedules
@testable import TorusSim

@Suite(.serialized) struct SimulatedTorusTests {
    /// sixRing puts the same bytes on all six directed links of every node of a k×k×k torus; the
    /// ring uses one outgoing link per node. Every message is one hop.
    @Test(arguments: [3, 4])
    func linkCountersShowSixLinksBusyVersusOne(k: Int) throws {
        let torus = SimulatedTorus(shape: try TorusShape(k, k, k))
        let p = torus.size
        let count = 6 * p * 1024  // divides evenly at every phase; messages of 1.5 Ki elements or more: six parts
        try torus.run { comm in
            _ = try comm.allReduce([Float](repeating: 1, count: count), op: .sum, algorithm: .sixRing)
        }
        let six = torus.linkTraffic
        #expect(six.maxHops == 1)
        for node in 0..<p {
            let out = six.outgoing(node: node)
            #expect(out.count == 6)
            #expect(out.allSatisfy { $0 > 0 })
            #expect(out.max()! == out.min()!, "node \(node): \(out)")
        }
        // Each node sends 2·(p−1)/p of the buffer in total, split evenly over six links.
        #expect(six.outgoing(node: 0).reduce(0, +) == 2 * (p - 1) * count / p * 4)

        try torus.run { comm in
            _ = try comm.allReduce([Float](repeating: 1, count: count), op: .sum, algorithm: .ring)
        }
        let ring = torus.linkTraffic
        #expect(ring.maxHops == 1)
        for node in 0..<p {
            #expect(ring.outgoing(node: node).filter { $0 > 0 }.count == 1)
        }
    }

    @Test func aLostMessageIsATimeoutNamingTheWaitingRanksNotAHang() throws {
        let torus = SimulatedTorus(shape: try TorusShape(2, 2, 1), timeout: 1, faults: [.dropMessage(from: 1, to: 0, index: 0)])
        let start = Date()
        do {
            try torus.run { comm in
                _ = try comm.allReduce([Float](repeating: 1, count: 64), op: .sum, algorithm: .recursiveDoubling)
            }
            Issue.record("a lost message went unnoticed")
        } catch let error as TorusError {
            guard case let .timeout(_, waiting) = error else { Issue.record("\(error)"); return }
            #expect(waiting.contains { $0.hasPrefix("rank 0 ") && $0.contains("from rank 1") }, "\(waiting)")
            #expect("\(error)".contains("ranks still waiting"))
        }
        #expect(Date().timeIntervalSince(start) < 10)
    }

    @Test func aSlowLinkDelaysButDoesNotChangeTheResult() throws {
        let slow = DirectedLink(node: 0, axis: 0, direction: .plus)
        let torus = SimulatedTorus(shape: try TorusShape(2, 2, 2), timeout: 10, faults: [.slowLink(slow, seconds: 0.05)])
        let failures = Failures()
        let start = Date()
        try torus.run { comm in
            let r = try comm.allReduce([Int32](repeating: Int32(comm.rank), count: 1000), op: .sum, algorithm: .sixRing)
            if r != [Int32](repeating: 28, count: 1000) { failures.add("rank \(comm.rank)") }
        }
        #expect(failures.list.isEmpty)
        #expect(Date().timeIntervalSince(start) >= 0.05)
    }

    @Test func countsThatDifferAcrossRanksAreAnErrorNotAHang() throws {
        let torus = SimulatedTorus(shape: try TorusShape(2, 2, 1), timeout: 5)
        do {
            try torus.run { comm in
                _ = try comm.allReduce([Float](repeating: 1, count: comm.rank == 0 ? 100 : 101), op: .sum, algorithm: .ring)
            }
            Issue.record("mismatched counts went unnoticed")
        } catch {
            #expect("\(error)".contains("different counts"), "\(error)")
        }
    }

    /// TORUS_CHECK: every rank learns of the difference before any data moves, with the ranks named
    /// — in a blocking call, and in a nonblocking request (whose first stage is the agreement).
    @Test(arguments: ["count", "op", "in place", "algorithm", "none"], [false, true])
    func theCheckNamesRanksThatPassDifferentArguments(differs: String, nonblocking: Bool) throws {
        var options = CollectiveOptions()
        options.check = true
        let torus = SimulatedTorus(shape: try TorusShape(2, 2, 1), timeout: 30, options: options)
        let errors = Failures(), wrong = Failures()
        try torus.run { comm in
            let odd = comm.rank == 3
            let count = differs == "count" && odd ? 1001 : 1000
            let op: ReduceOp = differs == "op" && odd ? .max : .sum
            let algorithm: Algorithm = differs == "algorithm" && odd ? .ring : .sixRing
            var data = [Float](repeating: 1, count: count)
            let input = data
            func reduce(_ send: UnsafeRawPointer?, _ recv: UnsafeMutableRawPointer) throws {
                if nonblocking {
                    try comm.iAllReduce(send, recv, count: count, type: .float32, op: op, algorithm: algorithm).wait()
                } else {
                    try comm.allReduce(send, recv, count: count, type: .float32, op: op, algorithm: algorithm)
                }
            }
            do {
                if differs == "in place" && odd {
                    try data.withUnsafeMutableBytes { try reduce(nil, $0.baseAddress!) }
                } else {
                    try input.withUnsafeBytes { i in
                        try data.withUnsafeMutableBytes { try reduce(i.baseAddress!, $0.baseAddress!) }
                    }
                }
                if data != [Float](repeating: 4, count: count) { wrong.add("rank \(comm.rank)") }
            } catch {
                errors.add("\(error)")
            }
        }
        if differs == "none" {
            #expect(errors.list.isEmpty && wrong.list.isEmpty, "\(errors.list) \(wrong.list)")
            return
        }
        // Every rank reports it (none goes on into the AllReduce), naming the ranks and values.
        #expect(errors.list.count == 4, "\(errors.list)")
        let expected = ["count": "count: ranks 0-2 passed 1000; rank 3 passed 1001", "op": "op: ranks 0-2 passed sum; rank 3 passed max",
                        "in place": "in place: ranks 0-2 passed no; rank 3 passed yes",
                        "algorithm": "route: ranks 0-2 passed sixring; rank 3 passed ring"][differs]!
        #expect(errors.list.allSatisfy { $0.contains("TORUS_CHECK") && $0.contains(expected) }, "\(errors.list)")
    }

    /// The stall watch: ranks that wait `stallSeconds` for a late rank report what they wait for
    /// (here the default report, which ends the call): peer, part, step and bytes — in a blocking
    /// call, and in `wait` on a nonblocking request.
    @Test(arguments: [false, true])
    func theStallWatchReportsWhatEachRankWaitsFor(nonblocking: Bool) throws {
        var options = CollectiveOptions()
        options.executor.stallSeconds = 0.3
        let torus = SimulatedTorus(shape: try TorusShape(2, 2, 1), timeout: 3, options: options)
        let errors = Failures()
        try torus.run { comm in
            if comm.rank == 3 { Thread.sleep(forTimeInterval: 1) }
            var data = [Float](repeating: 1, count: 4000)
            do {
                try data.withUnsafeMutableBytes { buffer in
                    if nonblocking {
                        try comm.iAllReduce(nil, buffer.baseAddress!, count: 4000, type: .float32, op: .sum, algorithm: .sixRing).wait()
                    } else {
                        try comm.allReduce(nil, buffer.baseAddress!, count: 4000, type: .float32, op: .sum, algorithm: .sixRing)
                    }
                }
            } catch {
                if comm.rank != 3 { errors.add("\(error)") }
            }
        }
        #expect(errors.list.count == 3, "\(errors.list)")
        // Each names its own waits (a rank waiting for the late one's neighbours too: the stall spreads).
        for text in errors.list {
            #expect(text.contains("timed out after 0.3 s") && text.contains("receive of ") && text.contains(", step "), "\(text)")
        }
        #expect(errors.list.contains { $0.contains(" bytes from rank 3 (part ") }, "\(errors.list)")
    }

    /// A call routed to the library that the library cannot take runs the small-message algorithm
    /// below the threshold and the large-message one above it, and gives the right answer.
    @Test func callsTheLibraryCannotTakeFallBackBySize() throws {
        var options = CollectiveOptions(route: .library, libraryBelowBytes: 4096, smallAlgorithm: .recursiveDoubling, largeAlgorithm: .ring)
        options.verbose = 0
        let torus = SimulatedTorus(shape: try TorusShape(2, 2, 1), timeout: 30, options: options)
        let failures = Failures()
        try torus.run { comm in
            if comm.fallbackAlgorithm(count: 10, type: .bfloat16, op: .sum) != .recursiveDoubling { failures.add("small") }
            if comm.fallbackAlgorithm(count: 1 << 20, type: .bfloat16, op: .sum) != .ring { failures.add("large") }
            let r = try comm.allReduce([Float](repeating: 1, count: 5000), op: .sum)
            if r != [Float](repeating: 4, count: 5000) { failures.add("rank \(comm.rank): wrong result") }
        }
        #expect(failures.list.isEmpty, "\(failures.list)")
    }

    /// NaNs with different payloads on different ranks: every rank ends with the same bits (x86
    /// keeps the first operand's payload, so both partners of recursive doubling put the lower
    /// rank's first), for every algorithm, on 4 ranks and on 3 (the fold).
    @Test(arguments: Algorithm.allCases)
    func nanPayloadsAreTheSameOnEveryRank(algorithm: Algorithm) throws {
        for shape in [try TorusShape(2, 2, 1), try TorusShape([3])] {
            let torus = SimulatedTorus(shape: shape, timeout: 30)
            let results = Results()
            try torus.run { comm in
                var values = [Float](repeating: Float(comm.rank), count: 64)
                values[0] = Float(bitPattern: 0x7FC0_0000 | UInt32(comm.rank + 1))
                if comm.rank == 1 { values[1] = Float(bitPattern: 0xFFC0_0000 | 0x1234) }
                values[2] = Float(bitPattern: 0x7FC0_0000 | UInt32(0x100 * (comm.rank + 1)))
                results.put(run: 0, rank: comm.rank, try comm.allReduce(values, op: .sum, algorithm: algorithm))
            }
            let bits = Set(results.all().map { $0.map(\.bitPattern) })
            #expect(bits.count == 1, "\(algorithm) on \(shape): \(bits.map { $0.prefix(3).map { String($0, radix: 16) } })")
        }
    }

    @Test func rankListsAreRanges() {
        #expect(CallArguments.rankList([3]) == "rank 3")
        #expect(CallArguments.rankList([0, 1, 2, 5, 7, 8]) == "ranks 0-2, 5, 7-8")
    }

    @Test func aRankThatThrowsStopsTheOthers() throws {
        let torus = SimulatedTorus(shape: try TorusShape(2, 2, 1), timeout: 30)
        struct Boom: Error {}
        let start = Date()
        #expect(throws: Boom.self) {
            try torus.run { comm in
                if comm.rank == 2 { throw Boom() }
                _ = try comm.allReduce([Float](repeating: 1, count: 10), op: .sum)
            }
        }
        #expect(Date().timeIntervalSince(start) < 5)
    }

    /// Arbitrary floats (sums that round): every rank holds the same bits, and a second run gives
    /// the same bits again.
    @Test(arguments: Algorithm.allCases)
    func resultsAreBitIdenticalAcrossRanksAndRuns(algorithm: Algorithm) throws {
        let torus = SimulatedTorus(shape: try TorusShape(3, 4, 2))
        let results = Results()
        for run in 0..<2 {
            try torus.run { comm in
                var rng = SystemRandomNumberGenerator()
                _ = rng.next()
                let values = (0..<5000).map { Float(VerifiableInputs.hash(rank: comm.rank, slot: $0) % 1_000_003) / 7.3 }
                let r = try comm.allReduce(values, op: .sum, algorithm: algorithm)
                results.put(run: run, rank: comm.rank, r)
            }
        }
        let all = results.all()
        #expect(Set(all.map { $0.map(\.bitPattern) }).count == 1)
        #expect(all.count == 2 * 24)
    }

    /// Swing's latency form keeps a partial sum per aligned block and merges halves lower first, so
    /// on a box of powers of two in rank order (x fastest) it adds up in recursive doubling's order:
    /// the same bits, on every rank. The paper's form (each rank adding its partner's running sum)
    /// would not: from a ring of 8 on, ranks add up in different orders.
    @Test(arguments: [[8, 4, 2], [16, 1, 1], [2, 2, 2]])
    func swingLatencyAddsUpAsRecursiveDoublingDoes(dims: [Int]) throws {
        let torus = SimulatedTorus(shape: try TorusShape(dims))
        let results = Results()
        for (run, algorithm) in [Algorithm.swingLatency, .recursiveDoubling].enumerated() {
            try torus.run { comm in
                let values = (0..<37).map { Float(VerifiableInputs.hash(rank: comm.rank, slot: $0) % 1_000_003) / 7.3 }
                results.put(run: run, rank: comm.rank, try comm.allReduce(values, op: .sum, algorithm: algorithm))
            }
        }
        let all = results.all()
        #expect(all.count == 2 * torus.shape.nodeCount)
        #expect(Set(all.map { $0.map(\.bitPattern) }).count == 1)
    }

    @Test func forcedAndChosenAlgorithmsAgree() throws {
        let torus = SimulatedTorus(shape: try TorusShape(4, 2, 1), options: CollectiveOptions(algorithm: .rabenseifner))
        let failures = Failures()
        try torus.run { comm in
            if comm.chooseRoute(count: 10, type: .float32) != .schedule(.rabenseifner) { failures.add("forced route ignored") }
            comm.options.route = nil
            let a = try comm.allReduce([Int64](repeating: 3, count: 10_000), op: .sum)
            let b = try comm.allReduce([Int64](repeating: 3, count: 10_000), op: .sum, algorithm: .reduceBroadcast)
            if a != b || a.first != 24 { failures.add("rank \(comm.rank)") }
        }
        #expect(failures.list.isEmpty)
    }
}

// @unchecked Sendable: all mutable state is behind `lock`.
final class Results: @unchecked Sendable {
    private let lock = NSLock()
    private var values: [[Float]] = []
    func put(run: Int, rank: Int, _ v: [Float]) { lock.lock(); values.append(v); lock.unlock() }
    func all() -> [[Float]] { lock.lock(); defer { lock.unlock() }; return values }
}

@Suite struct RendezvousTests {
    /// Like MPI, a large send completes only once it is received: two ranks that each wait for
    /// their send before posting their receive deadlock, and the simulation says so.
    @Test func largeSendsWaitForTheirReceive() throws {
        let torus = SimulatedTorus(shape: try TorusShape([2]), timeout: 1, eagerLimit: 4096)
        do {
            try torus.run { comm in
                var out = [UInt8](repeating: 1, count: 8192), into = [UInt8](repeating: 0, count: 8192)
                try out.withUnsafeBytes { o in
                    try into.withUnsafeMutableBytes { i in
                        let s = try comm.transport.isend(o, to: 1 - comm.rank, tag: 1)
                        try comm.transport.wait(s)
                        let r = try comm.transport.irecv(i, from: 1 - comm.rank, tag: 1)
                        try comm.transport.wait(r)
                    }
                }
                _ = (out, into)
            }
            Issue.record("the unsafe exchange completed")
        } catch let error as TorusError {
            guard case let .timeout(_, waiting) = error else { Issue.record("\(error)"); return }
            #expect(waiting.count == 2)
            #expect(waiting[0].contains("to receive 8192 bytes"))
        }
        // Small messages are eager: the same exchange completes.
        let eager = SimulatedTorus(shape: try TorusShape([2]), timeout: 5, eagerLimit: 4096)
        try eager.run { comm in
            var out = [UInt8](repeating: 1, count: 1024), into = [UInt8](repeating: 0, count: 1024)
            try out.withUnsafeBytes { o in
                try into.withUnsafeMutableBytes { i in
                    try comm.transport.wait(try comm.transport.isend(o, to: 1 - comm.rank, tag: 1))
                    try comm.transport.wait(try comm.transport.irecv(i, from: 1 - comm.rank, tag: 1))
                }
            }
            _ = (out, into)
        }
    }
}
