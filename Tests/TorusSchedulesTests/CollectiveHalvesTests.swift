import Foundation
import Testing
import TorusCore
@testable import TorusSchedules

/// ReduceScatter and AllGather: the halves of sixring, ring and Rabenseifner are proven on their
/// own, in the algorithm's layout and rewritten to rank order; the layouts split the buffer into p
/// blocks of c; the verifier catches a wrong layout or a wrong half.
@Suite struct CollectiveHalvesTests {
    static let halves: [Algorithm] = [.sixRing, .ring, .rabenseifner]
    static let cases: [(Algorithm, String)] = halves.flatMap { a in
        (matrixShapes + ["2x2x1", "6x4x1", "2x3x4", "8x1x1"]).map { (a, $0) }
    }

    @Test(arguments: cases)
    func bothHalvesAreProven(algorithm: Algorithm, shape: String) throws {
        let topology = GroupTopology.box(try TorusShape(parsing: shape))
        if algorithm == .rabenseifner && topology.size & (topology.size - 1) != 0 {
            #expect(algorithm.unavailable(.reduceScatter, topology: topology)?.contains("power-of-two") == true)
            #expect(throws: TorusError.self) { try algorithm.schedule(.allGather, topology: topology, rank: 0, count: 4) }
            return
        }
        for collective in [Collective.reduceScatter, .allGather] {
            for count in [0, 1, 5, 7, 13] {
                let report = try ScheduleVerifier.verify(algorithm, collective, topology: topology, count: count)
                #expect(report.proven, "\(algorithm) \(collective) \(shape) count \(count):\n\(report)")
                #expect(report.count == count * topology.size)
            }
        }
    }

    /// Tuned sixring plans (many parts, all-gathers in another order) work as halves too.
    @Test(arguments: ["6x4x4", "3x4x5", "12x6x1", "3x2x2"])
    func tunedSixRingPlansAreProvenAsHalves(shape: String) throws {
        let topology = GroupTopology.box(try TorusShape(parsing: shape))
        let p = topology.size
        for plan in SixRingPlan.candidates(dims: topology.grid.dims) {
            for c in [1, 3] {
                let layout = BlockLayout(blockCount: c, ranges: (0..<p).map {
                    SixRingAllReduce.blockRanges(topology: topology, rank: $0, blockCount: c, plan: plan)
                })
                #expect(layout.problem == nil)
                for collective in [Collective.reduceScatter, .allGather] {
                    let schedules = (0..<p).map { rank in
                        let (streams, scratch) = SixRingAllReduce.streams(topology: topology, rank: rank, count: p * c, plan: plan,
                                                                          collective: collective)
                        return Schedule(algorithm: .sixRing, collective: collective, rank: rank, size: p, count: p * c,
                                        scratchCount: scratch, streams: streams)
                    }
                    let report = ScheduleVerifier.verify(schedules, topology: topology, layout: layout)
                    #expect(report.proven, "\(shape) \(plan.parts.count) parts \(collective) c=\(c):\n\(report)")
                    // Rewritten to rank order, as the library runs it.
                    let rewritten = schedules.map { var s = $0; s.streams = layout.rewrite(s.streams); return s }
                    let inRankOrder = ScheduleVerifier.verify(rewritten, topology: topology)
                    #expect(inRankOrder.proven, "\(shape) \(plan.parts.count) parts \(collective) c=\(c) in rank order:\n\(inRankOrder)")
                    #expect(inRankOrder.elementsSent == report.elementsSent && inRankOrder.messages >= report.messages)
                }
            }
        }
    }

    @Test func layouts() throws {
        let cube = GroupTopology.box(try TorusShape(parsing: "2x2x2"))
        let ring = Algorithm.ring.ownLayout(topology: cube, blockCount: 10)
        #expect(ring.isRankOrder && ring.problem == nil)
        let six = Algorithm.sixRing.ownLayout(topology: cube, blockCount: 6000)   // six parts from 31.6 Ki elements on 2×2×2
        #expect(!six.isRankOrder && six.problem == nil)
        #expect(six.ranges.allSatisfy { $0.count == 6 && $0.allSatisfy { $0.count == 1000 } })
        let small = Algorithm.sixRing.ownLayout(topology: cube, blockCount: 12)   // one part
        #expect(!small.isRankOrder && small.problem == nil && small.ranges.allSatisfy { $0.count == 1 })
        // Rabenseifner's blocks go by the bits of the rank reversed.
        let rab = Algorithm.rabenseifner.ownLayout(topology: cube, blockCount: 1)
        #expect(rab.ranges.map { $0[0].lowerBound } == [0, 4, 2, 6, 1, 5, 3, 7])
        #expect(BlockLayout(blockCount: 2, ranges: [[0..<2], [1..<3]]).problem?.contains("ranks 0 and 1") == true)
        #expect(BlockLayout(blockCount: 2, ranges: [[0..<2], [2..<3]]).problem?.contains("not its block's 2") == true)
        // The rewrite moves each range piece by piece, in order: in Rabenseifner's layout [2, 4) is
        // rank 2's block (the user's [4, 6)) and [4, 6) rank 1's (the user's [2, 4)).
        let two = Algorithm.rabenseifner.ownLayout(topology: .box(try TorusShape(parsing: "4x1x1")), blockCount: 2)
        #expect(two.ranges == [[0..<2], [4..<6], [2..<4], [6..<8]])
        let rewritten = two.rewrite([Stream(label: "t", steps: [.send(peer: 1, region: .data(2..<6)), .recv(peer: 1, region: .data(0..<4)),
                                                                .recvReduce(peer: 1, scratch: .scratch(0, 3), target: .data(3..<6))])])
        #expect(rewritten[0].steps == [.send(peer: 1, region: .data(4..<6)), .send(peer: 1, region: .data(2..<4)),
                                       .recv(peer: 1, region: .data(0..<2)), .recv(peer: 1, region: .data(4..<6)),
                                       .recvReduce(peer: 1, scratch: .scratch(0, 1), target: .data(5..<6)),
                                       .recvReduce(peer: 1, scratch: .scratch(1, 2), target: .data(2..<4))])
        // Pieces adjacent in both layouts merge.
        let merged = BlockLayout(blockCount: 2, ranges: [[2..<4], [0..<2]]).rewrite([Stream(label: "t", steps: [.send(peer: 1, region: .data(0..<4))])])
        #expect(merged[0].steps == [.send(peer: 1, region: .data(2..<4)), .send(peer: 1, region: .data(0..<2))])
        let whole = BlockLayout(blockCount: 1, ranges: [[0..<1], [1..<2], [3..<4], [2..<3]]).rewrite([Stream(label: "t", steps: [.send(peer: 1, region: .data(0..<2))])])
        #expect(whole[0].steps == [.send(peer: 1, region: .data(0..<2))])
    }

    @Test func theVerifierCatchesAWrongLayoutOrHalf() throws {
        let topology = GroupTopology.box(try TorusShape(parsing: "2x2x1"))
        for collective in [Collective.reduceScatter, .allGather] {
            let schedules = try (0..<4).map { try Algorithm.sixRing.schedule(collective, topology: topology, rank: $0, count: 6) }
            #expect(ScheduleVerifier.verify(schedules, topology: topology).proven)
            // Ranks 0 and 1 swapped: each would read the other's block.
            let swapped = BlockLayout(blockCount: 6, ranges: [[6..<12], [0..<6], [12..<18], [18..<24]])
            #expect(!ScheduleVerifier.verify(schedules, topology: topology, layout: swapped).proven, "\(collective)")
            // The streams before the rewrite are not in rank order.
            let own = try (0..<4).map { rank -> Schedule in
                var s = try Algorithm.sixRing.schedule(collective, topology: topology, rank: rank, count: 6)
                s.streams = SixRingAllReduce.halfStreams(collective, topology: topology, rank: rank, blockCount: 6).streams
                return s
            }
            #expect(!ScheduleVerifier.verify(own, topology: topology).proven, "\(collective) before the rewrite")
            #expect(ScheduleVerifier.verify(own, topology: topology, layout: Algorithm.sixRing.ownLayout(topology: topology, blockCount: 6)).proven)
        }
        // An all-gather's schedules are not a reduce-scatter.
        var gathers = try (0..<4).map { try Algorithm.ring.schedule(.allGather, topology: topology, rank: $0, count: 3) }
        for i in gathers.indices { gathers[i].collective = .reduceScatter }
        let report = ScheduleVerifier.verify(gathers, topology: topology)
        #expect(!report.proven && report.problems.joined().contains("contributions"))
    }

    /// Selection counts the messages of the rewritten halves: sixring's pieces are many and small
    /// on a small buffer, so it wins only where the bytes on its six links pay for them.
    @Test func selectionWeighsTheHalvesMessages() throws {
        let cube = GroupTopology.box(try TorusShape(parsing: "4x4x4"))
        let sixSteps: Double = 6 * 63   // 3 steps of 16 ranges, 3 of 4, 3 of 1, per part
        #expect(SixRingAllReduce.halfSteps(topology: cube) == sixSteps)
        #expect(RingAllReduce.halfSteps(topology: cube) == 63)
        let selection = AlgorithmSelection()
        for collective in [Collective.reduceScatter, .allGather] {
            #expect(selection.choose(collective, topology: cube, bytes: 64 << 10).0 != .sixRing)
            #expect(selection.choose(collective, topology: cube, bytes: 256 << 20).0 == .sixRing)
            let (chosen, why) = selection.choose(collective, topology: .box(try TorusShape(parsing: "3x1x1")), bytes: 1 << 20)
            #expect(chosen != .rabenseifner && !why.contains("rabenseifner"), "\(why)")
        }
        // A ReduceScatter reduces what an AllReduce does; an AllGather nothing.
        let m = CostModel(alpha: 0, beta: 0, gamma: 1e-9)
        #expect(m.estimate(.ring, .reduceScatter, topology: cube, bytes: 1 << 20) == m.estimate(.ring, topology: cube, bytes: 1 << 20))
        #expect(m.estimate(.ring, .allGather, topology: cube, bytes: 1 << 20) == 0)
    }

    @Test func algorithmsWithoutHalvesSaySo() throws {
        let topology = GroupTopology.box(try TorusShape(parsing: "2x2x1"))
        let why = Algorithm.recursiveDoubling.unavailable(.reduceScatter, topology: topology)
        #expect(why?.contains("sixring, ring, rabenseifner") == true)
        #expect(Algorithm.recursiveDoubling.unavailable(.allReduce, topology: topology) == nil)
        #expect(throws: TorusError.self) { try Algorithm.swing.schedule(.allGather, topology: topology, rank: 0, count: 1) }
        #expect(try Collective(parsing: "allgather") == .allGather && (try Collective(parsing: "Reduce_Scatter")) == .reduceScatter)
        #expect(throws: TorusError.self) { try Collective(parsing: "gather") }
        #expect(Collective.reduceScatter.busFactor(ranks: 4) == 0.75 && Collective.allReduce.busFactor(ranks: 4) == 1.5)
    }
}
