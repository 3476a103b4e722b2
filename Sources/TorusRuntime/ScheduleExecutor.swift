import TorusCore
import TorusSchedules

/// How the executor cuts and overlaps work: the shared issue rules, and the tags it uses.
public struct ExecutorOptions: Sendable, Hashable {
    /// Segment size and receive window (`IssueRules`, shared with the predictor).
    public var rules: IssueRules
    /// Tags used: `tagBase + stream index` (see `MessageTags` for why streams pair up).
    public var tagBase: Int
    /// The stall watch (`TORUS_TIMEOUT`): after this many seconds with no message completing while
    /// the executor waits on the network, it reports what it waits for (`ScheduleExecutor.onStall`);
    /// 0 waits without a limit.
    public var stallSeconds: Double = 0

    public init(rules: IssueRules = IssueRules(), tagBase: Int = MessageTags.streams) {
        self.rules = rules
        self.tagBase = tagBase
    }

    /// Steps larger than this are cut into segments (0: never cut).
    public var segmentBytes: Int {
        get { rules.segmentBytes }
        set { rules.segmentBytes = newValue }
    }
}

/// What the executor did, segment by segment, for tests that hold it against the predictor.
public enum ExecutorEvent: Sendable, Equatable {
    /// Stream `stream` issued its segment `serial` (it touches `access`).
    case issued(stream: Int, serial: Int32, kind: SegmentKind, peer: Int32, access: SegmentAccess)
    /// The receive of a receive-and-reduce is over.
    case received(stream: Int, serial: Int32)
    /// A receive-and-reduce's reduction was started.
    case reductionStarted(stream: Int, serial: Int32)
    /// The segment finished.
    case finished(stream: Int, serial: Int32)
}

/// Runs one rank's schedule over a transport: the one place where schedule, transport and
/// reduction kernels meet.
///
/// A single progress loop drives all streams. Which segment may start when is decided by
/// `IssueRules` (shared with the predictor); this type only carries the decisions out — posts the
/// sends and receives, hands reductions to the engine — and reports completions back to the rules.
public struct ScheduleExecutor {
    public var options: ExecutorOptions
    /// Called for every issue and completion (tests only; nil in normal use).
    public var observer: ((ExecutorEvent) -> Void)?
    /// Called when nothing completed for `options.stallSeconds` while waiting: throwing ends the run
    /// (its requests withdrawn), returning keeps waiting (and reports again after as long).
    public var onStall: ((ExecutorStall) throws -> Void)?

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
        try run(RunStorage(schedule, rules: options.rules, elementSize: kernel.type.size), data: data, input: input, kernel: kernel,
                transport: transport, engine: engine, scratch: space)
    }

    /// Runs `algorithm`'s schedule of `collective` on `count` elements (the data buffer's) as
    /// `run(_:…)` does. A call like a recent one (same algorithm, collective, count, element size and options) takes its schedule's tables from
    /// `scratch`'s cache (`RunCache`): nothing is built and nothing allocated. `build` makes the
    /// schedule (this rank's, on this group) when the cache lacks it.
    /// `result`: the elements of `data` the caller reads afterwards (a ReduceScatter's own block);
    /// of the others, those the schedule never writes are not copied from `input`.
    public func run(_ algorithm: Algorithm, _ collective: Collective = .allReduce, count: Int, build: () throws -> Schedule,
                    data: UnsafeMutableRawPointer, input: UnsafeRawPointer? = nil, kernel: ReductionKernel, transport: Transport,
                    engine: ReductionEngine, scratch space: ScratchSpace, result: Range<Int>? = nil) throws {
        let storage = try space.runs.storage(algorithm, collective, count: count, elementSize: kernel.type.size, rules: options.rules,
                                             build: build)
        try run(storage, data: data, input: input, kernel: kernel, transport: transport, engine: engine, scratch: space, result: result)
    }

    private func run(_ storage: RunStorage, data: UnsafeMutableRawPointer, input: UnsafeRawPointer?, kernel: ReductionKernel,
                     transport: Transport, engine: ReductionEngine, scratch space: ScratchSpace, result: Range<Int>? = nil) throws {
        guard hasSteps(storage, data: data, input: input, elementSize: kernel.type.size) else { return }
        // Made in place (not returned through an optional: the run's state is large).
        var run = ExecutorRun(storage: storage, data: data, input: input, scratch: space.buffer(bytes: storage.scratchCount * kernel.type.size),
                              options: options, kernel: kernel, transport: transport, engine: engine, observer: observer, onStall: onStall)
        if let result { run.result = result.lowerBound * kernel.type.size ..< result.upperBound * kernel.type.size }
        defer { run.release() }
        try run.execute()
    }

    /// Starts `schedule` as `run` would, without blocking: the returned run goes forward one
    /// round per `advance()`. The caller keeps the buffers and `scratch` valid until it is over.
    public func start(_ schedule: Schedule, data: UnsafeMutableRawPointer, input: UnsafeRawPointer? = nil, kernel: ReductionKernel,
                      transport: Transport, engine: ReductionEngine, scratch space: ScratchSpace) -> PendingRun {
        PendingRun(prepare(RunStorage(schedule, rules: options.rules, elementSize: kernel.type.size), data: data, input: input,
                           kernel: kernel, transport: transport, engine: engine, scratch: space))
    }

    /// Starts `algorithm`'s schedule as `run(_:count:build:…)` would (with the cache), without blocking.
    public func start(_ algorithm: Algorithm, count: Int, build: () throws -> Schedule, data: UnsafeMutableRawPointer,
                      input: UnsafeRawPointer? = nil, kernel: ReductionKernel, transport: Transport, engine: ReductionEngine,
                      scratch space: ScratchSpace) throws -> PendingRun {
        let storage = try space.runs.storage(algorithm, count: count, elementSize: kernel.type.size, rules: options.rules, build: build)
        return PendingRun(prepare(storage, data: data, input: input, kernel: kernel, transport: transport, engine: engine, scratch: space))
    }

    /// The state of a run over `storage`, or nil for a schedule without steps.
    private func prepare(_ storage: RunStorage, data: UnsafeMutableRawPointer, input: UnsafeRawPointer?, kernel: ReductionKernel,
                         transport: Transport, engine: ReductionEngine, scratch space: ScratchSpace) -> ExecutorRun? {
        guard hasSteps(storage, data: data, input: input, elementSize: kernel.type.size) else { return nil }
        return ExecutorRun(storage: storage, data: data, input: input, scratch: space.buffer(bytes: storage.scratchCount * kernel.type.size),
                           options: options, kernel: kernel, transport: transport, engine: engine, observer: observer, onStall: onStall)
    }

    /// Whether the schedule has steps; one without is over here (its out-of-place input copied).
    private func hasSteps(_ storage: RunStorage, data: UnsafeMutableRawPointer, input: UnsafeRawPointer?, elementSize: Int) -> Bool {
        guard storage.stepCount == 0 else { return true }
        if let input, input != UnsafeRawPointer(data) { ByteCopy.copy(to: data, from: input, count: storage.count * elementSize) }
        storage.release()
        return false
    }
}


/// A schedule under way (`ScheduleExecutor.start`), advanced without blocking.
public final class PendingRun {
    private var run: ExecutorRun?

    fileprivate init(_ run: ExecutorRun?) {
        self.run = run
    }

    /// Whether the run is over (done or failed).
    public var isOver: Bool { run == nil }

    /// A run with nothing to do.
    public static var over: PendingRun { PendingRun(nil) }

    /// One round: issues what the rules allow, retires finished reductions and transfers, never
    /// blocks. True once the run is done. On an error every request is withdrawn and every
    /// reduction finished before it is thrown (nothing touches the buffers afterwards).
    public func advance() throws -> Bool {
        guard var current = run else { return true }
        run = nil
        do {
            let done = try current.advance()
            if done { current.release() } else { run = current }
            return done
        } catch {
            current.abandon()
            current.release()
            throw error
        }
    }

    deinit {
        run?.abandon()
        run?.release()
    }
}


/// Which segment a transfer belongs to.
struct SegmentOwner {
    var stream: Int32
    var serial: Int32
}

/// The state of one execution.
private struct ExecutorRun {
    let rules: IssueRules
    let cut: SegmentCut
    let storage: RunStorage
    /// Every stream's steps, one table; each stream's issue state and tables (`IssueRules`), the
    /// storage's.
    let steps: UnsafeMutableBufferPointer<IssueStep>
    let streams: UnsafeMutablePointer<StreamIssue>
    let streamCount: Int
    /// Each stream's request table and its capacity (doubled when the rules ask for room).
    let opTables: UnsafeMutablePointer<UnsafeMutablePointer<IssuedSegment>>
    let capacities: UnsafeMutablePointer<Int>
    /// Whether each stream may issue (the storage's; `issue`).
    let mayIssue: UnsafeMutablePointer<Bool>
    let recvRing: UnsafeMutablePointer<Double>
    let data: UnsafeMutableRawPointer
    let scratch: UnsafeMutableRawPointer
    /// The out-of-place input, and the byte ranges of `data` not written yet (still equal to it).
    var input: UnsafeRawPointer?
    var fresh: IntervalSet
    /// The bytes of `data` copied from `input` at the end where the schedule never wrote them.
    var result = 0 ..< Int.max
    /// Issued segments not finished yet, over all streams.
    var unfinished = 0
    /// Transfers in flight, each with its stream and serial.
    var inFlight: RequestList<SegmentOwner>
    var reducing: UnsafeList<(stream: Int, serial: Int32, ticket: ReductionTicket)>
    /// `pollReductions`' list of the reductions over, and `finish`'s of the reductions it frees.
    var finished: UnsafeList<(stream: Int, serial: Int32)>
    var freed: UnsafeList<Int32>
    let elementSize: Int
    let tagBase: Int
    let kernel: ReductionKernel
    let transport: Transport
    let engine: ReductionEngine
    let observer: ((ExecutorEvent) -> Void)?
    var onStall: ((ExecutorStall) throws -> Void)?
    let stallSeconds: Double
    /// `advance`: the time over rounds in which nothing moved.
    var stallWatch: StallWatch

    /// A run over `storage`'s tables, reset: it takes them until `release`. With an `input` other
    /// than `data` (out of place), all of `data` starts not written yet.
    init(storage: RunStorage, data: UnsafeMutableRawPointer, input: UnsafeRawPointer?, scratch: UnsafeMutableRawPointer,
         options: ExecutorOptions, kernel: ReductionKernel, transport: Transport, engine: ReductionEngine,
         observer: ((ExecutorEvent) -> Void)?, onStall: ((ExecutorStall) throws -> Void)?) {
        let elementSize = kernel.type.size
        rules = options.rules
        cut = storage.cut
        tagBase = options.tagBase
        stallSeconds = options.stallSeconds
        stallWatch = StallWatch(seconds: options.stallSeconds)
        self.storage = storage
        self.elementSize = elementSize
        self.data = data
        self.scratch = scratch
        self.kernel = kernel
        self.transport = transport
        self.engine = engine
        self.observer = observer
        self.onStall = onStall
        // Taken, and handed back by `release` (an `UnsafeList`: one buffer, no copy when it writes).
        fresh = storage.fresh
        if let input, input != UnsafeRawPointer(data) {
            self.input = input
            fresh.reset(0 ..< storage.count * elementSize)
        }
        steps = storage.steps
        recvRing = storage.recvRing
        streams = storage.streams
        streamCount = storage.streamCount
        streams.update(from: storage.initialStreams, count: streamCount)
        opTables = storage.opTables
        capacities = storage.capacities
        mayIssue = storage.mayIssue
        mayIssue.initialize(repeating: true, count: max(1, streamCount))
        inFlight = storage.inFlight
        reducing = storage.reducing
        finished = storage.finished
        freed = storage.freed
        recvRing.initialize(repeating: 0, count: max(1, streamCount) * storage.window)
    }

    /// Hands the tables back to the storage (and the storage to its cache).
    mutating func release() {
        inFlight.removeAll()
        reducing.removeAll()
        fresh.reset(0 ..< 0)
        storage.inFlight = inFlight
        storage.reducing = reducing
        storage.finished = finished
        storage.freed = freed
        storage.fresh = fresh
        storage.release()
    }

    /// Whether every one of `count` streams has issued its last step. (Static: as a property,
    /// the optimizer copied the whole run to read it.)
    static func atEnd(_ streams: UnsafeMutablePointer<StreamIssue>, _ count: Int) -> Bool {
        for s in 0 ..< count where !streams[s].isAtEnd { return false }
        return true
    }

    func tables(_ s: Int) -> StreamTables {
        StreamTables(ops: opTables[s], capacity: capacities[s], recvRing: recvRing + s * rules.window)
    }

    /// Doubles stream `s`'s request table.
    mutating func grow(_ s: Int) {
        let bigger = UnsafeMutablePointer<IssuedSegment>.allocate(capacity: 2 * capacities[s])
        bigger.moveInitialize(from: opTables[s], count: Int(streams[s].opCount))
        opTables[s].deallocate()
        opTables[s] = bigger
        capacities[s] *= 2
        storage.grew = true
    }

    func address(_ span: ElementSpan) -> UnsafeMutableRawPointer {
        (span.isScratch ? scratch : data) + span.offset * elementSize
    }

    mutating func execute() throws {
        do {
            try progress()
        } catch {
            abandon()
            throw error
        }
    }

    /// Nothing may write into the caller's buffers after a failure: withdraws every request and
    /// lets every reduction finish.
    mutating func abandon() {
        inFlight.cancelAll(on: transport)
        for k in 0 ..< reducing.count { engine.wait(reducing[k].ticket) }
        reducing.removeAll()
    }

    /// One round of `progress` that never blocks: true when the run is done. The stall watch
    /// counts the time over rounds in which nothing moved while only the network was awaited.
    mutating func advance() throws -> Bool {
        var progressed = true, moved = false
        while progressed {
            progressed = false
            for s in 0 ..< streamCount where mayIssue[s] {
                while try issue(s) {
                    progressed = true
                    if !mayIssue[s] { break }
                }
            }
            if pollReductions() { progressed = true }
            if unfinished == 0 && ExecutorRun.atEnd(streams, streamCount) {
                materialize(result.lowerBound, result.upperBound)
                return true
            }
            if try completeTransfers(.poll) { progressed = true }
            moved = moved || progressed
        }
        if inFlight.isEmpty && reducing.isEmpty {
            throw TorusError.communication("executor stalled: no request in flight and no step can start (a schedule bug)")
        }
        if stallWatch.isDue(moved: moved || !reducing.isEmpty) { try onStall?(stall()) }
        return false
    }

    mutating func progress() throws {
        while true {
            var progressed = false
            for s in 0 ..< streamCount where mayIssue[s] {
                while try issue(s) {
                    progressed = true
                    if !mayIssue[s] { break }
                }
            }
            if pollReductions() { progressed = true }
            if unfinished == 0 && ExecutorRun.atEnd(streams, streamCount) {
                materialize(result.lowerBound, result.upperBound)
                return
            }
            if progressed { continue }
            if inFlight.isEmpty {
                // Only reductions are outstanding (a threaded engine): wait for the oldest.
                if !reducing.isEmpty {
                    engine.wait(reducing[0].ticket)
                    continue
                }
                throw TorusError.communication("executor stalled: no request in flight and no step can start (a schedule bug)")
            }
            if !reducing.isEmpty {
                // Keep reductions moving: test instead of blocking on the network.
                try completeTransfers(.poll)
                continue
            }
            if stallSeconds > 0 {
                if try !completeTransfers(.within(seconds: stallSeconds)) { try onStall?(stall()) }
            } else {
                try completeTransfers(.block)
            }
        }
    }

    /// Completes the transfers the transport reports done; true if any.
    @discardableResult
    mutating func completeTransfers(_ wait: TransportWait) throws -> Bool {
        let n = try inFlight.complete(on: transport, wait: wait)
        for k in 0 ..< n { try complete(inFlight.completed(k)) }
        return n > 0
    }

    /// What the run waits for.
    func stall() -> ExecutorStall {
        var pending: [ExecutorStall.Pending] = []
        for owner in inFlight.pending {
            let s = Int(owner.stream), serial = owner.serial
            let t = tables(s)
            guard let i = t.find(serial, count: streams[s].opCount) else { continue }
            let op = t.ops[i]
            pending.append(.init(kind: op.kind, peer: Int(op.peer), part: s, step: Int(op.step - storage.firstStep[s]),
                                 bytes: op.access.a.count * elementSize))
        }
        return ExecutorStall(seconds: stallSeconds, pending: pending, reductions: reducing.count)
    }

    /// Issues the next segment of stream `s` if the rules allow. When they do not, the stream is
    /// not asked again until a completion lets it go on (`IssueRules.receiveDone` and `finish`
    /// say so): a round then costs nothing for the streams that wait.
    mutating func issue(_ s: Int) throws -> Bool {
        var issued = rules.issueNext(&streams[s], tables(s), steps: UnsafePointer(steps.baseAddress!), cut: cut)
        while issued == nil && streams[s].blockedOn == IssueRules.needsRoom {
            grow(s)
            issued = rules.issueNext(&streams[s], tables(s), steps: UnsafePointer(steps.baseAddress!), cut: cut)
        }
        guard let i = issued else {
            mayIssue[s] = false
            return false
        }
        let t = tables(s)
        let op = t.ops[i]
        unfinished += 1
        // A stream that has issued its last step is not asked again (`finish` and `complete` leave it so).
        if streams[s].isAtEnd { mayIssue[s] = false }
        observer?(.issued(stream: s, serial: op.serial, kind: op.kind, peer: op.peer, access: op.access))
        let bytes = op.access.a.count * elementSize
        let tag = tagBase + s
        switch op.kind {
        case .send:
            let r = try transport.isend(UnsafeRawBufferPointer(start: readable(op.access.a), count: bytes), to: Int(op.peer), tag: tag)
            inFlight.append(r, SegmentOwner(stream: Int32(s), serial: op.serial))
        case .recv, .recvReduce, .recvReduceReceivedFirst:
            if op.kind == .recv, !op.access.a.isScratch {
                fresh.remove(op.access.a.lo * elementSize, op.access.a.hi * elementSize)
            }
            let r = try transport.irecv(UnsafeMutableRawBufferPointer(start: address(op.access.a), count: bytes), from: Int(op.peer), tag: tag)
            inFlight.append(r, SegmentOwner(stream: Int32(s), serial: op.serial))
        case .reduce:
            startReduction(s, op, source: readable(op.access.a))
        case .copy:
            let source = readable(op.access.a)
            if !op.access.b.isScratch { fresh.remove(op.access.b.lo * elementSize, op.access.b.hi * elementSize) }
            ByteCopy.copy(to: address(op.access.b), from: source, count: bytes)
            finish(s, op.serial)
        }
        return true
    }

    /// A transfer is over: a receive-and-reduce starts its reduction if the rules allow, anything
    /// else is finished.
    mutating func complete(_ owner: SegmentOwner) throws {
        let s = Int(owner.stream), serial = owner.serial
        let t = tables(s)
        guard let i = t.find(serial, count: streams[s].opCount) else { return }
        if t.ops[i].kind.reducesReceived {
            observer?(.received(stream: s, serial: serial))
            let (reduceAt, goOn) = rules.receiveDone(&streams[s], t, index: i, at: 0)
            if goOn { mayIssue[s] = !streams[s].isAtEnd }
            if reduceAt != nil { startReduction(s, t.ops[i]) }
        } else {
            finish(s, serial)
        }
    }

    /// Hands `target = target op source` of a reduce or receive-and-reduce segment to the engine.
    /// `source` stands for `op.access.a` when that range of data is still the input's (`.reduce`).
    mutating func startReduction(_ s: Int, _ op: IssuedSegment, source: UnsafeRawPointer? = nil) {
        if op.kind.reducesReceived { observer?(.reductionStarted(stream: s, serial: op.serial)) }
        let target = address(op.access.b)
        let bytes = op.access.b.count * elementSize
        // The first reduction into a range not written yet combines the input with what arrived.
        var own = UnsafeRawPointer(target)
        if let input, !fresh.isEmpty, !op.access.b.isScratch {
            let lo = target - data, hi = lo + bytes
            if fresh.contains(lo, hi) {
                own = input + lo
                fresh.remove(lo, hi)
            } else {
                materialize(lo, hi)
            }
        }
        let other = source ?? UnsafeRawPointer(address(op.access.a))
        let ticket = op.kind == .recvReduceReceivedFirst
            ? engine.submit(kernel, into: target, other, own, count: op.access.b.count)
            : engine.submit(kernel, into: target, own, other, count: op.access.b.count)
        reducing.append((s, op.serial, ticket))
    }

    /// Retires finished reductions; true if any finished.
    mutating func pollReductions() -> Bool {
        guard !reducing.isEmpty else { return false }
        finished.removeAll()
        var kept = 0
        for k in 0 ..< reducing.count {
            let r = reducing[k]
            if engine.poll(r.ticket) {
                finished.append((r.stream, r.serial))
            } else {
                reducing[kept] = r
                kept += 1
            }
        }
        reducing.removeLast(reducing.count - kept)
        // `finish` may start reductions (into `reducing`), never touches `finished`.
        var k = 0
        while k < finished.count {
            finish(finished[k].stream, finished[k].serial)
            k += 1
        }
        return k > 0
    }

    /// The segment is complete: tell the rules, and start the reductions they release.
    mutating func finish(_ s: Int, _ serial: Int32) {
        let t = tables(s)
        guard let i = t.find(serial, count: streams[s].opCount) else { return }
        unfinished -= 1
        observer?(.finished(stream: s, serial: serial))
        freed.removeAll()
        if rules.finish(&streams[s], t, index: i, at: 0, release: { k, _ in freed.append(t.ops[k].serial) }) {
            mayIssue[s] = !streams[s].isAtEnd
        }
        for f in 0 ..< freed.count {
            if let k = t.find(freed[f], count: streams[s].opCount) { startReduction(s, t.ops[k]) }
        }
    }

    /// Where a step reads `span`: a range of data not written yet still equals the input and is
    /// read there (sent, reduced or copied from it, not copied into data first); a range partly
    /// written is completed from the input and read in data.
    mutating func readable(_ span: ElementSpan) -> UnsafeRawPointer {
        let here = UnsafeRawPointer(address(span))
        guard !span.isScratch, let input, !fresh.isEmpty else { return here }
        let lo = span.lo * elementSize, hi = span.hi * elementSize
        if fresh.contains(lo, hi) { return input + lo }
        materialize(lo, hi)
        return here
    }

    /// Copies the input into the not-yet-written parts of data bytes [lo, hi).
    mutating func materialize(_ lo: Int, _ hi: Int) {
        guard let input, !fresh.isEmpty else { return }
        fresh.forEachPiece(lo, hi) { a, b in ByteCopy.copy(to: data + a, from: input + a, count: b - a) }
        fresh.remove(lo, hi)
    }
}
