import Testing
import TorusCore
import TorusPredictor
import TorusRuntime
import TorusSchedules

/// The executor and the predictor issue the same segments after the same completions.
///
/// The predictor runs a whole group and logs, per rank, when each segment was issued and when each
/// transfer completed (virtual time). Then each rank's real executor runs over a transport that
/// replays those completions: the completions at one virtual time form a batch, released only when
/// the executor can go no further. Every segment must be the same segment (kind, peer, memory) and
/// be issued after the same batch by both. Reductions are free in the model (`ideal`), as they are
/// instantaneous for the executor's inline engine.
@Suite struct IssueRulesAgreementTests {
    struct Key: Hashable { var stream: Int; var serial: Int32 }

    /// One rank's segments: what each is and after which batch it was issued.
    struct Issued: Equatable, CustomStringConvertible {
        var kind: SegmentKind
        var peer: Int32
        var access: SegmentAccess
        var batch: Int
        var description: String { "\(kind) peer \(peer) \(access.a) \(access.b) after batch \(batch)" }
    }

    /// Completes requests only as the predictor's log allows.
    final class ReplayTransport: Transport {
        let rank: Int, size: Int
        let batches: [[Key]]
        var batch = 0
        var available: Set<Key>
        var next: Key?
        var requests: [Int: Key] = [:]
        var ids = 0

        init(rank: Int, size: Int, batches: [[Key]]) {
            self.rank = rank
            self.size = size
            self.batches = batches
            available = Set(batches[0])
        }

        func request() -> TransportRequest {
            ids += 1
            requests[ids] = next!
            next = nil
            return TransportRequest(id: ids)
        }

        func isend(_ buffer: UnsafeRawBufferPointer, to peer: Int, tag: Int) throws -> TransportRequest { request() }
        func irecv(_ buffer: UnsafeMutableRawBufferPointer, from peer: Int, tag: Int) throws -> TransportRequest { request() }

        /// Completes every request of the list the log allows so far; when blocking and none is
        /// allowed, releases the next batch.
        func complete(_ list: UnsafeMutableBufferPointer<TransportRequest>, into completed: UnsafeMutableBufferPointer<Int32>,
                      wait: TransportWait) throws -> Int {
            while true {
                var n = 0
                for (i, r) in list.enumerated() where requests[r.id].map(available.contains) ?? false {
                    requests[r.id] = nil
                    completed[n] = Int32(i)
                    n += 1
                }
                if n > 0 || wait == .poll { return n }
                batch += 1
                guard batch < batches.count else {
                    throw TorusError.communication("rank \(rank): the executor waits for \(list.count) requests the predictor never completed")
                }
                available.formUnion(batches[batch])
            }
        }

        func cancel(_ request: TransportRequest) { requests[request.id] = nil }
    }

    /// Runs the predictor, then every rank's executor over a replay, and compares.
    func compare(_ algorithm: Algorithm, _ shape: TorusShape, count: Int, rules: IssueRules) throws {
        var model = NetworkModel.ideal
        model.segmentBytes = rules.segmentBytes
        model.window = rules.window
        model.eagerSplitBytes = rules.eagerSplitBytes
        model.scratchSegments = rules.scratchSegments
        var request = PredictionRequest(machine: shape, groups: [.box(shape)], algorithm: algorithm, bytes: count * 4, model: model)
        request.recordIssues = true
        let prediction = try Predictor.run(request)
        let what = "\(algorithm) on \(shape), \(count) floats, segments \(rules.segmentBytes) B, window \(rules.window), eager halves \(rules.eagerSplitBytes) B, scratch ring \(rules.scratchSegments)"
        for rank in 0 ..< shape.nodeCount {
            let log = prediction.issueLog[rank]
            // Batches: the transfers that completed at each virtual time (time 0 first, maybe empty).
            let transfers = log.filter { $0.event == .received || ($0.event == .finished && $0.kind != .reduce && !$0.kind.reducesReceived && $0.kind != .copy) }
            var times = [0.0]
            for r in transfers where r.time != times.last! { times.append(r.time) }
            var batches = [[Key]](repeating: [], count: times.count)
            var batchOf: [Double: Int] = [:]
            for (k, t) in times.enumerated() { batchOf[t] = k }
            for r in transfers { batches[batchOf[r.time]!].append(Key(stream: r.stream, serial: r.serial)) }
            var predicted: [Key: Issued] = [:]
            for r in log where r.event == .issued {
                let batch = try #require(batchOf[r.time], "\(what): rank \(rank) issued at \(r.time) s, when none of its transfers completed")
                predicted[Key(stream: r.stream, serial: r.serial)] = Issued(kind: r.kind, peer: r.peer, access: r.access, batch: batch)
            }

            let schedule = try algorithm.schedule(topology: .box(shape), rank: rank, count: count)
            let transport = ReplayTransport(rank: rank, size: shape.nodeCount, batches: batches)
            var executed: [Key: Issued] = [:]
            var executor = ScheduleExecutor(options: ExecutorOptions(rules: rules))
            executor.observer = { event in
                if case let .issued(stream, serial, kind, peer, access) = event {
                    let key = Key(stream: stream, serial: serial)
                    executed[key] = Issued(kind: kind, peer: peer, access: access, batch: transport.batch)
                    if kind != .reduce && kind != .copy { transport.next = key }
                }
            }
            var data = [Float](repeating: 0, count: max(count, 1))
            try data.withUnsafeMutableBytes { buffer in
                try executor.run(schedule, data: buffer.baseAddress!, kernel: ReductionKernel(type: .float32, op: .sum),
                                 transport: transport, engine: InlineReductionEngine(), scratch: ScratchSpace())
            }
            #expect(executed.count == predicted.count, "\(what): rank \(rank) issued \(executed.count) segments, predicted \(predicted.count)")
            let differing = predicted.keys.filter { executed[$0] != predicted[$0] }.sorted { ($0.stream, $0.serial) < ($1.stream, $1.serial) }
            if let first = differing.first {
                let mine = executed[first].map(\.description) ?? "never issued"
                Issue.record(Comment(rawValue: "\(what): rank \(rank), \(differing.count) segments differ; first: stream \(first.stream) "
                                     + "segment \(first.serial): executor \(mine), predictor \(predicted[first]!)"))
                return
            }
        }
    }

    static let shapes = [try! TorusShape(3, 2, 2), try! TorusShape(4, 4, 1), try! TorusShape(5, 1, 1)]

    /// Awkward counts; segment sizes from one element (the smallest) to never cutting; a window
    /// small enough to hold receives back.
    static let cases: [(count: Int, rules: IssueRules)] = [
        (7, IssueRules(segmentBytes: 4)), (1_003, IssueRules(segmentBytes: 4)), (1_003, IssueRules(segmentBytes: 4, window: 2)),
        (40_001, IssueRules(segmentBytes: 1_000)), (40_001, IssueRules(segmentBytes: 4096, window: 3)),
        (100_003, IssueRules(segmentBytes: 0)), (100_003, IssueRules()),
        // Eager halves: steps of 4,001–8,000 B halved (ring pieces of 1,003 floats on 2–5 ranks
        // fall there), alone and beside a smaller segment size that wins over them.
        (4_011, IssueRules(eagerSplitBytes: 4_000)), (1_003, IssueRules(segmentBytes: 1_000, eagerSplitBytes: 3_000)),
        // Scratch rings (rule 3): one segment (each receive waits for the reduction before it), and
        // three beside a small window.
        (1_003, IssueRules(segmentBytes: 8, scratchSegments: 1)), (40_001, IssueRules(segmentBytes: 1_000, window: 2, scratchSegments: 3)),
    ]

    /// Rule 1's eager halves: only steps above the limit and within twice it are halved, each
    /// half within the limit; a smaller segment size still wins; 0 turns them off.
    @Test func stepsJustAboveTheEagerLimitGoAsTwoEagerHalves() {
        let cut = IssueRules(eagerSplitBytes: 4032).cut(elementSize: 4)   // 1,008 floats
        #expect(cut.eagerElements == 1008)
        #expect(cut.segmentCount(1008) == 1)                  // within the limit: one message
        #expect(cut.segmentCount(1024) == 2 && cut.pieceElements(1024) == 512)
        #expect(cut.segmentCount(2015) == 2 && cut.pieceElements(2015) == 1008)   // 1,008 + 1,007
        #expect(cut.segmentCount(2016) == 2 && cut.pieceElements(2016) == 1008)
        #expect(cut.segmentCount(2017) == 1)                  // past twice the limit: one rendezvous
        #expect(cut.segmentCount(1 << 20) == 4)               // 1 MiB segments as before
        #expect(IssueRules(segmentBytes: 1024, eagerSplitBytes: 4032).cut(elementSize: 4).segmentCount(1500) == 6)
        #expect(IssueRules().cut(elementSize: 4).segmentCount(2000) == 1)
        #expect(IssueRules(eagerSplitBytes: 4032).cut(elementSize: 8).pieceElements(600) == 300)
    }

    /// Rule 1 with a schedule's segment limit: the smaller of it and `segmentBytes` wins, also
    /// over whole steps; none (nil or 0) leaves the rules' cut.
    @Test func aSchedulesSegmentLimitCutsFinerThanTheRules() {
        #expect(IssueRules().cut(elementSize: 4, limitElements: 65_536).segmentElements == 65_536)
        #expect(IssueRules().cut(elementSize: 8, limitElements: 262_144).segmentElements == 131_072)   // 1 MiB is fewer
        #expect(IssueRules(segmentBytes: 0).cut(elementSize: 8, limitElements: 32_768).segmentElements == 32_768)
        #expect(IssueRules(segmentBytes: 4096).cut(elementSize: 4, limitElements: 65_536).segmentElements == 1024)
        #expect(IssueRules().cut(elementSize: 4, limitElements: nil) == IssueRules().cut(elementSize: 4))
        #expect(IssueRules().cut(elementSize: 4, limitElements: 0) == IssueRules().cut(elementSize: 4))
    }

    /// A crossing plan's limit on a 4×3 group, at a count whose steps exceed it: the executor and
    /// the predictor both cut at 64 Ki elements (the same segments after the same completions),
    /// and no segment the predictor issues is larger.
    @Test func aCrossingPlansSegmentLimitIsTheSameInExecutorAndPredictor() throws {
        let shape = try TorusShape(4, 3, 1)
        let count = 2_000_003
        let schedule = try Algorithm.sixRing.schedule(topology: .box(shape), rank: 0, count: count)
        let limit = 65_536   // SixRingPlan.crossingSegmentElements, 256 KiB of float32
        #expect(schedule.segmentLimitElements == limit)
        #expect(schedule.streams.contains { $0.steps.contains { $0.count > limit } }, "no step is longer than the limit at \(count)")
        try compare(.sixRing, shape, count: count, rules: IssueRules())
        var model = NetworkModel.ideal
        model.segmentBytes = IssueRules().segmentBytes
        var request = PredictionRequest(machine: shape, groups: [.box(shape)], algorithm: .sixRing, bytes: count * 4, model: model)
        request.recordIssues = true
        let log = try Predictor.run(request).issueLog.flatMap { $0 }.filter { $0.event == .issued && $0.kind != .reduce && $0.kind != .copy }
        #expect(!log.isEmpty && log.allSatisfy { $0.access.a.hi - $0.access.a.lo <= limit })
        #expect(log.contains { $0.access.a.hi - $0.access.a.lo == limit })
    }

    /// Rule 3's scratch ring: a receive-and-reduce step of 81 segments receives into 3 segments of
    /// scratch, in turn, and each receive is posted only once the reduction of the segment 3 before
    /// it, which read that scratch, is over; without a ring every segment has scratch of its own.
    @Test func aScratchRingReusesThreeSegmentsOfScratch() throws {
        let shape = try TorusShape(2, 1, 1)
        let count = 40_001, piece = 250   // 1,000-byte segments of float32; one step of 20,000 or 20,001
        func receives(ring: Int) throws -> [(issued: IssueRecord, finished: Double)] {
            var model = NetworkModel.ideal
            model.segmentBytes = piece * 4
            model.scratchSegments = ring
            var request = PredictionRequest(machine: shape, groups: [.box(shape)], algorithm: .ring, bytes: count * 4, model: model)
            request.recordIssues = true
            let log = try Predictor.run(request).issueLog[0]
            let finished = Dictionary(log.filter { $0.event == .finished }.map { (Key(stream: $0.stream, serial: $0.serial), $0.time) },
                                      uniquingKeysWith: max)
            return log.filter { $0.event == .issued && $0.kind.reducesReceived }.map { ($0, finished[Key(stream: $0.stream, serial: $0.serial)]!) }
        }
        let ring = try receives(ring: 3)
        #expect(ring.count == 81)
        let offsets = ring.map { $0.issued.access.a.lo }
        #expect(Set(offsets).count == 3 && offsets.max()! - offsets.min()! == 2 * piece, "scratch offsets \(Set(offsets).sorted())")
        #expect(ring.allSatisfy { $0.issued.access.a.isScratch })
        for j in 3 ..< ring.count {
            #expect(offsets[j] == offsets[j - 3])
            #expect(ring[j].issued.time >= ring[j - 3].finished, "segment \(j) received before segment \(j - 3) was reduced")
        }
        let own = try receives(ring: 0).map { $0.issued.access.a.lo }
        #expect(Set(own).count == 81)
    }

    @Test(arguments: Algorithm.allCases, shapes)
    func executorAndPredictorIssueTheSameSegmentsAfterTheSameCompletions(algorithm: Algorithm, shape: TorusShape) throws {
        for c in Self.cases { try compare(algorithm, shape, count: c.count, rules: c.rules) }
    }
}
