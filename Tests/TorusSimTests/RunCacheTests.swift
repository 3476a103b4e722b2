import Testing
import TorusCore
@testable import TorusRuntime
import TorusSchedules
@testable import TorusSim

/// The run cache (`ScratchSpace.runs`): a call like a recent one builds no schedule, every call's
/// result stays right while entries are reused, replaced and evicted, and the cache stays within
/// its bound.
@Suite struct RunCacheTests {
    @Test func repeatedCallsReuseTheirScheduleAndStayRight() throws {
        let torus = SimulatedTorus(shape: try TorusShape(2, 2, 2), timeout: 60)
        let failures = Failures()
        try torus.run { comm in
            let runs = comm.scratch.runs
            // The same call ten times, out of place and in place: the schedule does not depend on
            // in place, so one build serves all twenty.
            for round in 0..<10 {
                let input = (0..<1001).map { Float($0 % 7 + comm.rank + round) }
                let expected = (0..<1001).map { i in (0..<8).reduce(Float(0)) { $0 + Float(i % 7 + $1 + round) } }
                if try comm.allReduce(input, op: .sum, algorithm: .sixRing) != expected { failures.add("rank \(comm.rank) round \(round)") }
                var inPlace = input
                try inPlace.withUnsafeMutableBytes {
                    try comm.allReduce(nil, $0.baseAddress!, count: 1001, type: .float32, op: .sum, algorithm: .sixRing)
                }
                if inPlace != expected { failures.add("rank \(comm.rank) round \(round) in place") }
            }
            if runs.builds != 1 || runs.count != 1 { failures.add("rank \(comm.rank): \(runs.builds) builds, \(runs.count) entries for one call repeated") }
            // A different count, type or algorithm is another entry.
            _ = try comm.allReduce([Float](repeating: 1, count: 1002), op: .sum, algorithm: .sixRing)
            _ = try comm.allReduce([Double](repeating: 1, count: 1001), op: .sum, algorithm: .sixRing)
            _ = try comm.allReduce([Float](repeating: 1, count: 1001), op: .sum, algorithm: .ring)
            if runs.builds != 4 || runs.count != 4 { failures.add("rank \(comm.rank): \(runs.builds) builds, \(runs.count) entries for four calls") }
        }
        #expect(failures.list.isEmpty, "\(failures.list)")
    }

    /// A call that repeats the last one's arguments takes its route without choosing again
    /// (`ScratchSpace.routeRepeat`), the forced algorithm being one of those arguments; a change of
    /// the options, the executor's included, makes the next call choose afresh.
    @Test func aRepeatedCallTakesItsRouteUntilTheOptionsChange() throws {
        let torus = SimulatedTorus(shape: try TorusShape(2, 2, 1), timeout: 60)
        let failures = Failures()
        try torus.run { comm in
            let runs = comm.scratch.runs
            let input = (0..<1001).map { Float($0 % 5 + comm.rank) }
            let expected = (0..<1001).map { i in (0..<4).reduce(Float(0)) { $0 + Float(i % 5 + $1) } }
            func call(_ algorithm: Algorithm? = nil, _ what: String) throws {
                if try comm.allReduce(input, op: .sum, algorithm: algorithm) != expected { failures.add("rank \(comm.rank): \(what): wrong result") }
            }
            comm.options.route = .schedule(.ring)
            try call(nil, "ring")
            try call(nil, "ring again")
            if runs.count != 1 || comm.scratch.routeRepeat?.algorithm != .ring {
                failures.add("rank \(comm.rank): a repeated call: \(runs.count) schedules, repeat \(String(describing: comm.scratch.routeRepeat?.algorithm))")
            }
            // New executor options (a segment size): a new schedule table, so they were used.
            comm.options.executor.segmentBytes = 1024
            try call(nil, "ring, 1 KiB segments")
            if runs.count != 2 { failures.add("rank \(comm.rank): after the segment size changed: \(runs.count) schedules, not 2") }
            comm.options.route = .schedule(.recursiveDoubling)
            try call(nil, "recursive doubling")
            if runs.count != 3 { failures.add("rank \(comm.rank): after the route changed: \(runs.count) schedules, not 3") }
            // A forced algorithm is part of what repeats: forcing ring, then not, runs each.
            try call(.ring, "ring forced")
            if comm.scratch.routeRepeat?.forced != .ring { failures.add("rank \(comm.rank): the forced call was not kept") }
            try call(nil, "recursive doubling after a forced ring")
            if comm.scratch.routeRepeat?.algorithm != .recursiveDoubling || comm.scratch.routeRepeat?.forced != nil {
                failures.add("rank \(comm.rank): the call after the forced one did not take the options' route")
            }
            if runs.count != 3 || runs.builds != 3 { failures.add("rank \(comm.rank): \(runs.builds) builds, \(runs.count) entries, not 3") }
        }
        #expect(failures.list.isEmpty, "\(failures.list)")
    }

    @Test func theLeastRecentlyUsedGoPastTheBound() throws {
        let torus = SimulatedTorus(shape: try TorusShape(2, 2, 1), timeout: 60)
        let failures = Failures()
        let distinct = RunCache.maxEntries + 8
        try torus.run { comm in
            let runs = comm.scratch.runs
            for n in 1...distinct {
                let r = try comm.allReduce([Int32](repeating: Int32(comm.rank), count: n), op: .sum, algorithm: .recursiveDoubling)
                if r != [Int32](repeating: 6, count: n) { failures.add("rank \(comm.rank) count \(n)") }
            }
            if runs.count != RunCache.maxEntries { failures.add("rank \(comm.rank): \(runs.count) entries kept") }
            // The most recent are kept, the first were evicted and are built again.
            let before = runs.builds
            _ = try comm.allReduce([Int32](repeating: 1, count: distinct), op: .sum, algorithm: .recursiveDoubling)
            if runs.builds != before { failures.add("rank \(comm.rank): the most recent call was rebuilt") }
            let r = try comm.allReduce([Int32](repeating: 1, count: 1), op: .sum, algorithm: .recursiveDoubling)
            if runs.builds != before + 1 || r != [4] { failures.add("rank \(comm.rank): the oldest call was not rebuilt (or wrong: \(r))") }
        }
        #expect(failures.list.isEmpty, "\(failures.list)")
    }
}

/// The executor's set of byte ranges not yet written (out-of-place runs), against a plain bitmap.
@Suite struct IntervalSetTests {
    @Test func removalsMatchABitmap() {
        var random = SplitMix64(seed: 7)
        for _ in 0..<200 {
            let n = Int(random.next() % 200) + 1
            var set = IntervalSet(0..<n)
            var bits = [Bool](repeating: true, count: n)
            for _ in 0..<20 {
                let lo = Int(random.next() % UInt64(n)), hi = lo + Int(random.next() % UInt64(n - lo + 1))
                set.remove(lo, hi)
                for i in lo..<hi { bits[i] = false }
                let a = Int(random.next() % UInt64(n)), b = a + Int(random.next() % UInt64(n - a + 1))
                if a < b { #expect(set.contains(a, b) == bits[a..<b].allSatisfy { $0 }) }
                let pieces = set.pieces(0, n)
                var fromPieces = [Bool](repeating: false, count: n)
                for (x, y) in pieces { for i in x..<y { fromPieces[i] = true } }
                #expect(fromPieces == bits)
                #expect(set.isEmpty == !bits.contains(true))
            }
            set.free()
        }
    }
}
