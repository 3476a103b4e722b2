import Testing
import TorusCore
@testable import TorusRuntime

/// The threaded reduction engine against the kernel run inline: pools of 1 to 4 workers, every
/// type and op, counts that do not divide into lines, buffers off their alignment, in place and
/// out of place, several reductions in flight at once and completed in any order.
@Suite struct ReductionPoolTests {
    /// Bytes of a deterministic pattern.
    static func bytes(_ count: Int, seed: UInt64) -> [UInt8] {
        var x = seed &* 0x9E37_79B9_7F4A_7C15 | 1
        return (0..<count).map { _ in
            x ^= x << 13; x ^= x >> 7; x ^= x << 17
            return UInt8(truncatingIfNeeded: x >> 24)
        }
    }

    @Test(arguments: [1, 2, 3, 4])
    func everyTypeAndOpMatchesTheInlineKernel(workers: Int) throws {
        let pool = ReductionPool(workers: workers, inlineBelowBytes: 0)
        defer { pool.shutdown() }
        let engine = PoolReductionEngine(pool: pool)
        for type in ElementType.allCases {
            for op in ReduceOp.allCases where op.supports(type) {
                let kernel = try ReductionKernel(type: type, op: op)
                for (count, misalign) in [(1, 0), (100_003, 1), (40_000, 3)] {
                    let n = count * type.size
                    let a = Self.bytes(n + misalign, seed: 1), b = Self.bytes(n + misalign, seed: 2)
                    var want = a
                    want.withUnsafeMutableBytes { w in
                        b.withUnsafeBytes { kernel.accumulate(into: w.baseAddress! + misalign, $0.baseAddress! + misalign, count: count) }
                    }
                    // In place (dst = a), then out of place into a third buffer.
                    var inPlace = a, out = [UInt8](repeating: 0, count: n + misalign)
                    inPlace.withUnsafeMutableBytes { d in
                        b.withUnsafeBytes { s in
                            let t = engine.submit(kernel, into: d.baseAddress! + misalign, d.baseAddress! + misalign, s.baseAddress! + misalign, count: count)
                            engine.wait(t)
                        }
                    }
                    out.withUnsafeMutableBytes { d in
                        a.withUnsafeBytes { x in
                            b.withUnsafeBytes { y in
                                let t = engine.submit(kernel, into: d.baseAddress! + misalign, x.baseAddress! + misalign, y.baseAddress! + misalign, count: count)
                                while !engine.poll(t) {}
                            }
                        }
                    }
                    #expect(inPlace == want, "\(type) \(op) count \(count) in place, \(workers) workers")
                    #expect(Array(out[misalign...]) == Array(want[misalign...]), "\(type) \(op) count \(count) out of place, \(workers) workers")
                }
            }
        }
    }

    @Test func severalReductionsInFlightCompleteInAnyOrder() throws {
        let pool = ReductionPool(workers: 3, inlineBelowBytes: 0)
        defer { pool.shutdown() }
        let engine = PoolReductionEngine(pool: pool)
        let kernel = try ReductionKernel(type: .int32, op: .sum)
        let count = 250_001, jobs = 8
        var targets = (0..<jobs).map { [Int32](repeating: Int32($0), count: count) }
        let source = (0..<count).map { Int32($0 % 1000) }
        var tickets: [ReductionTicket] = []
        source.withUnsafeBytes { s in
            for j in 0..<jobs {
                targets[j].withUnsafeMutableBytes { d in
                    tickets.append(engine.submit(kernel, into: d.baseAddress!, d.baseAddress!, s.baseAddress!, count: count))
                }
            }
            // Wait for the last first, poll the rest.
            engine.wait(tickets[jobs - 1])
            var left = Set(0..<jobs - 1)
            while !left.isEmpty { for j in left where engine.poll(tickets[j]) { left.remove(j) } }
        }
        for j in 0..<jobs { #expect(targets[j] == source.map { $0 + Int32(j) }, "job \(j)") }
    }

    @Test func partsCoverTheBufferOnLineBoundaries() throws {
        let kernel = try ReductionKernel(type: .float64, op: .sum)
        var dummy = [UInt8](repeating: 0, count: 8)
        try dummy.withUnsafeMutableBytes { p in
            for (count, parts) in [(1, 3), (7, 4), (100_003, 5), (64, 64)] {
                let job = ReductionJob(kernel: kernel, dst: p.baseAddress!, a: p.baseAddress!, b: p.baseAddress!, count: count, parts: parts)
                let ranges = (0..<parts).map(job.range)
                #expect(ranges.first!.lowerBound == 0 && ranges.last!.upperBound == count)
                for i in 1..<parts {
                    #expect(ranges[i - 1].upperBound == ranges[i].lowerBound)
                    #expect(ranges[i].lowerBound % 8 == 0 || ranges[i].lowerBound == count, "64-byte line of doubles")
                }
                _ = try #require(ranges.last)
            }
        }
    }
}
