import Foundation
import Testing
import TorusCore
@testable import TorusSchedules

/// The shapes of the test matrix.
let matrixShapes = ["1x1x1", "2x1x1", "2x2x2", "3x4x5", "4x4x4", "1x6x1", "5x5x5"]

@Suite struct ScheduleVerifierTests {
    static let cases: [(Algorithm, String)] = Algorithm.allCases.flatMap { a in matrixShapes.map { (a, $0) } }

    /// Every algorithm on every shape, for the counts that stress the splitting: 0, 1, 5, 6p − 1, 6p + 1.
    @Test(arguments: cases)
    func everyAlgorithmIsProvenCorrect(algorithm: Algorithm, shape: String) throws {
        let topology = GroupTopology.box(try TorusShape(parsing: shape))
        let p = topology.size
        for count in [0, 1, 5, 6 * p - 1, 6 * p + 1] where count >= 0 {
            let report = try ScheduleVerifier.verify(algorithm, topology: topology, count: count)
            #expect(report.proven, "\(algorithm) \(shape) count \(count):\n\(report)")
        }
    }

    /// Recursive doubling's partners combine the same two buffers, lower rank's first: the lower
    /// rank reduces what it receives into its data, the higher one puts what it receives first —
    /// one step each, not a receive into scratch, a reduce into it and a copy back.
    @Test func recursiveDoublingExchangesInTwoStepsOnEveryRank() throws {
        let topology = GroupTopology.box(try TorusShape(parsing: "2x1x1"))
        let lower = try Algorithm.recursiveDoubling.schedule(topology: topology, rank: 0, count: 5).streams.flatMap(\.steps)
        let higher = try Algorithm.recursiveDoubling.schedule(topology: topology, rank: 1, count: 5).streams.flatMap(\.steps)
        #expect(lower == [.send(peer: 1, region: .data(0..<5)), .recvReduce(peer: 1, scratch: .scratch(0, 5), target: .data(0..<5))])
        #expect(higher == [.send(peer: 0, region: .data(0..<5)),
                           .recvReduceReceivedFirst(peer: 0, scratch: .scratch(0, 5), target: .data(0..<5))])
    }

    /// The six rotations (the plan of buffers with messages of 1.5 Ki elements or more; smaller
    /// ones run one part, `SixRingPlan.singlePartBelowElements`), at a count the verifier holds.
    static func rotationSchedules(_ topology: GroupTopology, count: Int) -> [Schedule] {
        let plan = SixRingPlan.rotations(dims: topology.grid.dims)
        return (0..<topology.size).map { rank in
            let (streams, scratch) = SixRingAllReduce.streams(topology: topology, rank: rank, count: count, plan: plan)
            return Schedule(algorithm: .sixRing, rank: rank, size: topology.size, count: count, scratchCount: scratch, streams: streams)
        }
    }

    @Test(arguments: ["3x3x3", "4x4x4", "5x5x5"])
    func sixRingUsesOneHopAndSixDistinctLinksPerStep(shape: String) throws {
        let topology = GroupTopology.box(try TorusShape(parsing: shape))
        let report = ScheduleVerifier.verify(Self.rotationSchedules(topology, count: 6 * topology.size * 4), topology: topology)
        #expect(report.proven)
        #expect(report.maxHops == 1)
        #expect(report.linkConflicts == 0)
        let load = try #require(report.linkLoad)
        #expect(load.linksUsed == 6 * topology.size)
        #expect(load.maxOverMin == 1.0)
    }

    @Test func unevenShapesReportUnevenLinkLoad() throws {
        let topology = GroupTopology.box(try TorusShape(3, 4, 5))
        let report = ScheduleVerifier.verify(Self.rotationSchedules(topology, count: 60 * 60), topology: topology)
        #expect(report.proven)
        #expect(report.maxHops == 1)
        let load = try #require(report.linkLoad)
        #expect(load.linksUsed == 6 * 60)
        #expect(load.maxOverMin > 1.0)
        #expect(report.description.contains("max/min"))
    }

    @Test func ringFollowsOneHopOrderOnABox() throws {
        for shape in ["4x4x4", "3x4x5", "5x5x5"] {
            let report = try ScheduleVerifier.verify(.ring, topology: .box(try TorusShape(parsing: shape)), count: 1000)
            #expect(report.proven)
            #expect(report.maxHops == 1, "\(shape)")
        }
    }

    /// Swing: ρ(k) = 1, −1, 3, −5, 11, …; on 4×4×4 every partner is one hop away (|ρ| ≤ 1 on a ring of
    /// 4), the multi-port parts load the six directions alike, and Rabenseifner crosses more hops.
    @Test func swingPartnersAreNearAndItsPartsUseEveryDirection() throws {
        #expect((0..<6).map(Swing.rho) == [1, -1, 3, -5, 11, -21])
        let topology = GroupTopology.box(try TorusShape(4, 4, 4))
        // Multi-port (six parts) once messages average 1.5 Ki elements: 6 parts × 6 steps × 1536.
        let least = SwingAllReduce.multiPortLeastMessageElements * 36
        #expect(try Algorithm.swing.schedule(topology: topology, rank: 0, count: least - 1).streams.count == 1)
        #expect(try Algorithm.swing.schedule(topology: topology, rank: 0, count: least).streams.count == 6)
        let swing = try ScheduleVerifier.verify(.swing, topology: topology, count: least + 1)
        #expect(swing.proven && swing.maxHops == 1, "\(swing)")
        let load = try #require(swing.linkLoad)
        #expect(load.linksUsed == 6 * 64)
        let directions = load.perDirection
        #expect(Double(directions.max()!) / Double(directions.min()!) < 1.01, "\(directions)")
        let single = try ScheduleVerifier.verify(.swing, topology: topology, count: 6400)
        #expect(single.proven && single.maxHops == 1, "\(single)")
        let rabenseifner = try ScheduleVerifier.verify(.rabenseifner, topology: topology, count: 6400)
        #expect(rabenseifner.maxHops == 2)
        // On a ring of 8 Swing's farthest partner is ρ(2) = 3 hops away, Rabenseifner's 4.
        let ring8 = try ScheduleVerifier.verify(.swing, topology: .box(try TorusShape(8, 1, 1)), count: 100)
        #expect(ring8.proven && ring8.maxHops == 3, "\(ring8)")
        let halving8 = try ScheduleVerifier.verify(.rabenseifner, topology: .box(try TorusShape(8, 1, 1)), count: 100)
        #expect(halving8.maxHops == 4)
    }

    @Test func largeCountsAreProvenToo() throws {
        for algorithm in Algorithm.allCases {
            let report = try ScheduleVerifier.verify(algorithm, topology: .box(try TorusShape(3, 4, 5)), count: 100_003)
            #expect(report.proven, "\(algorithm): \(report)")
        }
    }

    // MARK: The verifier catches broken schedules

    static func schedules(_ a: Algorithm, _ shape: String, _ count: Int) throws -> ([Schedule], GroupTopology) {
        let t = GroupTopology.box(try TorusShape(parsing: shape))
        return (try (0..<t.size).map { try a.schedule(topology: t, rank: $0, count: count) }, t)
    }

    @Test func catchesAMissingSend() throws {
        var (s, t) = try Self.schedules(.ring, "2x2x1", 16)
        s[1].streams[0].steps.removeAll { if case .send = $0 { return true } else { return false } }
        let report = ScheduleVerifier.verify(s, topology: t)
        #expect(!report.proven)
        #expect(report.problems.joined().contains("deadlock"))
    }

    @Test func catchesASizeMismatch() throws {
        var (s, t) = try Self.schedules(.ring, "2x2x1", 16)
        if case let .send(peer, region) = s[0].streams[0].steps[0] {
            s[0].streams[0].steps[0] = .send(peer: peer, region: Region(region.buffer, region.offset, region.count - 1))
        }
        let report = ScheduleVerifier.verify(s, topology: t)
        #expect(!report.proven)
        #expect(report.problems.joined().contains("elements but rank 0 sent"))
    }

    @Test func catchesDoubleCounting() throws {
        var (s, t) = try Self.schedules(.recursiveDoubling, "2x1x1", 4)
        // Reduce the received data in a second time.
        s[0].streams[0].steps.append(.reduce(source: .scratch(0, 4), target: .data(0..<4)))
        let report = ScheduleVerifier.verify(s, topology: t)
        #expect(!report.proven)
        #expect(report.problems.joined().contains("twice"))
    }

    @Test func catchesAnIncompleteResult() throws {
        var (s, t) = try Self.schedules(.ring, "4x1x1", 8)
        // Drop the all-gather: data stays partially reduced.
        s = s.map { var x = $0; x.streams[0].steps = Array(x.streams[0].steps.prefix(6)); return x }
        let report = ScheduleVerifier.verify(s, topology: t)
        #expect(!report.proven)
        #expect(report.problems.joined().contains("contributions"))
    }

    @Test func schedulesRoundTripThroughJSON() throws {
        let (s, _) = try Self.schedules(.sixRing, "3x3x3", 100)
        let data = try JSONEncoder().encode(s[5])
        #expect(try JSONDecoder().decode(Schedule.self, from: data) == s[5])
        #expect(s[5].description.contains("sixring rank 5 of 27"))
    }

    @Test func piecesAreBalanced() {
        for n in [0, 1, 5, 17, 100] {
            for parts in [1, 2, 6, 7] {
                let pieces = (0..<parts).map { Partition.piece($0, of: parts, in: 10 ..< 10 + n) }
                #expect(pieces.map(\.count).reduce(0, +) == n)
                #expect(pieces.map(\.count).max()! - pieces.map(\.count).min()! <= 1)
                #expect(pieces.first!.lowerBound == 10)
                for (a, b) in zip(pieces, pieces.dropFirst()) { #expect(a.upperBound == b.lowerBound) }
            }
        }
    }
}
