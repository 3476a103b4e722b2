import Foundation
import TorusCore
import TorusRuntime
import TorusSchedules

/// What to predict: one AllReduce per group, all groups at once on one machine.
public struct PredictionRequest: Sendable {
    public var machine: TorusShape
    /// Each group's torus view; `machineNodeOf` places its ranks (groups may share nodes).
    public var groups: [GroupTopology]
    public var algorithm: Algorithm
    /// Bytes of each group's buffer.
    public var bytes: Int
    public var type: ElementType
    public var op: ReduceOp
    public var model: NetworkModel
    /// Move real data and check every rank's result (small runs); otherwise timing only.
    public var payload: Bool
    /// Record one slice per step of every rank and part (for `--trace`).
    public var trace: Bool

    public init(machine: TorusShape, groups: [GroupTopology], algorithm: Algorithm, bytes: Int, type: ElementType = .float32,
                op: ReduceOp = .sum, model: NetworkModel, payload: Bool = false, trace: Bool = false) {
        self.machine = machine
        self.groups = groups
        self.algorithm = algorithm
        self.bytes = bytes
        self.type = type
        self.op = op
        self.model = model
        self.payload = payload
        self.trace = trace
    }

    /// One group: every node of `machine`, rank = node.
    public static func world(_ machine: TorusShape, algorithm: Algorithm, bytes: Int, model: NetworkModel) -> PredictionRequest {
        PredictionRequest(machine: machine, groups: [.box(machine)], algorithm: algorithm, bytes: bytes, model: model)
    }
}

/// One step of one rank's stream, from the start of its first segment to the end of its last.
public struct TraceSlice: Sendable {
    public var rank: Int
    public var group: Int
    public var stream: Int
    /// The stream's label ("part 0 +X,Y,Z") and the step ("send 4096 → 3").
    public var part: String
    public var label: String
    public var start: Double
    public var end: Double
}

/// What the predictor found.
public struct Prediction: Sendable {
    public var request: PredictionRequest
    /// Seconds until the last group finished, and each group's time.
    public var time: Double
    public var groupTimes: [Double]
    /// Bytes that crossed each directed link of the machine (`DirectedLink.index`); empty on a full network.
    public var linkBytes: [Int]
    public var messages: Int
    public var events: Int
    /// Payload mode: elements that differ from the expected result over all ranks (nil: timing only).
    public var wrongElements: Int?
    public var trace: [TraceSlice]
    /// Seconds the prediction took to compute.
    public var wallSeconds: Double

    public var groupSize: Int { request.groups.map(\.size).max() ?? 1 }
    public var algbw: Double { time > 0 ? Double(request.bytes) / time : 0 }
    public var busbw: Double {
        let p = Double(groupSize)
        return p > 1 ? algbw * 2 * (p - 1) / p : 0
    }

    /// The bus bandwidth bound of DESIGN §1 for the first group's torus view: one link bandwidth
    /// per directed link a node can drive on the group's axes (6β on a 3D torus); nil on a full network.
    public var boundBusbw: Double? {
        guard request.model.network == .torus, let g = request.groups.first else { return nil }
        let links = g.grid.dims.reduce(0) { $0 + ($1 > 2 ? 2 : $1 == 2 ? 1 : 0) }
        return Double(links) * request.model.linkBandwidth
    }

    public var boundFraction: Double? { boundBusbw.map { busbw / $0 } }
}

/// The discrete-event predictor (DESIGN §7.2): runs the schedules of every rank in virtual time.
///
/// Model: each stream's steps are cut into segments as the executor cuts them and issued in order;
/// a segment starts once it conflicts with no unfinished earlier segment of its stream (and, for a
/// receive, once fewer than `window` receives are posted). A send costs the rank `softwareOverhead`
/// of CPU (one message at a time), then crosses its route link by link: each directed link is a FIFO
/// resource busy `bytes / linkBandwidth` per message; the head reaches the next link `hopDelay`
/// after it entered one (cut-through) and the far end `linkLatency` after the tail left the last
/// link. A receive completes when it is posted and its message has arrived (messages of one
/// channel arrive in order); a receive-and-reduce then waits for the node's reduction engine, a FIFO
/// resource producing `reductionRate` bytes per second. A send completes when delivered. Ranks on one
/// node exchange messages through memory. On a `full` network every ordered pair of ranks has its own link.
/// A stream keeps at most 64 segments in its table of recent ones (a finite request table, as a
/// real library has): a 65th waits for the oldest to finish.
public enum Predictor {
    public static func run(_ request: PredictionRequest, progress: ((Double) -> Void)? = nil) throws -> Prediction {
        var engine = try PredictorRun(request)
        return try engine.execute(progress: progress)
    }
}

/// One step in compact form: offsets and counts in elements.
struct CompactStep {
    static let send: UInt8 = 0, recv: UInt8 = 1, recvReduce: UInt8 = 2, reduce: UInt8 = 3, copy: UInt8 = 4
    /// A send handed to the network (only in `RecentOp.kind`).
    static let started: UInt8 = 5
    var kind: UInt8
    var aScratch: Bool
    var bScratch: Bool
    var peer: Int32
    var a: Int32
    var b: Int32
    var count: Int32
}

/// A range of elements: data at [0, count), scratch shifted by `scratchBase`, so one comparison
/// tells whether two ranges overlap.
struct Span {
    var lo: Int32
    var hi: Int32
    static let empty = Span(lo: 0, hi: 0)
    init(lo: Int32, hi: Int32) { self.lo = lo; self.hi = hi }
    init(lo: Int, hi: Int) { self.lo = Int32(lo); self.hi = Int32(hi) }
    @inline(__always) func overlaps(_ o: Span) -> Bool { lo < o.hi && o.lo < hi && lo < hi && o.lo < o.hi }
    var count: Int { Int(hi - lo) }
    /// The first element within its buffer, and whether that buffer is scratch.
    var offset: Int { Int(lo) & (scratchBase - 1) }
    var isScratch: Bool { Int(lo) >= scratchBase }
}

/// Scratch elements are numbered from here (buffers hold fewer than 2^30 elements).
let scratchBase = 1 << 30

/// The memory a segment touches: span `a` (read, or written when `aWrites`) and span `b`
/// (written: a reduction target or a copy's destination).
struct Access {
    var a: Span
    var aWrites: Bool
    var b: Span

    /// Whether the two touch a common element and one of them writes it.
    @inline(__always) func conflicts(_ o: Access) -> Bool {
        (a.overlaps(o.a) && (aWrites || o.aWrites)) || a.overlaps(o.b) || b.overlaps(o.a) || b.overlaps(o.b)
    }
}

/// An issued segment that may still constrain later segments of its stream (64 bytes: one cache line).
struct RecentOp {
    var access: Access
    /// Completion time, NaN while unknown.
    var done: Double
    var issue: Double
    /// recvReduce: when the target is free (known at issue).
    var targetReady: Double
    var serial: Int32
    /// Its step, an index into `allSteps` (the peer is there; the length is `access.a`).
    var step: Int32
    var peer: Int32
    var recvSlot: Int16
    var kind: UInt8
}

/// A posted receive waiting for its message: the sending rank and the op.
struct Waiter {
    var src: Int32
    var serial: Int32
}

/// A message that arrived before its receive was posted.
struct Early {
    var src: Int32
    var arrival: Double
    var payload: [UInt8]?
}

/// The hot state of one stream: 64 bytes, one cache line (the buffers are 64-byte aligned).
struct StreamState {
    var lastIssue = 0.0
    var finish = 0.0
    var rank: Int32
    /// Position among its rank's streams.
    var index: Int32
    /// Its steps end at `allSteps[stepEnd]`; `step` is the next one (an index into allSteps).
    var stepEnd: Int32
    var step: Int32
    /// Elements of the current step already issued.
    var at: Int32 = 0
    /// Its recent ops are `ops[slab·stream ..< slab·stream + opCount]`, in serial order.
    var opCount: Int32 = 0
    /// The serial of the unfinished op the stream waits for (-2: a receive-window slot; -1: none).
    var blockedOn: Int32 = -1
    var recvCount: Int32 = 0
    /// Sends issued but not yet handed to the network; one event at a time walks through them.
    var sendsWaiting: Int32 = 0
    var serial: Int32 = 0
    /// Posted receives not yet matched: `waiters[window·stream ..< window·stream + waiting]`, in
    /// posting order (at most `window`). Messages that arrived first: `early[stream]` (`earlyCount`).
    var waiting: Int16 = 0
    var earlyCount: Int16 = 0
    var sendEventPending = false

    init(rank: Int32, index: Int32, stepEnd: Int32, step: Int32) {
        self.rank = rank
        self.index = index
        self.stepEnd = stepEnd
        self.step = step
    }
}

/// A fixed array of plain values on 64-byte boundaries, so a 64-byte element is one cache line.
final class AlignedArray<T> {
    let base: UnsafeMutablePointer<T>
    let count: Int

    init(repeating value: T, count: Int) {
        self.count = count
        let raw = UnsafeMutableRawPointer.allocate(byteCount: max(1, count) * MemoryLayout<T>.stride, alignment: 64)
        base = raw.bindMemory(to: T.self, capacity: max(1, count))
        base.initialize(repeating: value, count: count)
    }

    deinit {
        base.deinitialize(count: count)
        UnsafeMutableRawPointer(base).deallocate()
    }
}

/// An event: a time and what happens then, packed in 16 bytes (kind in the top 2 bits, a stream or
/// message in the next 30, a serial in the low 32). Ties break on the packed key, so runs are
/// deterministic. (Order among equal times never matters for data: an op's dependents are
/// scheduled only after it has been carried out.)
struct Event {
    var time: Double
    var key: UInt64

    init(time: Double, kind: Int32, a: Int32, b: Int32) {
        self.time = time
        key = UInt64(kind) << 62 | UInt64(UInt32(a)) << 32 | UInt64(UInt32(bitPattern: b))
    }

    var kind: Int32 { Int32(key >> 62) }
    var a: Int32 { Int32(truncatingIfNeeded: (key >> 32) & 0x3FFF_FFFF) }
    var b: Int32 { Int32(truncatingIfNeeded: key & 0xFFFF_FFFF) }
}

/// A 4-ary min-heap of events by (time, key): shallower than a binary heap, four children to a cache line.
struct EventHeap {
    var items: [Event] = []
    var isEmpty: Bool { items.isEmpty }

    @inline(__always) static func less(_ x: Event, _ y: Event) -> Bool { x.time < y.time || (x.time == y.time && x.key < y.key) }

    mutating func push(_ e: Event) {
        items.append(e)
        items.withUnsafeMutableBufferPointer { h in
            var i = h.count - 1
            while i > 0 {
                let parent = (i - 1) / 4
                if !EventHeap.less(e, h[parent]) { break }
                h[i] = h[parent]
                i = parent
            }
            h[i] = e
        }
    }

    mutating func pop() -> Event {
        let top = items[0]
        let last = items.removeLast()
        if items.isEmpty { return top }
        items.withUnsafeMutableBufferPointer { h in
            let n = h.count
            var i = 0
            while true {
                let first = 4 * i + 1
                if first >= n { break }
                var m = first
                var c = first + 1
                while c < min(first + 4, n) {
                    if EventHeap.less(h[c], h[m]) { m = c }
                    c += 1
                }
                if !EventHeap.less(h[m], last) { break }
                h[i] = h[m]
                i = m
            }
            h[i] = last
        }
        return top
    }
}

struct Message {
    var src: Int32
    /// The sending stream, and the receiving stream (same position on the destination rank).
    var stream: Int32
    var target: Int32
    var serial: Int32
    var bytes: Int
    var node: Int
    var destination: Int
}

private struct PredictorRun {
    static let issueSend: Int32 = 0, hop: Int32 = 1, reduce: Int32 = 2

    let request: PredictionRequest
    let model: NetworkModel
    let machine: TorusShape
    let elementSize: Int
    let segmentElements: Int
    let strides: [Int]
    /// Per simulated rank: its group, rank in the group, machine node, first stream.
    var rankGroup: [Int32] = []
    var rankInGroup: [Int32] = []
    var rankNode: [Int] = []
    var groupFirstRank: [Int] = []
    var firstStream: [Int] = []
    /// Per stream, hot (one cache line each) and cold.
    var streamStore: AlignedArray<StreamState>!
    var streams: UnsafeMutablePointer<StreamState>!
    var streamCount = 0
    var stepBases: [Int] = []
    /// Posted receives of all streams, `window` slots per stream, and early messages per stream.
    var waiters: [Waiter] = []
    var early: [[Early]] = []
    /// Recent ops of all streams, `slab` slots per stream.
    var opStore: AlignedArray<RecentOp>!
    var ops: UnsafeMutablePointer<RecentOp>!
    let slab = 64
    var allSteps: [CompactStep] = []
    /// Per stream (cold: for messages and traces).
    var labels: [String] = []
    var traceStart: [[Double]] = []
    var traceEnd: [[Double]] = []
    /// Per stream, the completion times of its last `window` receives (NaN while pending).
    var recvRing: [Double] = []
    var cpuFree: [Double]
    var engineFree: [Double]
    var linkFree: [Double]
    var linkBytes: [Int]
    var pairFree: [Double] = []
    var messages: [Message] = []
    var freeMessages: [Int32] = []
    var heap = EventHeap()
    var events = 0
    var messageCount = 0
    var totalSegments = 0
    var doneSegments = 0
    // Payload mode.
    var data: [[UInt8]] = []
    var scratch: [[UInt8]] = []
    let kernel: ReductionKernel
    let count: Int

    init(_ request: PredictionRequest) throws {
        self.request = request
        model = request.model
        machine = request.machine
        elementSize = request.type.size
        kernel = try ReductionKernel(type: request.type, op: request.op)
        guard request.bytes >= 0, request.bytes % elementSize == 0 else {
            throw TorusError.invalidValue(name: "--bytes", value: "\(request.bytes)", expected: "a multiple of the \(elementSize)-byte element size")
        }
        count = request.bytes / elementSize
        guard count < scratchBase else {
            throw TorusError.invalidValue(name: "--bytes", value: "\(request.bytes)", expected: "fewer than 2^30 elements per buffer")
        }
        segmentElements = model.segmentBytes == 0 ? Int.max : max(1, model.segmentBytes / elementSize)
        var s = 1
        var strides: [Int] = []
        for d in machine.dims { strides.append(s); s *= d }
        self.strides = strides
        cpuFree = []
        engineFree = Array(repeating: 0, count: machine.nodeCount)
        linkFree = Array(repeating: 0, count: model.network == .torus ? machine.directedLinkCount : 0)
        linkBytes = Array(repeating: 0, count: linkFree.count)

        var ranks = 0
        for (g, topology) in request.groups.enumerated() {
            guard let nodes = topology.machineNodeOf, topology.machine == machine else {
                throw TorusError.invalidValue(name: "group \(g)", value: topology.description, expected: "a group placed on the machine \(machine)")
            }
            groupFirstRank.append(ranks)
            for r in 0..<topology.size {
                rankGroup.append(Int32(g))
                rankInGroup.append(Int32(r))
                rankNode.append(nodes[r])
            }
            ranks += topology.size
        }
        guard ranks < 1 << 27 else {
            throw TorusError.invalidValue(name: "ranks", value: "\(ranks)", expected: "fewer than 2^27 simulated ranks")
        }
        if model.network == .full {
            guard ranks <= 4096 else {
                throw TorusError.invalidValue(name: "--network full", value: "\(ranks) ranks", expected: "at most 4096 ranks (a link per pair)")
            }
            pairFree = Array(repeating: 0, count: ranks * ranks)
        }
        cpuFree = Array(repeating: 0, count: ranks)
        if request.payload {
            guard ranks * (request.bytes * 2) <= 8 << 30 else {
                throw TorusError.invalidValue(name: "--payload", value: "\(ranks) ranks × \(request.bytes) bytes",
                                              expected: "at most 8 GiB of buffers in payload mode; drop --payload for timing only")
            }
        }
        try buildStreams(ranks: ranks)
    }

    /// Every rank's schedule, compacted; built on all cores.
    mutating func buildStreams(ranks: Int) throws {
        let request = self.request, count = self.count
        let groupOf = rankGroup, inGroup = rankInGroup
        var perRank = [[(label: String, steps: [CompactStep])]?](repeating: nil, count: ranks)
        var scratchCounts = [Int](repeating: 0, count: ranks)
        let failure = ErrorList()
        perRank.withUnsafeMutableBufferPointer { out in
            scratchCounts.withUnsafeMutableBufferPointer { sc in
                let o = out.baseAddress!, s = sc.baseAddress!
                DispatchQueue.concurrentPerform(iterations: ranks) { g in
                    do {
                        let schedule = try request.algorithm.schedule(topology: request.groups[Int(groupOf[g])], rank: Int(inGroup[g]), count: count)
                        s[g] = schedule.scratchCount
                        o[g] = schedule.streams.map { stream in
                            (stream.label, stream.steps.map { PredictorRun.compact($0) })
                        }
                    } catch {
                        failure.append(rank: g, error)
                    }
                }
            }
        }
        if let error = failure.rootCause() { throw error }
        var list: [StreamState] = []
        for g in 0..<ranks {
            firstStream.append(list.count)
            for (index, (label, steps)) in perRank[g]!.enumerated() {
                list.append(StreamState(rank: Int32(g), index: Int32(index), stepEnd: Int32(allSteps.count + steps.count),
                                        step: Int32(allSteps.count)))
                stepBases.append(allSteps.count)
                allSteps += steps
                labels.append(label)
                if request.trace {
                    traceStart.append(Array(repeating: .nan, count: steps.count))
                    traceEnd.append(Array(repeating: 0, count: steps.count))
                }
                for step in steps { totalSegments += segments(Int(step.count)) }
                guard allSteps.count < Int(Int32.max) else {
                    throw TorusError.invalidValue(name: "ranks", value: "\(ranks)", expected: "fewer than 2^31 schedule steps in all (fewer ranks or a larger --bytes per step)")
                }
            }
            perRank[g] = nil
        }
        firstStream.append(list.count)
        streamCount = list.count
        guard streamCount < 1 << 30 else {
            throw TorusError.invalidValue(name: "ranks", value: "\(ranks)", expected: "fewer streams in all")
        }
        streamStore = AlignedArray(repeating: StreamState(rank: 0, index: 0, stepEnd: 0, step: 0), count: streamCount)
        streams = streamStore.base
        for (i, st) in list.enumerated() { streams[i] = st }
        recvRing = Array(repeating: 0, count: streamCount * model.window)
        guard scratchCounts.allSatisfy({ $0 < scratchBase }) else {
            throw TorusError.invalidValue(name: "--bytes", value: "\(request.bytes)", expected: "a buffer whose schedule needs fewer than 2^30 scratch elements")
        }
        let blank = RecentOp(access: Access(a: .empty, aWrites: false, b: .empty), done: 0, issue: 0, targetReady: 0, serial: 0, step: 0,
                             peer: 0, recvSlot: -1, kind: 0)
        opStore = AlignedArray(repeating: blank, count: streamCount * slab)
        ops = opStore.base
        waiters = Array(repeating: Waiter(src: -1, serial: -1), count: streamCount * model.window)
        early = Array(repeating: [], count: streamCount)
        if request.payload {
            // Each rank's inputs, built on all cores.
            let type = request.type
            var built = [[UInt8]](repeating: [], count: ranks)
            built.withUnsafeMutableBufferPointer { out in
                let o = out.baseAddress!
                DispatchQueue.concurrentPerform(iterations: ranks) { g in
                    (o + g).pointee = VerifiableInputs.bytes(type: type, rank: Int(inGroup[g]), count: count)
                }
            }
            data = built
            scratch = scratchCounts.map { [UInt8](repeating: 0, count: $0 * elementSize) }
        }
    }

    static func compact(_ step: Step) -> CompactStep {
        func c(_ kind: UInt8, _ peer: Int, _ a: Region, _ b: Region?) -> CompactStep {
            CompactStep(kind: kind, aScratch: a.buffer == .scratch, bScratch: b?.buffer == .scratch, peer: Int32(peer),
                        a: Int32(a.offset), b: Int32(b?.offset ?? 0), count: Int32(a.count))
        }
        switch step {
        case let .send(p, r): return c(CompactStep.send, p, r, nil)
        case let .recv(p, r): return c(CompactStep.recv, p, r, nil)
        case let .recvReduce(p, s, t): return c(CompactStep.recvReduce, p, s, t)
        case let .reduce(s, t): return c(CompactStep.reduce, -1, s, t)
        case let .copy(s, t): return c(CompactStep.copy, -1, s, t)
        }
    }

    func segments(_ n: Int) -> Int { n == 0 ? 0 : segmentElements == Int.max ? 1 : (n + segmentElements - 1) / segmentElements }

    mutating func schedule(_ time: Double, _ kind: Int32, _ a: Int32, _ b: Int32) {
        heap.push(Event(time: time, kind: kind, a: a, b: b))
    }

    mutating func execute(progress: ((Double) -> Void)?) throws -> Prediction {
        let started = Date()
        for s in 0..<streamCount { advance(s) }
        var nextReport = 1 << 16
        while !heap.isEmpty {
            let e = heap.pop()
            events += 1
            switch e.kind {
            case PredictorRun.issueSend: startSend(stream: Int(e.a), serial: e.b, at: e.time)
            case PredictorRun.hop: hop(message: Int(e.a), at: e.time)
            default: startReduction(stream: Int(e.a), serial: e.b, at: e.time)
            }
            if events >= nextReport {
                nextReport += 1 << 16
                progress?(Double(doneSegments) / Double(max(1, totalSegments)))
            }
        }
        // Every stream must have run to its end; anything else is a schedule that cannot complete.
        if let stuck = (0..<streamCount).first(where: { streams[$0].step < streams[$0].stepEnd }) {
            let s = streams[stuck]
            throw TorusError.communication("the prediction stalled: rank \(rankInGroup[Int(s.rank)]) of group \(rankGroup[Int(s.rank)]) waits at step \(Int(s.step) - stepBases[stuck]) of \(labels[stuck]) for a message that is never sent (a schedule bug)")
        }
        var groupTimes = [Double](repeating: 0, count: request.groups.count)
        for s in UnsafeBufferPointer(start: streams, count: streamCount) {
            groupTimes[Int(rankGroup[Int(s.rank)])] = max(groupTimes[Int(rankGroup[Int(s.rank)])], s.finish)
        }
        var wrong: Int?
        if request.payload {
            var bad = 0
            // Every rank's result against the expected pattern, on all cores.
            let patterns = try request.groups.map { try VerifiableInputs.expectedPattern(kernel: kernel, ranks: $0.size) }
            var counts = [Int](repeating: 0, count: data.count)
            let data = self.data, type = request.type, groupOf = rankGroup
            counts.withUnsafeMutableBufferPointer { out in
                let o = out.baseAddress!
                DispatchQueue.concurrentPerform(iterations: data.count) { g in
                    (o + g).pointee = VerifiableInputs.countWrong(data[g], pattern: patterns[Int(groupOf[g])], type: type)
                }
            }
            bad = counts.reduce(0, +)
            wrong = bad
        }
        var trace: [TraceSlice] = []
        if request.trace {
            for (si, s) in UnsafeBufferPointer(start: streams, count: streamCount).enumerated() {
                let g = Int(s.rank)
                for k in traceStart[si].indices where !traceStart[si][k].isNaN {
                    trace.append(TraceSlice(rank: Int(rankInGroup[g]), group: Int(rankGroup[g]), stream: Int(s.index), part: labels[si],
                                            label: describe(allSteps[stepBases[si] + k]), start: traceStart[si][k], end: traceEnd[si][k]))
                }
            }
        }
        progress?(1)
        return Prediction(request: request, time: groupTimes.max() ?? 0, groupTimes: groupTimes, linkBytes: linkBytes,
                          messages: messageCount, events: events, wrongElements: wrong, trace: trace,
                          wallSeconds: Date().timeIntervalSince(started))
    }

    func describe(_ step: CompactStep) -> String {
        switch step.kind {
        case CompactStep.send: return "send \(step.count) → \(step.peer)"
        case CompactStep.recv: return "recv \(step.count) ← \(step.peer)"
        case CompactStep.recvReduce: return "recv-reduce \(step.count) ← \(step.peer)"
        case CompactStep.reduce: return "reduce \(step.count)"
        default: return "copy \(step.count)"
        }
    }

    // MARK: Issue

    /// Issues the stream's segments in order for as long as nothing unfinished holds them back.
    mutating func advance(_ si: Int) {
        while true {
            let stepIndex = Int(streams[si].step)
            guard stepIndex < Int(streams[si].stepEnd) else { return }
            let step = allSteps[stepIndex]
            let at = Int(streams[si].at)
            let n = min(segmentElements, Int(step.count) - at)
            let aLo = Int(step.a) + at + (step.aScratch ? scratchBase : 0)
            let aSpan = Span(lo: aLo, hi: aLo + n)
            let bLo = Int(step.b) + at + (step.bScratch ? scratchBase : 0)
            let bSpan = Span(lo: bLo, hi: bLo + n)
            // What the op touches; a receive-and-reduce is issued once its scratch is free, and its
            // reduction waits for the target (`targetReady`).
            var access = Access(a: aSpan, aWrites: step.kind != CompactStep.send && step.kind != CompactStep.reduce
                                && step.kind != CompactStep.copy, b: .empty)
            let target = Access(a: .empty, aWrites: false, b: bSpan)
            if step.kind >= CompactStep.reduce { access.b = bSpan }
            let isReceive = step.kind == CompactStep.recv || step.kind == CompactStep.recvReduce
            var ready = streams[si].lastIssue
            var recvSlot: Int16 = -1
            if isReceive {
                let count = Int(streams[si].recvCount)
                recvSlot = Int16(count % model.window)
                if count >= model.window {
                    let previous = recvRing[si * model.window + Int(recvSlot)]
                    if previous.isNaN { streams[si].blockedOn = -2; return }
                    ready = max(ready, previous)
                }
            }
            var targetReady = 0.0
            let reduces = step.kind == CompactStep.recvReduce
            let base = si * slab, live = Int(streams[si].opCount)
            for k in base ..< base + live {
                let r = ops[k]
                if access.conflicts(r.access) {
                    if r.done.isNaN { streams[si].blockedOn = r.serial; return }
                    ready = max(ready, r.done)
                }
                if reduces, target.conflicts(r.access) {
                    if r.done.isNaN { streams[si].blockedOn = r.serial; return }
                    targetReady = max(targetReady, r.done)
                }
            }
            // Issued at `ready`. Earlier ops finished by then can no longer hold anything back.
            var kept = live
            if live > 4 { kept = prune(si, upTo: ready) }
            if kept == slab {
                // A stream tracks at most `slab` unfinished segments (a finite table, like a real
                // library's request pool): wait for the oldest.
                let table = UnsafeBufferPointer(start: ops + base, count: kept)
                if let oldest = table.first(where: { $0.done.isNaN }) {
                    streams[si].blockedOn = oldest.serial
                    return
                }
                ready = max(ready, table.map(\.done).min()!)
                kept = prune(si, upTo: ready)
            }
            streams[si].blockedOn = -1
            if reduces { access.b = bSpan }
            streams[si].lastIssue = ready
            let serial = streams[si].serial
            streams[si].serial &+= 1
            ops[base + kept] = RecentOp(access: access, done: .nan, issue: ready, targetReady: targetReady, serial: serial,
                                        step: Int32(stepIndex), peer: step.peer, recvSlot: recvSlot, kind: step.kind)
            streams[si].opCount = Int32(kept + 1)
            if request.trace, at == 0 { traceStart[si][stepIndex - stepBases[si]] = ready }
            if at + n >= Int(step.count) {
                streams[si].step += 1
                streams[si].at = 0
            } else {
                streams[si].at = Int32(at + n)
            }
            switch step.kind {
            case CompactStep.send:
                // A stream's sends start in issue order at non-decreasing times: one heap entry per
                // stream is enough (the heap stays small).
                streams[si].sendsWaiting += 1
                if !streams[si].sendEventPending {
                    streams[si].sendEventPending = true
                    schedule(ready, PredictorRun.issueSend, Int32(si), serial)
                }
            case CompactStep.recv, CompactStep.recvReduce:
                recvRing[si * model.window + Int(recvSlot)] = .nan
                streams[si].recvCount += 1
                post(stream: si, serial: serial, peer: Int(step.peer))
            default:
                schedule(ready, PredictorRun.reduce, Int32(si), serial)
            }
        }
    }

    /// Drops the stream's ops finished by `time`; returns how many remain.
    mutating func prune(_ si: Int, upTo time: Double) -> Int {
        let base = si * slab
        var w = base
        for k in base ..< base + Int(streams[si].opCount) where !(ops[k].done <= time) {
            if w != k { ops[w] = ops[k] }
            w += 1
        }
        streams[si].opCount = Int32(w - base)
        return w - base
    }

    /// The global index of the stream's recent op with this serial (ops are kept in serial order).
    @inline(__always) func find(_ si: Int, _ serial: Int32) -> Int? {
        var lo = si * slab, hi = lo + Int(streams[si].opCount)
        let end = hi
        while lo < hi {
            let mid = (lo + hi) / 2
            if ops[mid].serial < serial { lo = mid + 1 } else { hi = mid }
        }
        return lo < end && ops[lo].serial == serial ? lo : nil
    }

    /// The simulated rank of group rank `peer` in the group of rank `g`.
    @inline(__always) func peerRank(_ g: Int, _ peer: Int) -> Int { groupFirstRank[Int(rankGroup[g])] + peer }

    mutating func post(stream si: Int, serial: Int32, peer: Int) {
        let src = Int32(peerRank(Int(streams[si].rank), peer))
        if streams[si].earlyCount > 0, let k = early[si].firstIndex(where: { $0.src == src }) {
            let e = early[si].remove(at: k)
            streams[si].earlyCount -= 1
            received(stream: si, serial: serial, arrival: e.arrival, payload: e.payload)
        } else {
            // The receive window keeps unmatched receives at `window` or fewer.
            precondition(Int(streams[si].waiting) < model.window, "predictor: more posted receives than the window")
            waiters[si * model.window + Int(streams[si].waiting)] = Waiter(src: src, serial: serial)
            streams[si].waiting += 1
        }
    }

    /// A posted receive met its message.
    mutating func received(stream si: Int, serial: Int32, arrival: Double, payload: [UInt8]?) {
        guard let i = find(si, serial) else { return }
        let op = ops[i]
        let done = max(op.issue, arrival)
        // An early message's data lands now (a matched one was copied on delivery).
        if let payload { write(payload, rank: Int(streams[si].rank), at: op.access.a) }
        if op.kind == CompactStep.recv {
            resolve(stream: si, index: i, at: done)
        } else {
            // The receive part is over: the receive window slot frees now, the reduction follows.
            recvRing[si * model.window + Int(op.recvSlot)] = done
            ops[i].recvSlot = -1
            if streams[si].blockedOn == -2 { advance(si) }
            schedule(max(done, op.targetReady), PredictorRun.reduce, Int32(si), serial)
        }
    }

    // MARK: Events

    mutating func startSend(stream si: Int, serial: Int32, at time: Double) {
        guard let i = find(si, serial) else { return }
        let op = ops[i]
        ops[i].kind = CompactStep.started
        streams[si].sendsWaiting -= 1
        let end = si * slab + Int(streams[si].opCount)
        let later = UnsafeBufferPointer(start: ops + (i + 1), count: end - (i + 1))
        if streams[si].sendsWaiting > 0, let next = later.first(where: { $0.kind == CompactStep.send }) {
            schedule(max(time, next.issue), PredictorRun.issueSend, Int32(si), next.serial)
        } else {
            streams[si].sendEventPending = false
        }
        let g = Int(streams[si].rank)
        let dst = peerRank(g, Int(op.peer))
        let bytes = op.access.a.count * elementSize
        let inject = max(time, cpuFree[g]) + model.softwareOverhead
        cpuFree[g] = inject
        messageCount += 1
        let m = Message(src: Int32(g), stream: Int32(si), target: Int32(firstStream[dst] + Int(streams[si].index)), serial: serial,
                        bytes: bytes, node: rankNode[g], destination: rankNode[dst])
        let id: Int
        if let free = freeMessages.popLast() { id = Int(free); messages[id] = m } else { id = messages.count; messages.append(m) }
        if model.network == .full {
            let pair = g * cpuFree.count + dst
            let start = max(inject, pairFree[pair])
            pairFree[pair] = start + Double(bytes) / model.linkBandwidth
            deliver(message: id, at: pairFree[pair] + model.linkLatency)
        } else if m.node == m.destination {
            // Ranks of one node: a copy through memory.
            deliver(message: id, at: inject + Double(bytes) / (model.memoryBandwidth / 2))
        } else {
            hop(message: id, at: inject)
        }
    }

    /// The message's head reaches the next link on its route at `time`.
    mutating func hop(message id: Int, at time: Double) {
        var m = messages[id]
        // Dimension-order routing, the shorter way round (ties the + way).
        var axis = 0, step = 0
        for a in 0..<machine.axisCount {
            let c = (m.node / strides[a]) % machine.dims[a], t = (m.destination / strides[a]) % machine.dims[a]
            if c != t { axis = a; step = machine.signedDistance(from: c, to: t, axis: a) > 0 ? 1 : -1; break }
        }
        let link = (m.node * machine.axisCount + axis) * 2 + (step > 0 ? 0 : 1)
        let start = max(time, linkFree[link])
        let busy = Double(m.bytes) / model.linkBandwidth
        linkFree[link] = start + busy
        linkBytes[link] += m.bytes
        let c = (m.node / strides[axis]) % machine.dims[axis]
        let next = (c + step + machine.dims[axis]) % machine.dims[axis]
        m.node += (next - c) * strides[axis]
        messages[id].node = m.node
        if m.node == m.destination {
            deliver(message: id, at: start + busy + model.linkLatency)
        } else {
            schedule(start + model.hopDelay, PredictorRun.hop, Int32(id), 0)
        }
    }

    mutating func deliver(message id: Int, at arrival: Double) {
        let m = messages[id]
        freeMessages.append(Int32(id))
        let si = Int(m.stream)
        let sender = find(si, m.serial)
        // The receiver's oldest unmatched receive from this source completes, or the message waits.
        // Data moves now, before the send completes: until then nothing may write the sent range.
        let ti = Int(m.target)
        let base = ti * model.window, n = Int(streams[ti].waiting)
        if let k = (base ..< base + n).first(where: { waiters[$0].src == m.src }) {
            let serial = waiters[k].serial
            for j in k ..< base + n - 1 { waiters[j] = waiters[j + 1] }
            streams[ti].waiting -= 1
            if request.payload, let sender, let r = find(ti, serial) {
                copy(from: Int(m.src), ops[sender].access.a, to: Int(streams[ti].rank), ops[r].access.a)
            }
            received(stream: ti, serial: serial, arrival: arrival, payload: nil)
        } else {
            let payload = request.payload && sender != nil ? read(rank: Int(m.src), at: ops[sender!].access.a) : nil
            early[ti].append(Early(src: m.src, arrival: arrival, payload: payload))
            streams[ti].earlyCount += 1
        }
        // The sender's segment is complete.
        if let i = find(si, m.serial) { resolve(stream: si, index: i, at: arrival) }
    }

    mutating func startReduction(stream si: Int, serial: Int32, at time: Double) {
        guard let i = find(si, serial) else { return }
        let op = ops[i]
        let g = Int(streams[si].rank)
        let node = rankNode[g]
        let rate = op.kind == CompactStep.copy ? model.memoryBandwidth / 2 : model.reductionRate
        let start = max(time, engineFree[node])
        let done = rate.isInfinite ? start : start + Double(op.access.a.count * elementSize) / rate
        engineFree[node] = done
        if request.payload {
            switch op.kind {
            case CompactStep.recvReduce, CompactStep.reduce:
                combine(rank: g, target: op.access.b, source: op.access.a)
            default:
                write(read(rank: g, at: op.access.a), rank: g, at: op.access.b)
            }
        }
        resolve(stream: si, index: i, at: done)
    }

    /// The op's completion time is known: record it and let its stream go on.
    mutating func resolve(stream si: Int, index i: Int, at time: Double) {
        ops[i].done = time
        let op = ops[i]
        if op.recvSlot >= 0 { recvRing[si * model.window + Int(op.recvSlot)] = time }
        streams[si].finish = max(streams[si].finish, time)
        if request.trace {
            let k = Int(op.step) - stepBases[si]
            traceEnd[si][k] = max(traceEnd[si][k], time)
        }
        doneSegments += 1
        // Only the op the stream waits for (or a receive, for a full window) can let it go on.
        let blocked = streams[si].blockedOn
        if blocked == -1 || blocked == op.serial || (blocked == -2 && op.recvSlot >= 0) { advance(si) }
    }

    // MARK: Payload

    func read(rank g: Int, at span: Span) -> [UInt8] {
        let lo = span.offset * elementSize, hi = lo + span.count * elementSize
        return span.isScratch ? Array(scratch[g][lo..<hi]) : Array(data[g][lo..<hi])
    }

    mutating func write(_ bytes: [UInt8], rank g: Int, at span: Span) {
        let lo = span.offset * elementSize
        if span.isScratch { scratch[g].replaceSubrange(lo..<lo + bytes.count, with: bytes) }
        else { data[g].replaceSubrange(lo..<lo + bytes.count, with: bytes) }
    }

    /// Copies a span of rank `src` to a span of rank `dst` (data or scratch).
    mutating func copy(from src: Int, _ a: Span, to dst: Int, _ b: Span) {
        let lo = a.offset * elementSize, n = a.count * elementSize
        let to = b.offset * elementSize
        func into(_ target: inout [UInt8], from source: UnsafeRawBufferPointer) {
            target.withUnsafeMutableBytes { $0.baseAddress!.advanced(by: to).copyMemory(from: source.baseAddress! + lo, byteCount: n) }
        }
        let bytes = a.isScratch ? scratch[src] : data[src]
        bytes.withUnsafeBytes { source in
            if b.isScratch { into(&scratch[dst], from: source) } else { into(&data[dst], from: source) }
        }
    }

    /// target = target op source, both spans of rank g (the target in data, the source in data or scratch).
    mutating func combine(rank g: Int, target: Span, source: Span) {
        let t = target.offset * elementSize, s = source.offset * elementSize
        let kernel = self.kernel, n = target.count
        if source.isScratch {
            scratch[g].withUnsafeBytes { src in
                data[g].withUnsafeMutableBytes { kernel.accumulate(into: $0.baseAddress! + t, src.baseAddress! + s, count: n) }
            }
        } else {
            data[g].withUnsafeMutableBytes { kernel.accumulate(into: $0.baseAddress! + t, UnsafeRawPointer($0.baseAddress! + s), count: n) }
        }
    }
}
