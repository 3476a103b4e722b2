import Foundation
import Testing
import TorusCore
import TorusRuntime
import TorusSchedules
@testable import TorusSim

/// Nonblocking AllReduce on the simulated torus (progress thread): several requests in flight on
/// different communicators, waited for in a different order on every rank, two in flight on one
/// communicator, a blocking call after them, and reduction threads at the same time.
@Suite(.serialized) struct NonblockingAllReduceTests {
    @Test(arguments: [0, 2])
    func requestsOnSeveralCommunicatorsCompleteInAnyOrderOfWaiting(reductionThreads: Int) throws {
        let torus = SimulatedTorus(shape: try TorusShape(2, 2, 2), timeout: 120, reductionThreads: reductionThreads)
        defer { torus.reductionPool?.shutdown() }
        let failures = Failures()
        let counts = [100_003, 6 * 8 + 1, 300_007, 5]
        let kernel = try ReductionKernel(type: .float32, op: .sum)
        let expected = counts.map { VerifiableInputs.expected(kernel: kernel, ranks: 8, count: $0, period: .max) }
        let half = counts.map { VerifiableInputs.expected(kernel: kernel, ranks: 4, count: $0, period: .max) }
        try torus.run { world in
            let reversed = try world.split(color: 0, key: -world.rank)!
            let pair = try world.split(color: world.rank % 2, key: world.rank)!
            // Inputs by rank within each communicator, so every result is known.
            var inputs: [[UInt8]] = []
            var outputs: [[UInt8]] = []
            let comms: [Communicator] = [world, reversed, pair, world]
            for (i, c) in comms.enumerated() {
                inputs.append(VerifiableInputs.bytes(type: .float32, op: .sum, rank: c.rank, count: counts[i], period: .max))
                outputs.append([UInt8](repeating: 0, count: counts[i] * 4))
            }
            var requests: [AllReduceRequest] = []
            // The buffers are pinned for the requests' lives by keeping the arrays untouched until waited.
            let sendPointers = inputs.map { a -> UnsafeMutableRawPointer in
                let p = UnsafeMutableRawPointer.allocate(byteCount: max(a.count, 1), alignment: 64)
                a.withUnsafeBytes { p.copyMemory(from: $0.baseAddress!, byteCount: a.count) }
                return p
            }
            let recvPointers = outputs.map { UnsafeMutableRawPointer.allocate(byteCount: max($0.count, 1), alignment: 64) }
            defer { for p in sendPointers + recvPointers { p.deallocate() } }
            let algorithms: [Algorithm?] = [.sixRing, .ring, nil, .recursiveDoubling]
            for i in comms.indices {
                // The last one is in place, on the world, behind the first: two in flight on one communicator.
                let inPlace = i == 3
                if inPlace { recvPointers[i].copyMemory(from: sendPointers[i], byteCount: counts[i] * 4) }
                requests.append(try comms[i].iAllReduce(inPlace ? nil : sendPointers[i], recvPointers[i], count: counts[i],
                                                        type: .float32, op: .sum, algorithm: algorithms[i]))
            }
            // Every rank waits in its own order; one request is tested to completion instead.
            var order = Array(comms.indices)
            order.rotate(by: world.rank % order.count)
            for i in order {
                if i == 2 {
                    while try !requests[i].test() {}
                } else {
                    try requests[i].wait()
                }
            }
            // A blocking call on the world afterwards still works.
            var after = [Float](repeating: 1, count: 1000)
            try world.allReduce(inPlace: &after, op: .sum)
            if after[999] != 8 { failures.add("blocking call after the requests: \(after[999])") }
            for i in comms.indices {
                let got = Array(UnsafeRawBufferPointer(start: recvPointers[i], count: counts[i] * 4))
                let want = i == 2 ? half[i] : expected[i]
                if got != want { failures.add("request \(i) on rank \(world.rank) (count \(counts[i])): wrong result") }
            }
        }
        #expect(failures.list.isEmpty, "\(failures.list.joined(separator: "\n"))")
    }
}

extension Array {
    mutating func rotate(by k: Int) {
        guard !isEmpty else { return }
        let k = k % count
        self = Array(self[k...] + self[..<k])
    }
}
