import Foundation
import Testing
import TorusCore
@testable import TorusSchedules

/// Shape-aware sixring (`SixRingPlan`): the tuned plans are proven by the verifier, balance the
/// links as the plan's comment says, and are used only where their messages are large.
@Suite struct SixRingPlanTests {
    static func schedules(_ plan: SixRingPlan, _ topology: GroupTopology, count: Int) -> [Schedule] {
        (0..<topology.size).map { rank in
            let (streams, scratch) = SixRingAllReduce.streams(topology: topology, rank: rank, count: count, plan: plan)
            return Schedule(algorithm: .sixRing, rank: rank, size: topology.size, count: count, scratchCount: scratch, streams: streams)
        }
    }

    /// Every tuned plan — crossing parts on 2D groups; on 3D ones the spread over 72 types and the
    /// one over 24, all with all-gathers that do not retrace — gives every rank the full result at
    /// awkward counts.
    @Test(arguments: ["6x4x4", "3x4x5", "8x4x2", "3x2x2", "2x3x4", "12x6x1", "6x4x1", "1x5x3", "8x2x1"])
    func tunedPlansAreProven(shape: String) throws {
        let topology = GroupTopology.box(try TorusShape(parsing: shape))
        let plans = SixRingPlan.candidates(dims: topology.grid.dims)
        let p = topology.size
        for (i, plan) in plans.enumerated() {
            #expect(!plan.isEqualSplit, "\(shape) should get a tuned plan")
            #expect(abs(plan.parts.reduce(0) { $0 + $1.share } - 1) < 1e-9)
            #expect(plan.parts.count >= SixRingPlan.partCount && plan.parts.allSatisfy { $0.share > 0 })
            #expect(plan.parts.contains { $0.gatherOrder != Array($0.order.reversed()) }, "no part of \(shape) gathers in another order")
            for count in i == 0 ? [0, 1, 5, 6 * p - 1, 6 * p + 1, 1001] : [5, 6 * p + 1, 1001] {
                let report = ScheduleVerifier.verify(Self.schedules(plan, topology, count: count), topology: topology)
                #expect(report.proven, "\(shape) plan \(i) count \(count):\n\(report)")
            }
        }
    }

    /// On 3D boxes the tuned plan puts the same bytes on every directed link, in the
    /// reduce-scatter and in the all-gather alike; the rotations do not.
    @Test(arguments: ["6x4x4", "3x4x5", "8x4x2"])
    func tunedPlansBalanceTheLinksOfUnevenBoxes(shape: String) throws {
        let dims = try TorusShape(parsing: shape).dims
        let plan = SixRingPlan.candidates(dims: dims)[0]
        #expect(!SixRingPlan.isBalanced(SixRingPlan.rotations(dims: dims).parts, dims: dims))
        for half in [0..<3, 3..<6] {
            var load = [Double](repeating: 0, count: SixRingPlan.linkClasses(dims: dims).count)
            for part in plan.parts {
                for (i, phase) in SixRingPlan.phases(of: part, dims: dims).enumerated() where half.contains(i) {
                    load[phase.linkClass] += phase.work * part.share
                }
            }
            #expect(load.max()! - load.min()! < 1e-9, "\(shape) phases \(half): \(load)")
        }
        // The verifier counts the same: elements per directed link within rounding.
        guard shape == "3x4x5" else { return }
        let topology = GroupTopology.box(try TorusShape(dims))
        let report = ScheduleVerifier.verify(Self.schedules(plan, topology, count: 2000 * topology.size), topology: topology)
        let tuned = try #require(report.linkLoad)
        let rotations = try #require(try ScheduleVerifier.verify(.sixRing, topology: topology, count: 2000 * topology.size).linkLoad)
        #expect(tuned.maxOverMin < 1.05 && rotations.maxOverMin > 1.1, "tuned \(tuned.maxOverMin), rotations \(rotations.maxOverMin)")
    }

    /// Cubes, rings and square 2D groups keep equal parts at every size; uneven boxes get the tuned
    /// plan only once its messages average `minimumMessageElements`.
    @Test func theTunedPlanIsUsedWhereItsMessagesAreLarge() throws {
        #expect(SixRingPlan.of(dims: [4, 4, 4], count: 1 << 28).parts == SixRingPlan.rotations(dims: [4, 4, 4]).parts)
        #expect(SixRingPlan.of(dims: [8, 1, 1], count: 1 << 28).isEqualSplit)
        let square = SixRingPlan.of(dims: [8, 8, 1], count: 1 << 20)
        #expect(square.isEqualSplit && square.parts.count == 4)
        // Small buffers run one part: on 4×4×4 the rotations send 108 messages a rank, so below
        // 1536 × 108 elements sent (count · 2 · 63/64) one part runs.
        let rotations = SixRingPlan.rotations(dims: [4, 4, 4])
        #expect(rotations.messagesPerRank == 108)
        let edge = Int((Double(SixRingPlan.singlePartBelowElements * 108) * 64 / 126).rounded(.up))
        #expect(SixRingPlan.of(dims: [4, 4, 4], count: edge - 1).parts.count == 1)
        #expect(SixRingPlan.of(dims: [4, 4, 4], count: edge).parts == rotations.parts)
        #expect(SixRingPlan.of(dims: [8, 8, 1], count: 100).parts.count == 1 && SixRingPlan.of(dims: [2, 1, 1], count: 1).parts.count == 1)
        // A ring of two has one link class: one part at any size.
        #expect(SixRingPlan.of(dims: [2, 1, 1], count: 1 << 28).parts.count == 1 && SixRingPlan.of(dims: [1, 2, 1], count: 1 << 28).parts.count == 1)
        #expect(SixRingPlan.of(dims: [3, 1, 1], count: 1 << 28).parts.count == 6)
        let dims = [6, 4, 4], p = 96.0
        let tuned = SixRingPlan.candidates(dims: dims)
        #expect(tuned.count == 2 && tuned[1].messagesPerRank < tuned[0].messagesPerRank)
        let least = tuned.map { Int((Double(SixRingPlan.minimumMessageElements * $0.messagesPerRank) * p / (2 * (p - 1))).rounded(.up)) }
        #expect(SixRingPlan.of(dims: dims, count: least[0] + 1000).parts == tuned[0].parts)
        #expect(SixRingPlan.of(dims: dims, count: least[0] - 1000).parts == tuned[1].parts)
        #expect(SixRingPlan.of(dims: dims, count: least[1] - 1000).isEqualSplit)
        // 8×6×6: the 72-type spread would send 49 times the rotations' messages; the 24-type plan,
        // whose all-gathers end on the reduce-scatter's first axis, runs instead.
        let big = SixRingPlan.of(dims: [8, 6, 6], count: 1 << 30)
        #expect(!big.isEqualSplit && big.parts.allSatisfy { $0.gatherOrder.last == $0.order.first })
        #expect(SixRingPlan.candidates(dims: [8, 6, 6])[0].messagesPerRank > SixRingPlan.mostMessagesOverRotations * SixRingPlan.rotations(dims: [8, 6, 6]).messagesPerRank)
        // messagesPerRank counts the sends a rank's schedule makes, phase-boundary cuts aside.
        let topology = GroupTopology.box(try TorusShape(dims))
        for plan in tuned {
            let sends = Self.schedules(plan, topology, count: 96 * 5000)[0].streams.reduce(0) { total, stream in
                total + stream.steps.filter { if case .send = $0 { return true } else { return false } }.count
            }
            #expect(sends >= plan.messagesPerRank && sends <= plan.messagesPerRank + 9 * plan.parts.count, "\(sends) sends, \(plan.messagesPerRank) counted")
        }
    }

    /// Crossing plans on 2D groups of two lengths, both above 2, cut their steps into segments of
    /// at most 1/1024 of the buffer and no fewer than 64 Ki elements, in the AllReduce's schedule
    /// and in both halves'; the rotations, square 2D groups, groups with an axis of 2 and the 3D
    /// plans leave it to the issue rules.
    @Test func crossingPlansCarryTheirSegmentLimitIntoTheSchedule() throws {
        let plane = GroupTopology.box(try TorusShape(48, 6, 1))
        let count = 64 << 20   // 256 MiB of float32: the crossing plan runs
        #expect(!SixRingPlan.of(dims: plane.grid.dims, count: count).isEqualSplit)
        #expect(try Algorithm.sixRing.schedule(topology: plane, rank: 5, count: count).segmentLimitElements == SixRingPlan.crossingSegmentElements)
        for half in [Collective.reduceScatter, .allGather] {
            let schedule = try Algorithm.sixRing.schedule(half, topology: plane, rank: 7, count: count / plane.size)
            #expect(schedule.segmentLimitElements == SixRingPlan.crossingSegmentElements, "\(half)")
        }
        // Small buffers (the rotations), cubes, square 2D groups, 3D boxes, other algorithms: none.
        #expect(try Algorithm.sixRing.schedule(topology: plane, rank: 0, count: 1000).segmentLimitElements == nil)
        for shape in ["4x4x4", "8x8x1", "6x4x4", "8x4x2", "8x2x1"] {
            let topology = GroupTopology.box(try TorusShape(parsing: shape))
            #expect(try Algorithm.sixRing.schedule(topology: topology, rank: 0, count: count).segmentLimitElements == nil, "\(shape)")
        }
        #expect(try Algorithm.ring.schedule(topology: plane, rank: 0, count: count).segmentLimitElements == nil)
        #expect(try Algorithm.sixRing.schedule(topology: plane, rank: 5, count: count).description.contains("segments of at most 65536 elements"))
        // From 64 Mi elements up, 1/1024 of the buffer: 1 GiB of float32 in 1 MiB segments.
        #expect(try Algorithm.sixRing.schedule(topology: plane, rank: 5, count: 256 << 20).segmentLimitElements == 262_144)
        #expect(try Algorithm.sixRing.schedule(topology: plane, rank: 5, count: (96 << 20) + 5).segmentLimitElements == 98_304)
    }

    /// The linear program: a small problem with a known optimum, and an infeasible one.
    @Test func theLinearProgramFindsTheOptimumOrSaysThereIsNone() {
        // minimize −x − 2y with x + y + s = 4, x + 3y + t = 6 (x, y, s, t ≥ 0): x = 3, y = 1.
        let lp = LinearProgram(objective: [-1, -2, 0, 0], rows: [[1, 1, 1, 0], [1, 3, 0, 1]], rhs: [4, 6])
        let x = lp.solve()!
        #expect(abs(x[0] - 3) < 1e-9 && abs(x[1] - 1) < 1e-9)
        #expect(LinearProgram(objective: [1, 1], rows: [[1, 1]], rhs: [-1]).solve() == nil)
    }
}
