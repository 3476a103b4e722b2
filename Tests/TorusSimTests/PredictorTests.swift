import Foundation
import Testing
import TorusCore
import TorusSchedules
@testable import TorusSim

@Suite struct PredictorTests {
    /// α = overhead + latency, β = 1/bandwidth, γ = 1/reduction rate; no segmentation (the
    /// formulas do not pipeline), one rank per node.
    static func formulaModel() -> NetworkModel {
        var m = NetworkModel.generic
        m.network = .full
        m.machine.linkBandwidth = 5e9
        m.machine.linkLatency = 2e-6
        m.machine.hopDelay = 0
        m.machine.softwareOverhead = 3e-6
        m.machine.eagerLimit = .max  // the formulas know no rendezvous
        m.machine.reductionRatePerThread = 10e9
        m.machine.reductionThreads = 1
        m.machine.memoryBandwidth = .infinity
        m.segmentBytes = 0
        return m
    }

    @Test(arguments: [Algorithm.ring, .recursiveDoubling, .rabenseifner], [8, 16])
    func fullNetworkReproducesTheClosedFormCosts(algorithm: Algorithm, p: Int) throws {
        let model = Self.formulaModel()
        let n = Double(4 << 20)
        let (alpha, beta, gamma) = (model.machine.softwareOverhead + model.machine.linkLatency, 1 / model.machine.linkBandwidth, 1 / model.reductionRate)
        let share = Double(p - 1) / Double(p), log2p = log2(Double(p))
        let expected: Double
        switch algorithm {
        case .ring: expected = 2 * Double(p - 1) * alpha + 2 * share * n * beta + share * n * gamma
        case .rabenseifner: expected = 2 * log2p * alpha + 2 * share * n * beta + share * n * gamma
        default: expected = log2p * (alpha + n * beta + n * gamma)
        }
        let shape = try TorusShape([p])
        let prediction = try Predictor.run(PredictionRequest(machine: shape, groups: [.box(shape)], algorithm: algorithm, bytes: Int(n), model: model))
        #expect(abs(prediction.time - expected) / expected < 0.01, "\(algorithm) p=\(p): predicted \(prediction.time) s, formula \(expected) s")
    }

    @Test(arguments: [4, 8])
    func sixRingReachesTheBoundOnCubesAndRingAFifthOfIt(k: Int) throws {
        let shape = try TorusShape(k, k, k)
        let six = try Predictor.run(.world(shape, algorithm: .sixRing, bytes: 256 << 20, model: .ideal))
        let ring = try Predictor.run(.world(shape, algorithm: .ring, bytes: 256 << 20, model: .ideal))
        #expect(six.boundBusbw == 6 * 6.8e9)
        #expect(six.boundFraction! >= 0.95, "sixring reached \(six.boundFraction!) of the bound on \(shape)")
        #expect(ring.busbw <= six.busbw / 5, "ring \(ring.busbw) vs sixring \(six.busbw)")
        // Every directed link carried the same bytes: 2·(n/6)·(p−1)/p.
        let perLink = 2 * (256 << 20) / 6 * (shape.nodeCount - 1) / shape.nodeCount
        #expect(abs(six.linkBytes.max()! - perLink) <= 64 && abs(six.linkBytes.min()! - perLink) <= 64)
    }

    /// Shape-aware sixring (`SixRingPlan`) on boxes that are not cubes, 256 MiB, `ideal`: the six
    /// rotations with equal parts reached 0.649 (3×4×5), 0.669 (6×4×1) and 0.810 (3×2×2) of the bound.
    @Test(arguments: [("3x4x5", 0.9), ("6x4x1", 0.85), ("3x2x2", 0.95)])
    func sixRingNearTheBoundOnUnevenBoxes(shape: String, least: Double) throws {
        let prediction = try Predictor.run(.world(try TorusShape(parsing: shape), algorithm: .sixRing, bytes: 256 << 20, model: .ideal))
        #expect(prediction.boundFraction! >= least, "sixring reached \(prediction.boundFraction!) of the bound on \(shape)")
    }

    @Test(arguments: Algorithm.allCases)
    func payloadModeComputesTheRightResult(algorithm: Algorithm) throws {
        for (shape, count) in [(try TorusShape(3, 5, 2), 100_003), (try TorusShape(2, 2, 2), 5), (try TorusShape(4, 1, 1), 0)] {
            var model = NetworkModel.tofuD
            model.segmentBytes = 4096
            let request = PredictionRequest(machine: shape, groups: [.box(shape)], algorithm: algorithm, bytes: count * 4, type: .float32,
                                            op: .sum, model: model, payload: true)
            let p = try Predictor.run(request)
            #expect(p.wrongElements == 0, "\(algorithm) on \(shape), \(count) elements")
        }
        let shape = try TorusShape(2, 3, 1)
        for (type, op) in [(ElementType.int8, ReduceOp.max), (.bfloat16, .sum), (.uint64, .bxor)] {
            let request = PredictionRequest(machine: shape, groups: [.box(shape)], algorithm: algorithm, bytes: 777 * type.size, type: type,
                                            op: op, model: .generic, payload: true)
            #expect(try Predictor.run(request).wrongElements == 0, "\(algorithm) \(type) \(op)")
        }
    }

    /// The predictor routes and counts bytes exactly as the in-process simulated torus does.
    @Test(arguments: [Algorithm.sixRing, .ring, .rabenseifner])
    func linkBytesMatchTheInProcessSimulator(algorithm: Algorithm) throws {
        let shape = try TorusShape(3, 3, 2)
        let count = 40_000
        let torus = SimulatedTorus(shape: shape, options: .init(algorithm: algorithm))
        try torus.run { comm in _ = try comm.allReduce([Float](repeating: 1, count: count), op: .sum) }
        let p = try Predictor.run(.world(shape, algorithm: algorithm, bytes: count * 4, model: .tofuD))
        #expect(p.linkBytes == torus.linkTraffic.bytes)
    }

    @Test func concurrentGroupsContendForSharedLinks() throws {
        let machine = try TorusShape(4, 4, 4)
        let job = try JobLayout(tp: 2, pp: 2, dp: 16)
        func groups(_ nodes: [Int]) throws -> [GroupTopology] {
            try job.groups(.dp).map { members in try GroupTopology.of(nodes: members.map { nodes[$0] }, on: machine) }
        }
        let good = try groups(PlacementGenerator.generate(layout: job, machine: machine, procsPerNode: 1).nodes)
        let naive = try groups(PlacementGenerator.naive(layout: job, machine: machine, procsPerNode: 1))
        func time(_ g: [GroupTopology]) throws -> Double {
            try Predictor.run(PredictionRequest(machine: machine, groups: g, algorithm: .sixRing, bytes: 16 << 20, model: .tofuD)).time
        }
        let alone = try time([good[0]]), together = try time(good), naiveTogether = try time(naive)
        // Disjoint planes: four groups at once take as long as one.
        #expect(abs(together - alone) / alone < 0.01, "alone \(alone) together \(together)")
        #expect(naiveTogether > together * 1.5, "naive \(naiveTogether) generated \(together)")
    }

    @Test func traceHasASlicePerStepAndHeatmapALegend() throws {
        let shape = try TorusShape(2, 2, 2)
        var request = PredictionRequest.world(shape, algorithm: .sixRing, bytes: 96 * 1024, model: .tofuD)
        request.trace = true
        let p = try Predictor.run(request)
        let steps = try (0..<8).reduce(0) { $0 + (try Algorithm.sixRing.schedule(topology: .box(shape), rank: $1, count: 24 * 1024).stepCount) }
        #expect(p.trace.count == steps)
        #expect(p.trace.allSatisfy { $0.end >= $0.start && $0.end <= p.time })
        let json = try JSONSerialization.jsonObject(with: Data(try p.chromeTrace().utf8)) as! [String: Any]
        let events = json["traceEvents"] as! [[String: Any]]
        #expect(events.filter { $0["ph"] as? String == "X" }.count == steps)
        #expect(events.contains { ($0["args"] as? [String: Any])?["name"] as? String == "part 0 +X,Y,Z" })
        // Any label gives valid JSON (quotes, backslashes, control characters).
        var odd = p
        odd.trace[0].label = "say \"hi\" \\ \u{1}"
        let parsed = try JSONSerialization.jsonObject(with: Data(try odd.chromeTrace().utf8)) as! [String: Any]
        #expect((parsed["traceEvents"] as! [[String: Any]]).contains { $0["name"] as? String == odd.trace[0].label })
        let svg = p.heatmapSVG(title: "t")
        #expect(svg.hasPrefix("<svg") && svg.contains("bytes per directed link") && svg.components(separatedBy: "<g><title>node").count == 9)
    }

    @Test func modelParametersAreCheckedAndNamed() throws {
        var m = NetworkModel.tofuD
        try m.set("link-bandwidth=1e9")
        try m.set("segment-bytes=256K")
        try m.set("reduction-rate=inf")
        #expect(m.machine.linkBandwidth == 1e9 && m.segmentBytes == 256 << 10 && m.reductionRate == m.machine.memoryBandwidth / 3)
        for bad in ["link-bandwidth=0", "link-latency=-1", "window=0", "nonsense=1", "link-bandwidth", "hop-delay=abc"] {
            #expect(throws: TorusError.self, "\(bad)") { try m.set(bad) }
        }
        #expect(throws: TorusError.self) { try NetworkModel.preset(named: "tofu-z") }
    }

    @Test func predictionsAreDeterministic() throws {
        let shape = try TorusShape(3, 3, 3)
        let a = try Predictor.run(.world(shape, algorithm: .sixRing, bytes: 3 << 20, model: .tofuD))
        let b = try Predictor.run(.world(shape, algorithm: .sixRing, bytes: 3 << 20, model: .tofuD))
        #expect(a.time == b.time && a.linkBytes == b.linkBytes && a.events == b.events)
    }

    /// The partitions of a threaded run hand messages over only at window ends; the result must be
    /// the single-threaded one exactly: times, links, counts and trace, on one-hop and multi-hop
    /// routes, contended job layouts, the full network and several ranks per node; in payload mode
    /// every rank's data right (messages to another partition carry their data).
    @Test func predictionIsTheSameOnAnyNumberOfThreads() throws {
        let machine = try TorusShape(4, 4, 2)
        let job = try JobLayout(tp: 2, pp: 2, dp: 8)
        let naive = try PlacementGenerator.naive(layout: job, machine: machine, procsPerNode: 1)
        let jobGroups = try job.groups(.dp).map { members in try GroupTopology.of(nodes: members.map { naive[$0] }, on: machine) }
        let twoPerNode = try GroupTopology.of(nodes: (0..<64).map { $0 / 2 }, on: machine)
        var full = NetworkModel.tofuD
        full.network = .full
        var small = NetworkModel.tofuD
        small.segmentBytes = 4 << 10
        let cases: [(String, PredictionRequest)] = [
            ("sixring", .world(machine, algorithm: .sixRing, bytes: 512 << 10, model: .tofuD)),
            ("rabenseifner (multi-hop)", .world(machine, algorithm: .rabenseifner, bytes: 256 << 10, model: .tofuD)),
            ("recursive doubling, ideal", .world(machine, algorithm: .recursiveDoubling, bytes: 256 << 10, model: .ideal)),
            ("naive job, 8 groups", PredictionRequest(machine: machine, groups: jobGroups, algorithm: .sixRing, bytes: 512 << 10, model: .tofuD)),
            ("two ranks per node", PredictionRequest(machine: machine, groups: [twoPerNode], algorithm: .ring, bytes: 128 << 10, model: .generic)),
            ("full network", .world(machine, algorithm: .ring, bytes: 128 << 10, model: full)),
            ("recursive doubling, 128 segments a step (a full request table)", .world(machine, algorithm: .recursiveDoubling, bytes: 512 << 10,
                                                                                   model: small)),
            ("sixring, payload", .world(machine, algorithm: .sixRing, bytes: 100_003 * 4, model: .tofuD)),
            ("rabenseifner, payload", .world(machine, algorithm: .rabenseifner, bytes: 100_003 * 4, model: .tofuD)),
            ("recursive doubling, payload, ideal", .world(machine, algorithm: .recursiveDoubling, bytes: 4099 * 4, model: .ideal)),
            ("ring, two ranks per node, payload", PredictionRequest(machine: machine, groups: [twoPerNode], algorithm: .ring, bytes: 5000 * 4,
                                                                    model: .generic)),
        ]
        for (name, base) in cases {
            var request = base
            request.trace = true
            request.payload = name.contains("payload")
            request.threads = 1
            let one = try Predictor.run(request)
            #expect(one.threads == 1)
            #expect(one.wrongElements == (request.payload ? 0 : nil), "\(name)")
            for threads in [2, 3] {
                request.threads = threads
                let p = try Predictor.run(request)
                #expect(p.threads == threads, "\(name)")
                #expect(p.time == one.time && p.groupTimes == one.groupTimes, "\(name), \(threads) threads: \(p.time) s against \(one.time) s")
                #expect(p.linkBytes == one.linkBytes && p.messages == one.messages && p.events == one.events, "\(name), \(threads) threads")
                #expect(p.trace.map(\.start) == one.trace.map(\.start) && p.trace.map(\.end) == one.trace.map(\.end), "\(name), \(threads) threads")
                #expect(p.wrongElements == one.wrongElements, "\(name), \(threads) threads: \(p.wrongElements ?? -1) wrong elements")
            }
        }
        var request = PredictionRequest.world(machine, algorithm: .ring, bytes: 1 << 20, model: .tofuD)
        for bad in [0, -2, 257] {
            request.threads = bad
            #expect(throws: TorusError.self, "\(bad) threads") { try Predictor.run(request) }
        }
    }
}
