import Foundation
import Synchronization
import Testing
import TorusCore
import TorusSchedules
@testable import TorusSim

/// The predictor's protocol model (eager and rendezvous, send and receive overheads, a receiving
/// copy), the calibrated model file, and automatic selection from it.
@Suite struct ProtocolModelTests {
    /// Two ranks, one link each way, no reductions to speak of: recursive doubling sends one message each.
    static func pair(_ edit: (inout MachineFigures) -> Void = { _ in }) -> NetworkModel {
        var m = NetworkModel.generic
        m.machine.linkBandwidth = 1e9
        m.machine.linkLatency = 1e-6
        m.machine.hopDelay = 0
        m.machine.softwareOverhead = 2e-6
        m.machine.eagerLimit = .max
        m.machine.rendezvousDelay = 0
        m.machine.reductionRatePerThread = .infinity
        m.machine.memoryBandwidth = .infinity
        m.segmentBytes = 0
        edit(&m.machine)
        return m
    }

    static func time(_ model: NetworkModel, bytes: Int, algorithm: Algorithm = .recursiveDoubling, trace: Bool = false) throws -> Prediction {
        let shape = try TorusShape([2, 1, 1])
        return try Predictor.run(PredictionRequest(machine: shape, groups: [.box(shape)], algorithm: algorithm, bytes: bytes, model: model, trace: trace))
    }

    @Test func oneMessageCostsOverheadLatencyAndTransfer() throws {
        let t = try Self.time(Self.pair(), bytes: 4000).time
        #expect(abs(t - (2e-6 + 4000 / 1e9 + 1e-6)) < 1e-12)
    }

    @Test func aRendezvousMessageWaitsForItsHandshakeAndAnEagerOneDoesNot() throws {
        let eager = try Self.time(Self.pair { $0.eagerLimit = 4000; $0.rendezvousDelay = 3e-6 }, bytes: 4000).time
        let rendezvous = try Self.time(Self.pair { $0.eagerLimit = 3996; $0.rendezvousDelay = 3e-6 }, bytes: 4000).time
        let plain = try Self.time(Self.pair(), bytes: 4000).time
        #expect(abs(eager - plain) < 1e-12)
        #expect(abs(rendezvous - plain - 3e-6) < 1e-12)
    }

    @Test func theReceiverPaysItsOverhead() throws {
        let plain = try Self.time(Self.pair(), bytes: 64).time
        let charged = try Self.time(Self.pair { $0.receiveOverhead = 5e-6 }, bytes: 64).time
        #expect(abs(charged - plain - 5e-6) < 1e-12)
    }

    @Test func aReceivingCopyReplacesTheLinkTransfer() throws {
        // 1 MB at 2 GB/s on the receiving CPU; the links' 1 GB/s no longer counts (rendezvous: the
        // sender copies nothing).
        let model = Self.pair { $0.receiveCopyRate = 2e9; $0.eagerLimit = 1000 }
        let t = try Self.time(model, bytes: 1_000_000).time
        #expect(abs(t - (2e-6 + 1e-6 + 1_000_000 / 2e9)) < 1e-12)
        var slowLinks = model
        slowLinks.machine.linkBandwidth = 1e3
        #expect(try Self.time(slowLinks, bytes: 1_000_000).time == t)
        // An eager message is copied in by the sender too.
        let eager = try Self.time(Self.pair { $0.receiveCopyRate = 2e9 }, bytes: 1_000_000).time
        #expect(abs(eager - t - 1_000_000 / 2e9) < 1e-12)
    }

    @Test func aCopyDueLaterDoesNotHoldUpASendIssuedEarlier() throws {
        // Ring of two: both ranks send at once and copy what they receive. The two ranks are
        // alike, so their steps must take equal times (a copy reserved out of time order once made
        // rank 1's send wait for it).
        var model = Self.pair { $0.receiveCopyRate = 2e9; $0.eagerLimit = 1000; $0.reductionRatePerThread = 5e9; $0.reductionThreads = 0 }
        model.segmentBytes = 1 << 20
        let p = try Self.time(model, bytes: 1 << 20, algorithm: .ring, trace: true)
        let byRank = Dictionary(grouping: p.trace, by: \.rank).mapValues { $0.map { $0.end - $0.start } }
        #expect(byRank.count == 2)
        #expect(byRank[0]!.count == byRank[1]!.count)
        for (a, b) in zip(byRank[0]!.sorted(), byRank[1]!.sorted()) { #expect(abs(a - b) < 1e-12) }
    }

    @Test func aLatePostedRendezvousReceiveMovesTheDataAfterThePosting() throws {
        // Ring of two with a window of one: the second message of a step arrives before its receive
        // is posted; as a rendezvous message it then pays the handshake after the posting.
        var eager = Self.pair { $0.eagerLimit = .max; $0.rendezvousDelay = 4e-6 }
        eager.segmentBytes = 1024
        eager.window = 1
        var rendezvous = eager
        rendezvous.machine.eagerLimit = 512
        let (e, r) = (try Self.time(eager, bytes: 8192, algorithm: .ring).time, try Self.time(rendezvous, bytes: 8192, algorithm: .ring).time)
        // 8 receives one after another per rank; all but the first of each step are posted after
        // their request came, so each waits a handshake and a transfer (5.024 us) after its posting.
        // Were the handshake paid only as the send leaves (all sends leave at once), the ring
        // would pay it about once per step: r − e near 8 us.
        #expect(r >= 6 * (4e-6 + 1024 / 1e9) - 1e-12)
        #expect(r - e >= 4 * 4e-6)
    }

    @Test func eagerHalvesTradeAHandshakeForAMessage() throws {
        // Recursive doubling of 4,096 B on two ranks is one message above an eager limit of 4,032 B:
        // with eager halves it is two eager messages, and the handshake (3 us) gives way to one more
        // message's overhead (2 us at the sender; the second half leaves when the link is free).
        var model = Self.pair { $0.eagerLimit = 4032; $0.rendezvousDelay = 3e-6 }
        let whole = try Self.time(model, bytes: 4096).time
        try model.set("eager-split-bytes=4032")
        #expect(model.rules.eagerSplitBytes == 4032 && model.sources["eager-split-bytes"] == "set: 4032")
        let halves = try Self.time(model, bytes: 4096).time
        #expect(abs(whole - (2e-6 + 3e-6 + 4096 / 1e9 + 1e-6)) < 1e-12)
        #expect(abs(halves - (2e-6 + max(2e-6, 2048 / 1e9) + 2048 / 1e9 + 1e-6)) < 1e-12)
        // Past twice the limit nothing is halved: one rendezvous, as without the rule.
        let past = try Self.time(model, bytes: 8192).time
        try model.set("eager-split-bytes=0")
        #expect(model.rules.eagerSplitBytes == 0)
        #expect(try Self.time(model, bytes: 8192).time == past)
    }

    @Test func everyPresetFigureSaysWhereItComesFrom() throws {
        for model in NetworkModel.presets {
            for f in model.figures where !NetworkModel.issueRuleParameters.contains(f.name) {
                #expect(model.sources[f.name] != nil, "\(model.name): \(f.name) has no source")
            }
        }
        var m = NetworkModel.tofuD
        try m.set("eager-limit=64K")
        try m.set("rendezvous-delay=2e-6")
        try m.set("receive-overhead=1e-6")
        try m.set("receive-copy-rate=5e9")
        #expect(m.machine.eagerLimit == 64 << 10 && m.machine.rendezvousDelay == 2e-6 && m.machine.receiveOverhead == 1e-6 && m.machine.receiveCopyRate == 5e9)
        #expect(m.sources["eager-limit"] == "set: 64K")
        try m.set("eager-limit=inf")
        #expect(m.machine.eagerLimit == .max)
        #expect(throws: TorusError.self) { try m.set("receive-copy-rate=0") }
        #expect(throws: TorusError.self) { try m.set("rendezvous-delay=-1") }
    }

    // MARK: The model file

    static func calibration(ranks: Int, library: [(Int, Double)] = [(8, 1e-6), (1 << 20, 100e-6)]) -> Calibration {
        var model = NetworkModel(name: "calibrated", machine: pair { $0.receiveCopyRate = 4e9; $0.eagerLimit = 4032; $0.rendezvousDelay = 3e-6 }.machine)
        model.sources = ["link-latency": "measured"]
        return Calibration(ranks: ranks, ranksPerNode: ranks, host: "test", library: "test MPI", date: "2026-12-02T00:00:00Z", model: model,
                           libraryAllReduce: library.map { TimedSize(bytes: $0.0, seconds: $0.1) }, pingPong: [], notes: [])
    }

    static func write(_ text: String) throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("torus-model-\(UUID().uuidString).json").path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test func aModelFileRoundTripsWithInfiniteRates() throws {
        var c = Self.calibration(ranks: 2)
        c.model.machine.receiveCopyRate = .infinity
        let text = String(decoding: try CalibratedModel.encoder.encode(CalibratedModel(calibrations: [c])), as: UTF8.self)
        #expect(text.contains("\"inf\""))
        let path = try Self.write(text)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let back = try CalibratedModel.load(path: path)
        #expect(back.calibrations[0].model == c.model)
    }

    @Test func badModelFilesSayWhatIsWrong() throws {
        func message(_ text: String) throws -> String {
            let path = try Self.write(text)
            defer { try? FileManager.default.removeItem(atPath: path) }
            do {
                _ = try CalibratedModel.load(path: path)
                return ""
            } catch { return "\(error)" }
        }
        #expect(try message("{").contains("does not parse"))
        #expect(try message("{\"format\": \"torus-model/1\"}").contains("missing \"calibrations\""))
        #expect(try message("{\"format\": \"other/9\", \"calibrations\": []}").contains("format torus-model/1"))
        #expect(try message("{\"format\": \"torus-model/1\", \"calibrations\": []}").contains("at least one calibration"))
        var bad = Self.calibration(ranks: 2)
        bad.model.machine.linkBandwidth = -1
        let text = String(decoding: try CalibratedModel.encoder.encode(CalibratedModel(calibrations: [bad])), as: UTF8.self)
        #expect(try message(text).contains("a rate that is not positive"))
        let descending = String(decoding: try CalibratedModel.encoder.encode(CalibratedModel(calibrations: [Self.calibration(ranks: 2, library: [(64, 1e-6), (8, 1e-6)])])), as: UTF8.self)
        #expect(try message(descending).contains("ascending"))
        let zeroBytes = String(decoding: try CalibratedModel.encoder.encode(CalibratedModel(calibrations: [Self.calibration(ranks: 2, library: [(0, 1e-6), (8, 1e-6)])])), as: UTF8.self)
        #expect(try message(zeroBytes).contains("ascending"))
        #expect(throws: TorusError.self) { try CalibratedModel.load(path: "/nonexistent/model.json") }
    }

    @Test func calibrationsAreAddedAndReplacedOnlyOnRequest() throws {
        let one = CalibratedModel(calibrations: [Self.calibration(ranks: 4)])
        let two = try one.adding(Self.calibration(ranks: 2), replace: false)
        #expect(two.calibrations.map(\.ranks) == [2, 4])
        #expect(throws: TorusError.self) { try two.adding(Self.calibration(ranks: 4), replace: false) }
        var newer = Self.calibration(ranks: 4)
        newer.host = "newer"
        #expect(try two.adding(newer, replace: true).calibrations.map(\.host) == ["test", "newer"])
        #expect(two.calibration(ranks: 3).ranks == 4)
        #expect(two.calibration(ranks: 1).ranks == 2)
        #expect(two.calibration(ranks: 64).ranks == 4)
    }

    @Test func libraryTimesInterpolateOnLogAxes() {
        let c = Self.calibration(ranks: 2, library: [(8, 1e-6), (8 << 10, 4e-6), (8 << 20, 4e-3)])
        #expect(c.libraryAllReduceSeconds(bytes: 4) == 1e-6)
        #expect(abs(c.libraryAllReduceSeconds(bytes: 8 << 10) - 4e-6) < 1e-15)
        // Halfway in log(size) between 8 KiB and 8 MiB: the geometric mean of the times.
        let mid = Int((Double(8 << 10) * Double(8 << 20)).squareRoot())
        #expect(abs(c.libraryAllReduceSeconds(bytes: mid) - (4e-6 * 4e-3).squareRoot()) / 1e-4 < 1e-3)
        #expect(abs(c.libraryAllReduceSeconds(bytes: 16 << 20) - 8e-3) < 1e-12)
    }

    // MARK: Selection

    @Test func calibratedSelectionWeighsTheLibraryAgainstPredictedSchedules() throws {
        let model = CalibratedModel(calibrations: [Self.calibration(ranks: 2, library: [(8, 0.5e-6), (1 << 20, 1)])])
        let costs = PredictorCosts(model: model, path: "test.json")
        let selection = AlgorithmSelection(candidates: [.ring, .recursiveDoubling], calibrated: costs)
        let pair = GroupTopology.box(try TorusShape([2, 1, 1]))
        // 8 bytes: MPI's 0.5 us beats any schedule (2 us overhead a message).
        let (small, why) = try #require(selection.chooseCalibrated(topology: pair, bytes: 8))
        #expect(small == nil && why.contains("calibrated estimates") && why.contains("mpi 0.5 us"))
        // 1 MiB: MPI's measured 1 s loses to the predicted schedules.
        let (large, _) = try #require(selection.chooseCalibrated(topology: pair, bytes: 1 << 20))
        #expect(large != nil)
        // The estimate is the predictor's.
        let predicted = try Predictor.run(PredictionRequest(machine: pair.machine!, groups: [pair], algorithm: .ring, bytes: 1 << 20,
                                                            model: model.calibrations[0].model)).time
        #expect(costs.seconds(.ring, .allReduce, topology: pair, bytes: 1 << 20) == predicted)
        // No MPI times on 4 ranks, and none for the halves: the threshold rules decide.
        #expect(selection.chooseCalibrated(topology: .box(try TorusShape([4, 1, 1])), bytes: 8) == nil)
        #expect(selection.chooseCalibrated(.reduceScatter, topology: pair, bytes: 8) == nil)
        #expect(selection.choose(topology: pair, bytes: 1 << 20).1.contains("calibrated estimates"))
    }

    /// Swing and Rabenseifner look alike to the α-β formulas; the predictor tells them apart, so a
    /// calibrated model (here Tofu-D's figures on a 4×4×4 group) picks Swing where it wins.
    @Test func calibratedSelectionPicksSwingWhereThePredictorSaysItWins() throws {
        var c = Self.calibration(ranks: 64, library: [(8, 1), (1 << 30, 1)])
        c.model = .tofuD
        let selection = AlgorithmSelection(calibrated: PredictorCosts(model: CalibratedModel(calibrations: [c]), path: "tofu-d.json"))
        let group = GroupTopology.box(try TorusShape([4, 4, 4]))
        let (chosen, why) = try #require(selection.chooseCalibrated(topology: group, bytes: 1 << 20))
        #expect(chosen == .swing, "\(why)")
        // At 4 KiB the latency form: log2 p whole-buffer exchanges with one-hop partners.
        let (small, whySmall) = try #require(selection.chooseCalibrated(topology: group, bytes: 4096))
        #expect(small == .swingLatency, "\(whySmall)")
        #expect(selection.model.estimate(.swing, topology: group, bytes: 1 << 20) == selection.model.estimate(.rabenseifner, topology: group, bytes: 1 << 20))
    }

    @Test func theRuntimeRoutesByTheCalibratedModel() throws {
        let model = CalibratedModel(calibrations: [Self.calibration(ranks: 2, library: [(8, 0.5e-6), (1 << 20, 1)])])
        var options = CollectiveOptions()
        options.selection.calibrated = PredictorCosts(model: model, path: "test.json")
        let torus = SimulatedTorus(shape: try TorusShape([2, 1, 1]), options: options)
        // A model in which MPI is slow at 8 bytes too: routes chosen from the first are forgotten
        // when the options change, not reused.
        let slow = PredictorCosts(model: CalibratedModel(calibrations: [Self.calibration(ranks: 2, library: [(8, 1), (1 << 20, 1)])]),
                                  path: "slow.json")
        let routes = Mutex<[Int: (AllReduceRoute, AllReduceRoute, String, AllReduceRoute)]>([:])
        try torus.run { comm in
            let (small, why) = comm.explainRoute(count: 2, type: .float32)
            let (large, _) = comm.explainRoute(count: 1 << 18, type: .float32)
            comm.options.selection.calibrated = slow
            let (after, _) = comm.explainRoute(count: 2, type: .float32)
            routes.withLock { $0[comm.rank] = (small, large, why, after) }
        }
        let (small, large, why, after) = try #require(routes.withLock { $0[0] })
        #expect(small == .library && why.contains("calibrated"))
        #expect(large != .library)
        #expect(after != .library, "the route of 8 bytes after the model changed")
    }

    /// `TORUS_TUNE`: the first calls of a size time the routes whose estimates are close (here the
    /// library's time is set 5% above the cheapest schedule's, so it is one of them; the simulated
    /// torus has no library, so its calls fall back to a schedule), every rank settles on the same
    /// one after one agreement (an AllReduce of doubles), every result is right on the way, and the
    /// route is then the measured one. Without `tuneCalls` no trial runs.
    @Test func tuneTimesTheCloseRoutesAndEveryRankSettlesOnTheSameOne() throws {
        let group = GroupTopology.box(try TorusShape([2, 2, 1]))
        let count = 4096, bytes = count * 4
        let probe = AlgorithmSelection(calibrated: PredictorCosts(model: CalibratedModel(calibrations: [Self.calibration(ranks: 4)]), path: "t.json"))
        let cheapest = try #require(probe.calibratedEstimates(topology: group, bytes: bytes)?.filter { $0.0 != nil }.map(\.1).min())
        let model = CalibratedModel(calibrations: [Self.calibration(ranks: 4, library: [(8, 1e-6), (bytes, 1.05 * cheapest), (1 << 30, 1)])])
        for tune in [0, 2] {
            var options = CollectiveOptions()
            options.selection.calibrated = PredictorCosts(model: model, path: "test.json")
            options.tuneCalls = tune
            let close = AlgorithmSelection.closeCandidates(try #require(options.selection.calibratedEstimates(topology: group, bytes: bytes)))
            #expect(close.count >= 2 && close.contains { $0.0 == nil }, "\(close)")
            let trialCalls = 2 * close.count * (tune + 1)
            let calls = trialCalls + 3
            let seen = Mutex<[Int: (String, Int, Int)]>([:])
            try SimulatedTorus(shape: try TorusShape([2, 2, 1]), options: options).run { comm in
                var wrong = 0
                for k in 0..<calls {
                    let input = (0..<count).map { Float(($0 + comm.rank + k) % 5) }
                    let out = try comm.allReduce(input, op: .sum)
                    wrong += (0..<count).filter { i in out[i] != Float((0..<4).reduce(0) { $0 + (i + $1 + k) % 5 }) }.count
                }
                let (_, why) = comm.explainRoute(count: count, type: .float32)
                seen.withLock { $0[comm.rank] = (why, comm.calls.count, wrong) }
            }
            let all = seen.withLock { $0 }
            #expect(all.count == 4)
            #expect(all.values.allSatisfy { $0.2 == 0 })
            #expect(Set(all.values.map(\.0)).count == 1, "every rank takes the same route: \(all.values.map(\.0))")
            let why = try #require(all[0]?.0)
            if tune == 0 {
                #expect(all.values.allSatisfy { $0.1 == calls } && !why.contains("measured"), "\(why)")
            } else {
                // One more call on every rank: the agreement.
                #expect(all.values.allSatisfy { $0.1 == calls + 1 })
                #expect(why.contains("measured") && why.contains("TORUS_TUNE"), "\(why)")
                #expect(close.allSatisfy { c in why.contains("\(c.0.map { AllReduceRoute.schedule($0) } ?? .library) ") }, "\(why)")
            }
        }
    }
}
