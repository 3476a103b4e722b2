import TorusCore
import TorusSchedules

/// How the executor cuts and overlaps work.
public struct ExecutorOptions: Sendable, Hashable {
    /// Steps larger than this are cut into segments of this size (rounded down to whole elements),
    /// so that one segment is reduced while the next is on the wire.
    public var segmentBytes: Int
    /// Receives of one stream that may be posted at once (how far ahead receives are posted).
    /// Sends are not limited: holding a send back behind receives that wait for the peer's sends
    /// could deadlock against a peer doing the same.
    public var window: Int
    /// Tags used: `tagBase + stream index`.
    public var tagBase: Int

    public init(segmentBytes: Int = 1 << 20, window: Int = 16, tagBase: Int = 100) {
        self.segmentBytes = segmentBytes
        self.window = window
        self.tagBase = tagBase
    }
}

/// Runs one rank's schedule over a transport: the one place where schedule, transport and
/// reduction kernels meet.
///
/// A single progress loop drives all streams. Steps are cut into segments; segments of a stream are
/// issued in order, and a segment starts as soon as it does not conflict with an unfinished earlier
/// segment of its stream (it writes nothing they touch and reads nothing they write) — so
/// receives are posted ahead, chains pipeline, and a reduction of one segment overlaps the
/// transfer of the next. Sends and receives of a stream keep their order per peer, which is what
/// pairs them with the peer's (same tag, non-overtaking delivery).
public struct ScheduleExecutor {
    public var options: ExecutorOptions

    public init(options: ExecutorOptions = ExecutorOptions()) {
        self.options = options
    }

    /// Runs `schedule` on `data` (its `count` elements of `kernel.type`), with scratch space from
    /// `scratch`. With an `input` buffer (out of place) the data starts as a copy of it — but no
    /// copy is made up front: a range the schedule has not written yet is sent straight from the
    /// input, and the first reduction into it reads the input (`data = input op received`), so
    /// the input is read once, as part of the work; whatever the schedule never writes is copied
    /// at the end.
    public func run(_ schedule: Schedule, data: UnsafeMutableRawPointer, input: UnsafeRawPointer? = nil, kernel: ReductionKernel,
                    transport: Transport, engine: ReductionEngine, scratch space: ScratchSpace) throws {
        let size = kernel.type.size
        guard schedule.stepCount > 0 else {
            if let input, input != UnsafeRawPointer(data) { data.copyMemory(from: input, byteCount: schedule.count * size) }
            return
        }
        let scratch = space.buffer(bytes: schedule.scratchCount * size)
        var run = ExecutorRun(schedule: schedule, data: data, scratch: scratch, elementSize: size,
                              segmentElements: max(1, options.segmentBytes / size), options: options,
                              kernel: kernel, transport: transport, engine: engine)
        if let input, input != UnsafeRawPointer(data) {
            run.input = input
            run.fresh = IntervalSet(0 ..< schedule.count * size)
        }
        try run.execute()
    }
}

/// The state of one execution.
private struct ExecutorRun {
    enum Kind { case send, recv, recvReduce, reduce, copy }
    enum State { case waiting, transferring(TransportRequest), received, reducing(ReductionTicket), done }

    /// One segment of one step, with its memory in bytes.
    struct Op {
        var kind: Kind
        var peer: Int
        /// The bytes the segment reads and writes, as (buffer, lower, upper) for conflict checks.
        var reads: [(BufferKind, Int, Int)]
        var writes: [(BufferKind, Int, Int)]
        /// send: source; recv: destination; recvReduce: scratch then target; reduce/copy: source, target.
        var first: UnsafeMutableRawPointer
        var second: UnsafeMutableRawPointer?
        var bytes: Int
        var state: State = .waiting
    }

    var streams: [[Op]] = []
    let data: UnsafeMutableRawPointer
    /// The out-of-place input, and the byte ranges of `data` not written yet (still equal to it).
    var input: UnsafeRawPointer?
    var fresh = IntervalSet()
    /// Receive-and-reduce segments whose data has arrived but whose reduction has not started.
    var receivedWaiting = 0
    var nextIssue: [Int]
    var firstPending: [Int]
    var postedReceives: [Int]
    var inFlight: [TransportRequest: (stream: Int, op: Int)] = [:]
    var reducing: [(stream: Int, op: Int)] = []
    let elementSize: Int
    let options: ExecutorOptions
    let kernel: ReductionKernel
    let transport: Transport
    let engine: ReductionEngine

    init(schedule: Schedule, data: UnsafeMutableRawPointer, scratch: UnsafeMutableRawPointer, elementSize: Int,
         segmentElements: Int, options: ExecutorOptions, kernel: ReductionKernel, transport: Transport, engine: ReductionEngine) {
        self.elementSize = elementSize
        self.data = data
        self.options = options
        self.kernel = kernel
        self.transport = transport
        self.engine = engine
        func address(_ r: Region, _ at: Int) -> UnsafeMutableRawPointer {
            (r.buffer == .data ? data : scratch) + (r.offset + at) * elementSize
        }
        func span(_ r: Region, _ at: Int, _ n: Int) -> (BufferKind, Int, Int) {
            (r.buffer, (r.offset + at) * elementSize, (r.offset + at + n) * elementSize)
        }
        for stream in schedule.streams {
            var ops: [Op] = []
            for step in stream.steps {
                let n = step.count
                var at = 0
                while at < n {
                    let m = min(segmentElements, n - at)
                    let bytes = m * elementSize
                    switch step {
                    case let .send(peer, r):
                        ops.append(Op(kind: .send, peer: peer, reads: [span(r, at, m)], writes: [], first: address(r, at), bytes: bytes))
                    case let .recv(peer, r):
                        ops.append(Op(kind: .recv, peer: peer, reads: [], writes: [span(r, at, m)], first: address(r, at), bytes: bytes))
                    case let .recvReduce(peer, s, t):
                        ops.append(Op(kind: .recvReduce, peer: peer, reads: [span(t, at, m)], writes: [span(s, at, m), span(t, at, m)],
                                      first: address(s, at), second: address(t, at), bytes: bytes))
                    case let .reduce(s, t):
                        ops.append(Op(kind: .reduce, peer: -1, reads: [span(s, at, m), span(t, at, m)], writes: [span(t, at, m)],
                                      first: address(s, at), second: address(t, at), bytes: bytes))
                    case let .copy(s, t):
                        ops.append(Op(kind: .copy, peer: -1, reads: [span(s, at, m)], writes: [span(t, at, m)],
                                      first: address(s, at), second: address(t, at), bytes: bytes))
                    }
                    at += m
                }
            }
            streams.append(ops)
        }
        nextIssue = Array(repeating: 0, count: streams.count)
        firstPending = Array(repeating: 0, count: streams.count)
        postedReceives = Array(repeating: 0, count: streams.count)
    }

    mutating func execute() throws {
        do {
            try progress()
        } catch {
            // Nothing may write into the caller's buffers after we return: withdraw every request
            // and let every reduction finish.
            for request in inFlight.keys { transport.cancel(request) }
            for (s, i) in reducing { if case let .reducing(ticket) = streams[s][i].state { engine.wait(ticket) } }
            throw error
        }
    }

    mutating func progress() throws {
        while true {
            var progressed = false
            for s in streams.indices {
                while try issue(s) { progressed = true }
            }
            if pollReductions() { progressed = true }
            if reduceReceived() { progressed = true }
            if firstPending.enumerated().allSatisfy({ $0.element == streams[$0.offset].count }) {
                materialize(0, Int.max)
                return
            }
            if progressed { continue }
            if inFlight.isEmpty {
                // Only reductions are outstanding (a threaded engine): wait for the oldest.
                if let (s, i) = reducing.first, case let .reducing(ticket) = streams[s][i].state {
                    engine.wait(ticket)
                    continue
                }
                throw TorusError.communication("executor stalled: no request in flight and no step can start (a schedule bug)")
            }
            if !reducing.isEmpty {
                // Keep reductions moving: test instead of blocking on the network.
                for request in Array(inFlight.keys) where try transport.test(request) { try complete(request) }
                continue
            }
            let requests = Array(inFlight.keys)
            let index = try transport.waitAny(requests)
            try complete(requests[index])
        }
    }

    /// Starts the next op of stream `s` if the window and its conflicts allow.
    mutating func issue(_ s: Int) throws -> Bool {
        let i = nextIssue[s]
        guard i < streams[s].count else { return false }
        let op = streams[s][i]
        if (op.kind == .recv || op.kind == .recvReduce) && postedReceives[s] >= options.window { return false }
        // A receive-and-reduce only needs its scratch to start; its reduction waits separately
        // (see `reduceReceived`). Holding the receive back until, say, an earlier send of the same
        // range completes would deadlock against an MPI rendezvous send waiting for this receive.
        var transfer = op
        if op.kind == .recvReduce { transfer.reads = []; transfer.writes = [op.writes[0]] }
        if hasConflict(transfer, stream: s, before: i) { return false }
        let tag = options.tagBase + s
        switch op.kind {
        case .send:
            // A range not written yet still equals the input: send it from there.
            let (_, lo, hi) = op.reads[0]
            var source = UnsafeRawPointer(op.first)
            if op.reads[0].0 == .data, let input, !fresh.isEmpty {
                if fresh.contains(lo, hi) { source = input + lo } else { materialize(lo, hi) }
            }
            let r = try transport.isend(UnsafeRawBufferPointer(start: source, count: op.bytes), to: op.peer, tag: tag)
            streams[s][i].state = .transferring(r)
            inFlight[r] = (s, i)
        case .recv, .recvReduce:
            if op.kind == .recv, op.writes[0].0 == .data { fresh.remove(op.writes[0].1, op.writes[0].2) }
            let r = try transport.irecv(UnsafeMutableRawBufferPointer(start: op.first, count: op.bytes), from: op.peer, tag: tag)
            streams[s][i].state = .transferring(r)
            inFlight[r] = (s, i)
            postedReceives[s] += 1
        case .reduce:
            for (buffer, lo, hi) in op.reads where buffer == .data { materialize(lo, hi) }
            startReduction(s, i, source: op.first, target: op.second!)
        case .copy:
            for (buffer, lo, hi) in op.reads where buffer == .data { materialize(lo, hi) }
            if op.writes[0].0 == .data { fresh.remove(op.writes[0].1, op.writes[0].2) }
            op.second!.copyMemory(from: op.first, byteCount: op.bytes)
            finish(s, i)
        }
        nextIssue[s] = i + 1
        return true
    }

    /// Whether `op` conflicts with an unfinished op of stream `s` before index `i`.
    func hasConflict(_ op: Op, stream s: Int, before i: Int) -> Bool {
        for j in firstPending[s]..<i {
            if case .done = streams[s][j].state { continue }
            if conflicts(op, streams[s][j]) { return true }
        }
        return false
    }

    /// Starts the reductions of received segments whose targets no earlier op still uses.
    mutating func reduceReceived() -> Bool {
        guard receivedWaiting > 0 else { return false }
        var any = false
        for s in streams.indices {
            for i in firstPending[s]..<nextIssue[s] {
                guard case .received = streams[s][i].state else { continue }
                var target = streams[s][i]
                target.writes = [target.writes[1]]
                if hasConflict(target, stream: s, before: i) { continue }
                receivedWaiting -= 1
                startReduction(s, i, source: target.first, target: target.second!)
                any = true
            }
        }
        return any
    }

    func conflicts(_ a: Op, _ b: Op) -> Bool {
        func overlap(_ x: [(BufferKind, Int, Int)], _ y: [(BufferKind, Int, Int)]) -> Bool {
            x.contains { p in y.contains { q in p.0 == q.0 && p.1 < q.2 && q.1 < p.2 } }
        }
        return overlap(a.writes, b.reads) || overlap(a.writes, b.writes) || overlap(a.reads, b.writes)
    }

    mutating func complete(_ request: TransportRequest) throws {
        guard let (s, i) = inFlight.removeValue(forKey: request) else { return }
        let op = streams[s][i]
        if op.kind == .recv || op.kind == .recvReduce { postedReceives[s] -= 1 }
        if op.kind == .recvReduce {
            streams[s][i].state = .received
            receivedWaiting += 1
            _ = reduceReceived()
        } else {
            finish(s, i)
        }
    }

    mutating func startReduction(_ s: Int, _ i: Int, source: UnsafeMutableRawPointer, target: UnsafeMutableRawPointer) {
        // The first reduction into a range not written yet combines the input with what arrived.
        var left = UnsafeRawPointer(target)
        let bytes = streams[s][i].bytes
        if let input, !fresh.isEmpty {
            let lo = target - data, hi = lo + bytes
            if fresh.contains(lo, hi) {
                left = input + lo
                fresh.remove(lo, hi)
            } else {
                materialize(lo, hi)
            }
        }
        let ticket = engine.submit(kernel, into: target, left, source, count: bytes / elementSize)
        streams[s][i].state = .reducing(ticket)
        reducing.append((s, i))
        _ = pollReductions()
    }

    /// Retires finished reductions; true if any finished.
    mutating func pollReductions() -> Bool {
        var still: [(stream: Int, op: Int)] = []
        var finished: [(stream: Int, op: Int)] = []
        for entry in reducing {
            if case let .reducing(ticket) = streams[entry.stream][entry.op].state, !engine.poll(ticket) {
                still.append(entry)
            } else {
                finished.append(entry)
            }
        }
        reducing = still
        for entry in finished { finish(entry.stream, entry.op) }
        return !finished.isEmpty
    }

    /// Copies the input into the not-yet-written parts of data bytes [lo, hi).
    mutating func materialize(_ lo: Int, _ hi: Int) {
        guard let input, !fresh.isEmpty else { return }
        for (a, b) in fresh.pieces(lo, hi) { (data + a).copyMemory(from: input + a, byteCount: b - a) }
        fresh.remove(lo, hi)
    }

    mutating func finish(_ s: Int, _ i: Int) {
        streams[s][i].state = .done
        advance(s)
    }

    mutating func advance(_ s: Int) {
        while firstPending[s] < streams[s].count, case .done = streams[s][firstPending[s]].state { firstPending[s] += 1 }
    }
}

/// A set of disjoint byte ranges, kept sorted.
struct IntervalSet {
    private var ranges: [(Int, Int)] = []

    init() {}
    init(_ r: Range<Int>) { if !r.isEmpty { ranges = [(r.lowerBound, r.upperBound)] } }

    var isEmpty: Bool { ranges.isEmpty }

    /// Whether [lo, hi) lies inside one range of the set.
    func contains(_ lo: Int, _ hi: Int) -> Bool {
        ranges.contains { $0.0 <= lo && hi <= $0.1 }
    }

    /// The parts of the set inside [lo, hi).
    func pieces(_ lo: Int, _ hi: Int) -> [(Int, Int)] {
        ranges.compactMap { r in
            let a = max(r.0, lo), b = min(r.1, hi)
            return a < b ? (a, b) : nil
        }
    }

    /// Removes [lo, hi) from the set.
    mutating func remove(_ lo: Int, _ hi: Int) {
        guard lo < hi else { return }
        var out: [(Int, Int)] = []
        for r in ranges {
            if r.1 <= lo || hi <= r.0 { out.append(r); continue }
            if r.0 < lo { out.append((r.0, lo)) }
            if hi < r.1 { out.append((hi, r.1)) }
        }
        ranges = out
    }
}
