import Foundation
import Synchronization
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
    /// Threads to predict on (nil: every core for machines of 512 nodes or more, or for payload
    /// runs of 64 MiB or more in all; else one). The prediction is the same for any number.
    public var threads: Int?

    public init(machine: TorusShape, groups: [GroupTopology], algorithm: Algorithm, bytes: Int, type: ElementType = .float32,
                op: ReduceOp = .sum, model: NetworkModel, payload: Bool = false, trace: Bool = false, threads: Int? = nil) {
        self.machine = machine
        self.groups = groups
        self.algorithm = algorithm
        self.bytes = bytes
        self.type = type
        self.op = op
        self.model = model
        self.payload = payload
        self.trace = trace
        self.threads = threads
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
    /// Seconds the prediction took to compute, and on how many threads.
    public var wallSeconds: Double
    public var threads: Int

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
/// A stream keeps at most 64 segments in flight (a finite request table, as a real library has,
/// retiring in order): a segment waits until every segment 64 or more before it has finished. A
/// receive-and-reduce is posted without waiting for its target; its reduction waits. Every rule
/// depends on completion times alone, and events are handled in time order (checked), so the
/// result does not depend on how the run is split over threads.
public enum Predictor {
    public static func run(_ request: PredictionRequest, progress: ((Double) -> Void)? = nil) throws -> Prediction {
        try PredictorRun(request).execute(progress: progress)
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
    /// When it was issued; a receive-and-reduce whose receive is over: when the receive completed.
    var issue: Double
    /// recvReduce: when the target is free, as far as known: the finished earlier ops that touch it.
    var targetReady: Double
    var serial: Int32
    /// Its step, an index into `allSteps` (the peer is there; the length is `access.a`).
    var step: Int32
    var peer: Int32
    var recvSlot: Int16
    var kind: UInt8
    /// recvReduce: earlier ops touching the target that were unfinished when it was issued and are
    /// still unfinished. The reduction starts once this is 0 and the receive is over.
    var targetPending: UInt8 = 0
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
    /// Its recent ops are `ops[slabStride·stream ..< slabStride·stream + opCount]`, in serial order.
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
    /// Ops whose `targetPending` is not 0.
    var targetWaiters: UInt8 = 0

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

    init(_ values: [T]) {
        count = values.count
        let raw = UnsafeMutableRawPointer.allocate(byteCount: max(1, count) * MemoryLayout<T>.stride, alignment: 64)
        base = raw.bindMemory(to: T.self, capacity: max(1, count))
        values.withUnsafeBufferPointer { base.initialize(from: $0.baseAddress!, count: count) }
    }

    deinit {
        base.deinitialize(count: count)
        UnsafeMutableRawPointer(base).deallocate()
    }
}

/// Raw views of the tables a partition touches per event (no reference counting on the way).
struct Tables {
    let streams: UnsafeMutablePointer<StreamState>
    let ops: UnsafeMutablePointer<RecentOp>
    let steps: UnsafeMutablePointer<CompactStep>
    let waiters: UnsafeMutablePointer<Waiter>
    let early: UnsafeMutablePointer<[Early]>
    let recvRing, cpuFree, engineFree, linkFree, pairFree, traceStart, traceEnd: UnsafeMutablePointer<Double>
    let linkBytes, rankNode, firstStream, groupFirstRank: UnsafeMutablePointer<Int>
    let rankGroup, streamPartition, nodePartition: UnsafeMutablePointer<Int32>
    let ranks: Int
}

/// An event: a time and what happens then, packed in 16 bytes (kind in the top 2 bits, a stream in
/// the next 30, a serial in the low 32; a message is keyed by its sending stream and serial). Ties
/// break on the packed key, which names the same op on any number of threads, so runs are
/// deterministic and independent of the partitioning. (Order among equal times never matters for data: an op's dependents are
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

/// A message on its way: sender, sending and receiving stream, the sender's op, where its head is.
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

/// What one partition hands another at the end of a window: a message that arrived (for the
/// receiver), the completion of a send (for the sender), or a message whose head enters a node of
/// the other partition. Payload mode: the message's data, when it goes to another partition.
struct Handover {
    static let deliver: UInt8 = 0, sendDone: UInt8 = 1, hop: UInt8 = 2
    var kind: UInt8
    var time: Double
    var message: Message
    var payload: [UInt8]?
}

/// Payload mode's buffers: each rank's data and scratch, 64-byte aligned. A partition writes only
/// the buffers of its own ranks.
final class PayloadBuffers: @unchecked Sendable {
    let data: [UnsafeMutableRawBufferPointer]
    let scratch: [UnsafeMutableRawBufferPointer]

    /// Every rank's inputs and zeroed scratch, built on all cores.
    init(type: ElementType, ranks: [Int32], count: Int, scratchCounts: [Int]) {
        func allocate(_ bytes: Int) -> UnsafeMutableRawBufferPointer {
            UnsafeMutableRawBufferPointer(start: UnsafeMutableRawPointer.allocate(byteCount: max(bytes, 1), alignment: 64), count: bytes)
        }
        let data = ranks.map { _ in allocate(count * type.size) }
        let scratch = scratchCounts.map { allocate($0 * type.size) }
        DispatchQueue.concurrentPerform(iterations: ranks.count) { g in
            VerifiableInputs.fill(data[g], type: type, rank: Int(ranks[g]))
            if scratch[g].count > 0 { scratch[g].baseAddress!.initializeMemory(as: UInt8.self, repeating: 0, count: scratch[g].count) }
        }
        self.data = data
        self.scratch = scratch
    }

    deinit {
        for b in data + scratch { b.baseAddress!.deallocate() }
    }

    @inline(__always) func pointer(rank g: Int, _ span: Span, elementSize: Int) -> UnsafeMutableRawPointer {
        (span.isScratch ? scratch[g] : data[g]).baseAddress! + span.offset * elementSize
    }
}

/// Everything built before the run: the configuration, every rank's compacted schedule, and the
/// shared tables. A table entry belongs to the partition owning its stream, rank or node (a link:
/// its source node) and is written by that partition only.
private struct PredictorRun {
    static let issueSend: Int32 = 0, hop: Int32 = 1, reduce: Int32 = 2

    let request: PredictionRequest
    let model: NetworkModel
    let machine: TorusShape
    let elementSize: Int
    let segmentElements: Int
    let strides: [Int]
    let kernel: ReductionKernel
    let count: Int
    /// Per simulated rank: its group and rank in the group (its node, first stream and the like are
    /// in `readOnly`, for the partitions).
    let rankGroup: [Int32]
    let rankInGroup: [Int32]
    let streamCount: Int
    let stepBases: [Int]
    let allSteps: AlignedArray<CompactStep>
    let labels: [String]
    let totalSegments: Int
    /// Stream state (one cache line each), recent ops (`slab` per stream, `slabStride` apart), posted
    /// receives (`window` per stream), early messages, the completion times of each stream's last
    /// `window` receives (NaN while pending).
    let streamStore: AlignedArray<StreamState>
    let streams: UnsafeMutablePointer<StreamState>
    let opStore: AlignedArray<RecentOp>
    let ops: UnsafeMutablePointer<RecentOp>
    let slab = 64
    /// Slabs start `slabStride` records apart: one line more than a slab, so the slabs' first lines
    /// do not all fall in the same cache sets (4 KiB apart they would).
    let slabStride = 65
    let waiters: AlignedArray<Waiter>
    let early: AlignedArray<[Early]>
    let recvRing: AlignedArray<Double>
    /// Per rank (CPU), node (reduction engine), directed link, ordered pair of ranks (full network).
    let cpuFree: AlignedArray<Double>
    let engineFree: AlignedArray<Double>
    let linkFree: AlignedArray<Double>
    let linkBytes: AlignedArray<Int>
    let pairFree: AlignedArray<Double>
    /// Per step of `allSteps` (trace only): when its first segment was issued and its last finished.
    let traceStart: AlignedArray<Double>
    let traceEnd: AlignedArray<Double>
    let payload: PayloadBuffers?
    /// Partitions run on threads of their own, in windows of `lookahead` virtual seconds. A partition
    /// owns a contiguous range of machine nodes, their ranks, their streams and their outgoing links.
    let partitions: Int
    let lookahead: Double
    /// The read-only arrays the partitions use per event, as raw tables, and raw views of everything.
    let readOnly: (rankNode: AlignedArray<Int>, firstStream: AlignedArray<Int>, groupFirstRank: AlignedArray<Int>,
                   rankGroup: AlignedArray<Int32>, streamPartition: AlignedArray<Int32>, nodePartition: AlignedArray<Int32>)
    let tables: Tables

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
        if let threads = request.threads, !(1...256).contains(threads) {
            throw TorusError.invalidValue(name: "--threads", value: "\(threads)", expected: "1 to 256 (the cores to use)")
        }

        var rankGroup: [Int32] = [], rankInGroup: [Int32] = [], rankNode: [Int] = [], groupFirstRank: [Int] = []
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
        self.rankGroup = rankGroup
        self.rankInGroup = rankInGroup
        guard ranks < 1 << 27 else {
            throw TorusError.invalidValue(name: "ranks", value: "\(ranks)", expected: "fewer than 2^27 simulated ranks")
        }
        if model.network == .full {
            guard ranks <= 4096 else {
                throw TorusError.invalidValue(name: "--network full", value: "\(ranks) ranks", expected: "at most 4096 ranks (a link per pair)")
            }
        }
        if request.payload {
            guard ranks * (request.bytes * 2) <= 8 << 30 else {
                throw TorusError.invalidValue(name: "--payload", value: "\(ranks) ranks × \(request.bytes) bytes",
                                              expected: "at most 8 GiB of buffers in payload mode; drop --payload for timing only")
            }
        }
        cpuFree = AlignedArray(repeating: 0, count: ranks)
        engineFree = AlignedArray(repeating: 0, count: machine.nodeCount)
        let links = model.network == .torus ? machine.directedLinkCount : 0
        linkFree = AlignedArray(repeating: 0, count: links)
        linkBytes = AlignedArray(repeating: 0, count: links)
        pairFree = AlignedArray(repeating: 0, count: model.network == .full ? ranks * ranks : 0)

        // Every rank's schedule, compacted; built on all cores.
        let count = self.count
        var perRank = [[(label: String, steps: [CompactStep])]?](repeating: nil, count: ranks)
        var scratchCounts = [Int](repeating: 0, count: ranks)
        let failure = ErrorList()
        perRank.withUnsafeMutableBufferPointer { out in
            scratchCounts.withUnsafeMutableBufferPointer { sc in
                let o = out.baseAddress!, s = sc.baseAddress!
                DispatchQueue.concurrentPerform(iterations: ranks) { g in
                    do {
                        let schedule = try request.algorithm.schedule(topology: request.groups[Int(rankGroup[g])], rank: Int(rankInGroup[g]), count: count)
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
        var list: [StreamState] = [], firstStream: [Int] = [], stepBases: [Int] = [], labels: [String] = []
        var totalSegments = 0
        let segmentElements = self.segmentElements
        func segments(_ n: Int) -> Int { n == 0 ? 0 : segmentElements == Int.max ? 1 : (n + segmentElements - 1) / segmentElements }
        let stepCount = perRank.reduce(0) { $0 + $1!.reduce(0) { $0 + $1.steps.count } }
        guard stepCount < Int(Int32.max) else {
            throw TorusError.invalidValue(name: "ranks", value: "\(ranks)", expected: "fewer than 2^31 schedule steps in all (fewer ranks or a larger --bytes per step)")
        }
        let allSteps = AlignedArray(repeating: CompactStep(kind: 0, aScratch: false, bScratch: false, peer: 0, a: 0, b: 0, count: 0), count: stepCount)
        var filled = 0
        for g in 0..<ranks {
            firstStream.append(list.count)
            for (index, (label, steps)) in perRank[g]!.enumerated() {
                list.append(StreamState(rank: Int32(g), index: Int32(index), stepEnd: Int32(filled + steps.count), step: Int32(filled)))
                stepBases.append(filled)
                for step in steps {
                    allSteps.base[filled] = step
                    filled += 1
                    totalSegments += segments(Int(step.count))
                }
                labels.append(label)
            }
            perRank[g] = nil
        }
        firstStream.append(list.count)
        streamCount = list.count
        guard streamCount < 1 << 30 else {
            throw TorusError.invalidValue(name: "ranks", value: "\(ranks)", expected: "fewer streams in all")
        }
        guard scratchCounts.allSatisfy({ $0 < scratchBase }) else {
            throw TorusError.invalidValue(name: "--bytes", value: "\(request.bytes)", expected: "a buffer whose schedule needs fewer than 2^30 scratch elements")
        }
        self.stepBases = stepBases
        self.allSteps = allSteps
        self.labels = labels
        self.totalSegments = totalSegments
        streamStore = AlignedArray(repeating: StreamState(rank: 0, index: 0, stepEnd: 0, step: 0), count: streamCount)
        streams = streamStore.base
        for (i, st) in list.enumerated() { streams[i] = st }
        recvRing = AlignedArray(repeating: 0, count: streamCount * model.window)
        let blank = RecentOp(access: Access(a: .empty, aWrites: false, b: .empty), done: 0, issue: 0, targetReady: 0, serial: 0, step: 0,
                             peer: 0, recvSlot: -1, kind: 0)
        opStore = AlignedArray(repeating: blank, count: streamCount * slabStride)
        ops = opStore.base
        waiters = AlignedArray(repeating: Waiter(src: -1, serial: -1), count: streamCount * model.window)
        early = AlignedArray(repeating: [], count: streamCount)
        traceStart = AlignedArray(repeating: .nan, count: request.trace ? stepCount : 0)
        traceEnd = AlignedArray(repeating: 0, count: request.trace ? stepCount : 0)
        payload = request.payload ? PayloadBuffers(type: request.type, ranks: rankInGroup, count: count, scratchCounts: scratchCounts) : nil

        // Partitions: contiguous ranges of nodes.
        let nodes = machine.nodeCount
        let big = request.payload ? ranks * request.bytes >= 64 << 20 : nodes >= 512
        var n = max(1, min(request.threads ?? (big ? min(ProcessInfo.processInfo.activeProcessorCount, 8) : 1), nodes))
        var nodePartition = (0..<nodes).map { Int32($0 * n / nodes) }
        // The lookahead: how soon after the moment a partition hands something over it can be due.
        // A message arrives `linkLatency` after its tail left the last link, and its tail is at
        // least the smallest segment's bytes behind its head; a head that crosses into another
        // partition on the way (a route of several hops) is due there `hopDelay` later.
        var smallest = Int.max, crossesOnTheWay = false
        var routesSeen = Set<Int>()
        for st in list {
            let g = Int(st.rank)
            for k in Int(st.step) ..< Int(st.stepEnd) where allSteps.base[k].kind == CompactStep.send {
                let c = Int(allSteps.base[k].count)
                smallest = min(smallest, c == 0 ? 0 : c % segmentElements == 0 ? min(c, segmentElements) : c % segmentElements)
                guard n > 1, model.network == .torus, !crossesOnTheWay else { continue }
                var node = rankNode[g]
                let destination = rankNode[groupFirstRank[Int(rankGroup[g])] + Int(allSteps.base[k].peer)]
                guard routesSeen.insert(node * nodes + destination).inserted else { continue }
                while node != destination {
                    let next = PredictorRun.nextHop(machine, strides, from: node, to: destination).next
                    if next != destination && nodePartition[next] != nodePartition[node] { crossesOnTheWay = true }
                    node = next
                }
            }
        }
        let arrival = model.linkLatency + Double(smallest == Int.max ? 0 : smallest * elementSize) / model.linkBandwidth
        // A hair short, so rounding in `time + busy + latency` cannot land inside the window.
        lookahead = (crossesOnTheWay ? min(arrival, model.hopDelay) : arrival) * (1 - 1e-9)
        if !(lookahead > 0) || !lookahead.isFinite {
            n = 1
            nodePartition = Array(repeating: 0, count: nodes)
        }
        partitions = n
        let streamPartition = list.map { nodePartition[rankNode[Int($0.rank)]] }
        readOnly = (AlignedArray(rankNode), AlignedArray(firstStream), AlignedArray(groupFirstRank), AlignedArray(rankGroup),
                    AlignedArray(streamPartition), AlignedArray(nodePartition))
        tables = Tables(streams: streams, ops: ops, steps: allSteps.base, waiters: waiters.base, early: early.base, recvRing: recvRing.base,
                        cpuFree: cpuFree.base, engineFree: engineFree.base, linkFree: linkFree.base, pairFree: pairFree.base,
                        traceStart: traceStart.base, traceEnd: traceEnd.base, linkBytes: linkBytes.base, rankNode: readOnly.rankNode.base,
                        firstStream: readOnly.firstStream.base, groupFirstRank: readOnly.groupFirstRank.base, rankGroup: readOnly.rankGroup.base,
                        streamPartition: readOnly.streamPartition.base, nodePartition: readOnly.nodePartition.base, ranks: ranks)
    }

    /// The next node on the dimension-order route from `node` to `destination` (the shorter way
    /// round, ties the + way), and the directed link to it.
    @inline(__always) static func nextHop(_ machine: TorusShape, _ strides: [Int], from node: Int, to destination: Int) -> (link: Int, next: Int) {
        var axis = 0, step = 0
        for a in 0..<machine.axisCount {
            let c = (node / strides[a]) % machine.dims[a], t = (destination / strides[a]) % machine.dims[a]
            if c != t { axis = a; step = machine.signedDistance(from: c, to: t, axis: a) > 0 ? 1 : -1; break }
        }
        let c = (node / strides[axis]) % machine.dims[axis]
        let next = (c + step + machine.dims[axis]) % machine.dims[axis]
        return ((node * machine.axisCount + axis) * 2 + (step > 0 ? 0 : 1), node + (next - c) * strides[axis])
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

    func execute(progress: ((Double) -> Void)?) throws -> Prediction {
        let started = Date()
        let n = partitions
        let sync = WindowSync(partitions: n)
        let parts = UnsafeMutablePointer<Partition>.allocate(capacity: n)
        for p in 0..<n { (parts + p).initialize(to: Partition(run: self, index: p, sync: sync)) }
        defer {
            parts.deinitialize(count: n)
            parts.deallocate()
        }
        if n == 1 {
            parts[0].runAlone(progress: progress)
        } else {
            let group = DispatchGroup()
            let shared = SendablePointer(parts)
            for p in 1..<n {
                group.enter()
                let thread = Thread {
                    shared.pointer[p].runWindows(progress: nil)
                    group.leave()
                }
                thread.stackSize = 8 << 20
                thread.start()
            }
            parts[0].runWindows(progress: progress)
            group.wait()
        }
        let events = (0..<n).reduce(0) { $0 + parts[$1].events }
        let messageCount = (0..<n).reduce(0) { $0 + parts[$1].messageCount }
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
        if let payload {
            // Every rank's result against the expected pattern, on all cores.
            let patterns = try request.groups.map { try VerifiableInputs.expectedPattern(kernel: kernel, ranks: $0.size) }
            var counts = [Int](repeating: 0, count: payload.data.count)
            let data = payload.data, type = request.type, groupOf = rankGroup
            counts.withUnsafeMutableBufferPointer { out in
                let o = out.baseAddress!
                DispatchQueue.concurrentPerform(iterations: data.count) { g in
                    (o + g).pointee = VerifiableInputs.countWrong(UnsafeRawBufferPointer(data[g]), pattern: patterns[Int(groupOf[g])], type: type)
                }
            }
            wrong = counts.reduce(0, +)
        }
        var trace: [TraceSlice] = []
        if request.trace {
            for (si, s) in UnsafeBufferPointer(start: streams, count: streamCount).enumerated() {
                let g = Int(s.rank)
                for k in stepBases[si] ..< Int(s.stepEnd) where !traceStart.base[k].isNaN {
                    trace.append(TraceSlice(rank: Int(rankInGroup[g]), group: Int(rankGroup[g]), stream: Int(s.index), part: labels[si],
                                            label: describe(allSteps.base[k]), start: traceStart.base[k], end: traceEnd.base[k]))
                }
            }
        }
        progress?(1)
        return Prediction(request: request, time: groupTimes.max() ?? 0, groupTimes: groupTimes,
                          linkBytes: Array(UnsafeBufferPointer(start: linkBytes.base, count: linkBytes.count)),
                          messages: messageCount, events: events, wrongElements: wrong, trace: trace,
                          wallSeconds: Date().timeIntervalSince(started), threads: n)
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
}

/// A pointer handed to another thread (the partitions it points at are each used by one thread).
private struct SendablePointer<T>: @unchecked Sendable {
    let pointer: UnsafeMutablePointer<T>
    init(_ pointer: UnsafeMutablePointer<T>) { self.pointer = pointer }
}

/// Where the partitions meet between windows: a barrier, each partition's next event time and
/// progress, and the handovers from each partition to each other (`outboxes[from · n + to]`).
private final class WindowSync: @unchecked Sendable {
    let partitions: Int
    let arrived = Atomic<Int>(0)
    let generation = Atomic<Int>(0)
    let nextTime: AlignedArray<Double>
    let done: AlignedArray<Int>
    let outboxes: AlignedArray<[Handover]>

    init(partitions: Int) {
        self.partitions = partitions
        nextTime = AlignedArray(repeating: 0, count: partitions)
        done = AlignedArray(repeating: 0, count: partitions)
        outboxes = AlignedArray(repeating: [], count: partitions * partitions)
    }

    /// Returns once every partition has called it. Spins (windows are short), then yields the core
    /// to whatever else wants it, then sleeps: a busy machine must not turn the wait into a fight
    /// for cores.
    func wait() {
        let current = generation.load(ordering: .acquiring)
        if arrived.add(1, ordering: .acquiringAndReleasing).newValue == partitions {
            arrived.store(0, ordering: .relaxed)
            sleepers.lock()
            generation.store(current + 1, ordering: .releasing)
            sleepers.broadcast()
            sleepers.unlock()
            return
        }
        for _ in 0..<WindowSync.spins where generation.load(ordering: .acquiring) != current { return }
        for _ in 0..<WindowSync.yields {
            if generation.load(ordering: .acquiring) != current { return }
            sched_yield()
        }
        sleepers.lock()
        while generation.load(ordering: .acquiring) == current { sleepers.wait() }
        sleepers.unlock()
    }

    static let spins = 4096, yields = 1000
    let sleepers = NSCondition()
}

/// One partition of the run: its events, its messages in flight, its counters. Runs alone (one
/// partition) or in windows with the others.
private struct Partition {
    let run: PredictorRun
    let index: Int
    let sync: WindowSync
    var heap = EventHeap()
    /// Messages whose head waits to enter the next link, by sending stream and serial.
    var inFlight: [UInt64: Message] = [:]
    /// Payload mode: the data of messages on their way to another partition's rank, taken when sent.
    var carried: [UInt64: [UInt8]] = [:]
    var events = 0
    var messageCount = 0
    var doneSegments = 0
    /// The end of the current window: nothing handed over may be due earlier.
    var windowEnd = Double.infinity
    /// The time of the event being handled: nothing may be scheduled earlier.
    var now = 0.0

    let t: Tables
    let model: NetworkModel
    let machine: TorusShape
    let slab: Int, slabStride: Int, segmentElements: Int, elementSize: Int
    let payloadMode: Bool, traceMode: Bool

    init(run: PredictorRun, index: Int, sync: WindowSync) {
        self.run = run
        self.index = index
        self.sync = sync
        t = run.tables
        model = run.model
        machine = run.machine
        slab = run.slab
        slabStride = run.slabStride
        segmentElements = run.segmentElements
        elementSize = run.elementSize
        payloadMode = run.request.payload
        traceMode = run.request.trace
    }

    var streams: UnsafeMutablePointer<StreamState> { t.streams }
    var ops: UnsafeMutablePointer<RecentOp> { t.ops }

    mutating func schedule(_ time: Double, _ kind: Int32, _ a: Int32, _ b: Int32) {
        // Events in time order is what makes links, CPUs and engines FIFO (and windows sound).
        precondition(time >= now, "predictor: an event scheduled at \(time) s, before the one being handled (\(now) s)")
        heap.push(Event(time: time, kind: kind, a: a, b: b))
    }

    /// Issues the first segments of the partition's streams.
    mutating func start() {
        for s in 0..<run.streamCount where Int(t.streamPartition[s]) == index { advance(s) }
    }

    mutating func process(_ e: Event) {
        now = e.time
        events += 1
        switch e.kind {
        case PredictorRun.issueSend: startSend(stream: Int(e.a), serial: e.b, at: e.time)
        case PredictorRun.hop:
            let m = inFlight.removeValue(forKey: Partition.key(e.a, e.b))!
            hop(m, at: e.time)
        default: startReduction(stream: Int(e.a), serial: e.b, at: e.time)
        }
    }

    mutating func runAlone(progress: ((Double) -> Void)?) {
        start()
        var nextReport = 1 << 16
        while !heap.isEmpty {
            process(heap.pop())
            if events >= nextReport {
                nextReport += 1 << 16
                progress?(Double(doneSegments) / Double(max(1, run.totalSegments)))
            }
        }
    }

    /// Conservative parallel run: every partition handles its events earlier than the window's end
    /// (the earliest pending event anywhere plus the lookahead), then takes over what the others
    /// handed it. Nothing handed over is due before the window's end, so the result is the one a
    /// single partition computes.
    mutating func runWindows(progress: ((Double) -> Void)?) {
        let n = sync.partitions
        start()
        var nextReport = 1 << 16
        while true {
            for from in 0..<n where from != index {
                let box = sync.outboxes.base + (from * n + index)
                for h in box.pointee { take(h) }
                box.pointee.removeAll(keepingCapacity: true)
            }
            sync.nextTime.base[index] = heap.isEmpty ? .infinity : heap.items[0].time
            sync.done.base[index] = doneSegments
            sync.wait()
            var begin = Double.infinity, done = 0
            for p in 0..<n {
                begin = min(begin, sync.nextTime.base[p])
                done += sync.done.base[p]
            }
            if begin == .infinity { break }
            if let progress, events >= nextReport {
                nextReport = events + (1 << 16) / n
                progress(Double(done) / Double(max(1, run.totalSegments)))
            }
            windowEnd = begin + run.lookahead
            while let top = heap.items.first, top.time < windowEnd { process(heap.pop()) }
            sync.wait()
        }
    }

    /// A message's key: its sending stream and the send's serial.
    @inline(__always) static func key(_ stream: Int32, _ serial: Int32) -> UInt64 { UInt64(UInt32(stream)) << 32 | UInt64(UInt32(bitPattern: serial)) }

    mutating func take(_ h: Handover) {
        if let data = h.payload { carried[Partition.key(h.message.stream, h.message.serial)] = data }
        switch h.kind {
        case Handover.deliver: deliver(h.message, at: h.time)
        case Handover.sendDone: sendDone(stream: Int(h.message.stream), serial: h.message.serial, at: h.time)
        default: enterNode(h.message, at: h.time)
        }
    }

    mutating func hand(_ kind: UInt8, to partition: Int32, _ m: Message, at time: Double) {
        precondition(time >= windowEnd, "predictor: a handover due at \(time) s inside the window ending at \(windowEnd) s (lookahead too long)")
        let data = kind != Handover.sendDone && !carried.isEmpty ? carried.removeValue(forKey: Partition.key(m.stream, m.serial)) : nil
        sync.outboxes.base[index * sync.partitions + Int(partition)].append(Handover(kind: kind, time: time, message: m, payload: data))
    }

    // MARK: Issue

    /// Issues the stream's segments in order for as long as nothing unfinished holds them back.
    mutating func advance(_ si: Int) {
        while true {
            let stepIndex = Int(streams[si].step)
            guard stepIndex < Int(streams[si].stepEnd) else { return }
            let step = t.steps[stepIndex]
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
                    let previous = t.recvRing[si * model.window + Int(recvSlot)]
                    if previous.isNaN { streams[si].blockedOn = -2; return }
                    ready = max(ready, previous)
                }
            }
            var targetReady = 0.0, targetPending: UInt8 = 0
            let reduces = step.kind == CompactStep.recvReduce
            let base = si * slabStride, live = Int(streams[si].opCount)
            // The request table holds `slab` ops: an op waits until every op `slab` or more before it
            // has finished (they come first: ops are kept in serial order).
            let retired = streams[si].serial &- Int32(slab)
            for k in base ..< base + live {
                let r = ops[k]
                if r.serial <= retired {
                    if r.done.isNaN { streams[si].blockedOn = r.serial; return }
                    ready = max(ready, r.done)
                }
                if access.conflicts(r.access) {
                    if r.done.isNaN { streams[si].blockedOn = r.serial; return }
                    ready = max(ready, r.done)
                }
                if reduces, target.conflicts(r.access) {
                    // Not a reason to wait: the receive may be posted, its reduction waits.
                    if r.done.isNaN { targetPending += 1 } else { targetReady = max(targetReady, r.done) }
                }
            }
            // Issued at `ready`. Earlier ops finished by then can no longer hold anything back (and
            // the retired ones all have).
            var kept = live
            if live > 4 { kept = prune(si, upTo: ready) }
            precondition(kept < slab, "predictor: a stream's request table overflowed")
            streams[si].blockedOn = -1
            if reduces { access.b = bSpan }
            streams[si].lastIssue = ready
            let serial = streams[si].serial
            streams[si].serial &+= 1
            ops[base + kept] = RecentOp(access: access, done: .nan, issue: ready, targetReady: targetReady, serial: serial,
                                        step: Int32(stepIndex), peer: step.peer, recvSlot: recvSlot, kind: step.kind, targetPending: targetPending)
            if targetPending > 0 { streams[si].targetWaiters += 1 }
            streams[si].opCount = Int32(kept + 1)
            if traceMode, at == 0 { t.traceStart[stepIndex] = ready }
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
                t.recvRing[si * model.window + Int(recvSlot)] = .nan
                streams[si].recvCount += 1
                post(stream: si, serial: serial, peer: Int(step.peer))
            default:
                schedule(ready, PredictorRun.reduce, Int32(si), serial)
            }
        }
    }

    /// Drops the stream's ops finished by `time`; returns how many remain.
    func prune(_ si: Int, upTo time: Double) -> Int {
        let base = si * slabStride
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
        var lo = si * slabStride, hi = lo + Int(streams[si].opCount)
        let end = hi
        while lo < hi {
            let mid = (lo + hi) / 2
            if ops[mid].serial < serial { lo = mid + 1 } else { hi = mid }
        }
        return lo < end && ops[lo].serial == serial ? lo : nil
    }

    /// The simulated rank of group rank `peer` in the group of rank `g`.
    @inline(__always) func peerRank(_ g: Int, _ peer: Int) -> Int { t.groupFirstRank[Int(t.rankGroup[g])] + peer }

    mutating func post(stream si: Int, serial: Int32, peer: Int) {
        let src = Int32(peerRank(Int(streams[si].rank), peer))
        let early = t.early + si
        if streams[si].earlyCount > 0, let k = early.pointee.firstIndex(where: { $0.src == src }) {
            let e = early.pointee.remove(at: k)
            streams[si].earlyCount -= 1
            received(stream: si, serial: serial, arrival: e.arrival, payload: e.payload)
        } else {
            // The receive window keeps unmatched receives at `window` or fewer.
            precondition(Int(streams[si].waiting) < model.window, "predictor: more posted receives than the window")
            t.waiters[si * model.window + Int(streams[si].waiting)] = Waiter(src: src, serial: serial)
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
            // The receive part is over: the receive window slot frees now, the reduction follows
            // (once the target is free: else the last op holding the target starts it).
            t.recvRing[si * model.window + Int(op.recvSlot)] = done
            ops[i].recvSlot = -1
            ops[i].issue = done
            if streams[si].blockedOn == -2 { advance(si) }
            if op.targetPending == 0 { schedule(max(done, op.targetReady), PredictorRun.reduce, Int32(si), serial) }
        }
    }

    // MARK: Events

    mutating func startSend(stream si: Int, serial: Int32, at time: Double) {
        guard let i = find(si, serial) else { return }
        let op = ops[i]
        ops[i].kind = CompactStep.started
        streams[si].sendsWaiting -= 1
        let end = si * slabStride + Int(streams[si].opCount)
        let later = UnsafeBufferPointer(start: ops + (i + 1), count: end - (i + 1))
        if streams[si].sendsWaiting > 0, let next = later.first(where: { $0.kind == CompactStep.send }) {
            schedule(max(time, next.issue), PredictorRun.issueSend, Int32(si), next.serial)
        } else {
            streams[si].sendEventPending = false
        }
        let g = Int(streams[si].rank)
        let dst = peerRank(g, Int(op.peer))
        let bytes = op.access.a.count * elementSize
        let cpuFree = t.cpuFree
        let inject = max(time, cpuFree[g]) + model.softwareOverhead
        cpuFree[g] = inject
        messageCount += 1
        let m = Message(src: Int32(g), stream: Int32(si), target: Int32(t.firstStream[dst] + Int(streams[si].index)), serial: serial,
                        bytes: bytes, node: t.rankNode[g], destination: t.rankNode[dst])
        if payloadMode, t.streamPartition[Int(m.target)] != index {
            // Another partition reads it: the data goes along (nothing may write the range before
            // the send completes, so it is the data the receiver would copy on delivery).
            carried[Partition.key(m.stream, serial)] = read(rank: g, at: op.access.a)
        }
        if model.network == .full {
            let pair = g * t.ranks + dst
            let pairFree = t.pairFree
            let start = max(inject, pairFree[pair])
            pairFree[pair] = start + Double(bytes) / model.linkBandwidth
            arrive(m, at: pairFree[pair] + model.linkLatency)
        } else if m.node == m.destination {
            // Ranks of one node: a copy through memory.
            arrive(m, at: inject + Double(bytes) / (model.memoryBandwidth / 2))
        } else {
            hop(m, at: inject)
        }
    }

    /// The message's head reaches the next link on its route at `time`.
    mutating func hop(_ message: Message, at time: Double) {
        var m = message
        let (link, next) = PredictorRun.nextHop(machine, run.strides, from: m.node, to: m.destination)
        let linkFree = t.linkFree
        let start = max(time, linkFree[link])
        let busy = Double(m.bytes) / model.linkBandwidth
        linkFree[link] = start + busy
        t.linkBytes[link] += m.bytes
        m.node = next
        if m.node == m.destination {
            arrive(m, at: start + busy + model.linkLatency)
        } else if t.nodePartition[m.node] == index {
            enterNode(m, at: start + model.hopDelay)
        } else {
            hand(Handover.hop, to: t.nodePartition[m.node], m, at: start + model.hopDelay)
        }
    }

    /// The message's head will reach a node of this partition at `time`.
    mutating func enterNode(_ m: Message, at time: Double) {
        inFlight[Partition.key(m.stream, m.serial)] = m
        schedule(time, PredictorRun.hop, m.stream, m.serial)
    }

    /// The message is through at `arrival`: the receiver gets it, the send is complete.
    mutating func arrive(_ m: Message, at arrival: Double) {
        let receiver = t.streamPartition[Int(m.target)], sender = t.streamPartition[Int(m.stream)]
        if receiver == index { deliver(m, at: arrival) } else { hand(Handover.deliver, to: receiver, m, at: arrival) }
        if sender == index { sendDone(stream: Int(m.stream), serial: m.serial, at: arrival) } else { hand(Handover.sendDone, to: sender, m, at: arrival) }
    }

    /// The receiver's oldest unmatched receive from the message's source completes, or the message
    /// waits. Payload: data moves now, before the send completes (until then nothing may write the
    /// sent range): from the sender's buffer when this partition owns both ends, else the data
    /// carried along.
    mutating func deliver(_ m: Message, at arrival: Double) {
        let ti = Int(m.target)
        let base = ti * model.window, n = Int(streams[ti].waiting)
        let waiters = t.waiters
        let data = payloadMode && !carried.isEmpty ? carried.removeValue(forKey: Partition.key(m.stream, m.serial)) : nil
        let sender = payloadMode && data == nil ? find(Int(m.stream), m.serial) : nil
        if let k = (base ..< base + n).first(where: { waiters[$0].src == m.src }) {
            let serial = waiters[k].serial
            for j in k ..< base + n - 1 { waiters[j] = waiters[j + 1] }
            streams[ti].waiting -= 1
            if payloadMode, let r = find(ti, serial) {
                if let data { write(data, rank: Int(streams[ti].rank), at: ops[r].access.a) }
                else if let sender { copy(from: Int(m.src), ops[sender].access.a, to: Int(streams[ti].rank), ops[r].access.a) }
            }
            received(stream: ti, serial: serial, arrival: arrival, payload: nil)
        } else {
            let payload = data ?? sender.map { read(rank: Int(m.src), at: ops[$0].access.a) }
            t.early[ti].append(Early(src: m.src, arrival: arrival, payload: payload))
            streams[ti].earlyCount += 1
        }
    }

    /// The sender's segment is complete.
    mutating func sendDone(stream si: Int, serial: Int32, at arrival: Double) {
        if let i = find(si, serial) { resolve(stream: si, index: i, at: arrival) }
    }

    mutating func startReduction(stream si: Int, serial: Int32, at time: Double) {
        guard let i = find(si, serial) else { return }
        let op = ops[i]
        let g = Int(streams[si].rank)
        let node = t.rankNode[g]
        let rate = op.kind == CompactStep.copy ? model.memoryBandwidth / 2 : model.reductionRate
        let engineFree = t.engineFree
        let start = max(time, engineFree[node])
        let done = rate.isInfinite ? start : start + Double(op.access.a.count * elementSize) / rate
        engineFree[node] = done
        if payloadMode {
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
        if streams[si].targetWaiters > 0 { freeTargets(si, after: i, at: time) }
        if op.recvSlot >= 0 { t.recvRing[si * model.window + Int(op.recvSlot)] = time }
        streams[si].finish = max(streams[si].finish, time)
        if traceMode {
            let k = Int(op.step)
            t.traceEnd[k] = max(t.traceEnd[k], time)
        }
        doneSegments += 1
        // Only the op the stream waits for (or a receive, for a full window) can let it go on.
        let blocked = streams[si].blockedOn
        if blocked == -1 || blocked == op.serial || (blocked == -2 && op.recvSlot >= 0) { advance(si) }
    }

    /// The stream's op at `i` finished at `time`: later receive-and-reduce ops whose target it
    /// touched have one op fewer to wait for; the reduction of one with none left and its receive
    /// over starts.
    mutating func freeTargets(_ si: Int, after i: Int, at time: Double) {
        let finished = ops[i].access
        for k in i + 1 ..< si * slabStride + Int(streams[si].opCount) where ops[k].targetPending > 0 {
            guard Access(a: .empty, aWrites: false, b: ops[k].access.b).conflicts(finished) else { continue }
            ops[k].targetReady = max(ops[k].targetReady, time)
            ops[k].targetPending -= 1
            if ops[k].targetPending == 0 {
                streams[si].targetWaiters -= 1
                if ops[k].recvSlot == -1 { schedule(max(ops[k].issue, ops[k].targetReady), PredictorRun.reduce, Int32(si), ops[k].serial) }
            }
        }
    }

    // MARK: Payload

    func read(rank g: Int, at span: Span) -> [UInt8] {
        let from = run.payload!.pointer(rank: g, span, elementSize: elementSize)
        return Array(UnsafeRawBufferPointer(start: from, count: span.count * elementSize))
    }

    func write(_ bytes: [UInt8], rank g: Int, at span: Span) {
        guard !bytes.isEmpty else { return }
        let to = run.payload!.pointer(rank: g, span, elementSize: elementSize)
        bytes.withUnsafeBytes { to.copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
    }

    /// Copies a span of rank `src` to a span of rank `dst` (data or scratch).
    func copy(from src: Int, _ a: Span, to dst: Int, _ b: Span) {
        let buffers = run.payload!
        buffers.pointer(rank: dst, b, elementSize: elementSize)
            .copyMemory(from: buffers.pointer(rank: src, a, elementSize: elementSize), byteCount: a.count * elementSize)
    }

    /// target = target op source, both spans of rank g (the target in data, the source in data or scratch).
    func combine(rank g: Int, target: Span, source: Span) {
        let buffers = run.payload!
        run.kernel.accumulate(into: buffers.pointer(rank: g, target, elementSize: elementSize),
                              UnsafeRawPointer(buffers.pointer(rank: g, source, elementSize: elementSize)), count: target.count)
    }
}
