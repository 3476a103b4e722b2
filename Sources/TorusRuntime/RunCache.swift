import TorusCore
import TorusSchedules

/// The tables of runs of one schedule (`ScheduleExecutor`): its steps, built once, and the issue
/// state's tables and lists, which a run takes at its start (reset) and hands back at its end, so
/// that a schedule run again allocates nothing. `RunCache` keeps recent ones per communicator.
final class RunStorage {
    let count: Int
    let scratchCount: Int
    let stepCount: Int
    let steps: UnsafeMutableBufferPointer<IssueStep>
    /// Each stream's first index in `steps`, and its issue state before a run.
    let firstStep: [Int32]
    let streamCount: Int
    let initialStreams: UnsafeMutablePointer<StreamIssue>
    let window: Int
    /// How its steps are cut (`IssueRules.cut`): fixed by the rules, element size and schedule it was made for.
    let cut: SegmentCut
    let recvRing: UnsafeMutablePointer<Double>
    // Used by a run while it lasts: tables in manually managed memory, so that a run reads and
    // writes them without reference counting (`UnsafeList`).
    let streams: UnsafeMutablePointer<StreamIssue>
    let opTables: UnsafeMutablePointer<UnsafeMutablePointer<IssuedSegment>>
    let capacities: UnsafeMutablePointer<Int>
    /// Whether each stream may issue: false from when the rules turn it down until they say a
    /// completion may let it go on (`ExecutorRun.issue`).
    let mayIssue: UnsafeMutablePointer<Bool>
    // Taken by a run while it lasts, and handed back.
    var inFlight = RequestList<SegmentOwner>()
    var reducing = UnsafeList<(stream: Int, serial: Int32, ticket: ReductionTicket)>()
    var finished = UnsafeList<(stream: Int, serial: Int32)>()
    var freed = UnsafeList<Int32>()
    var fresh = IntervalSet()
    /// Whether a run has it now (a cache hands it to one run at a time).
    var inUse = true
    /// Its cache, if any, which takes it back when a run releases it, and the bytes it counts for it.
    weak var cache: RunCache?
    var accounted = 0
    /// A run doubled a table (`ExecutorRun.grow`).
    var grew = false

    init(_ schedule: Schedule, rules: IssueRules, elementSize: Int) {
        count = schedule.count
        scratchCount = schedule.scratchCount
        stepCount = schedule.stepCount
        window = rules.window
        cut = rules.cut(elementSize: elementSize, limitElements: schedule.segmentLimitElements)
        steps = .allocate(capacity: max(1, schedule.stepCount))
        var filled = 0
        var streams: [StreamIssue] = []
        for stream in schedule.streams {
            streams.append(StreamIssue(step: Int32(filled), stepEnd: Int32(filled + stream.steps.count)))
            for step in stream.steps {
                steps[filled] = IssueStep(step)
                filled += 1
            }
        }
        firstStep = streams.map(\.step)
        streamCount = streams.count
        let n = max(1, streams.count)
        initialStreams = .allocate(capacity: n)
        initialStreams.initialize(from: streams, count: streams.count)
        self.streams = .allocate(capacity: n)
        self.streams.initialize(from: streams, count: streams.count)
        opTables = .allocate(capacity: n)
        capacities = .allocate(capacity: n)
        for s in 0..<n {
            opTables[s] = .allocate(capacity: IssueRules.requestTable)
            capacities[s] = IssueRules.requestTable
        }
        recvRing = .allocate(capacity: n * rules.window)
        mayIssue = .allocate(capacity: n)
    }

    /// Bytes it holds (its cache's bound).
    var bytes: Int {
        let n = max(1, streamCount)
        return stepCount * MemoryLayout<IssueStep>.stride + (0..<n).reduce(0) { $0 + capacities[$1] } * MemoryLayout<IssuedSegment>.stride
            + n * window * MemoryLayout<Double>.stride + 2 * n * MemoryLayout<StreamIssue>.stride
    }

    /// The end of a run (or of a schedule with nothing to run): free for the next; its cache
    /// counts it again if its tables grew.
    func release() {
        inUse = false
        if grew {
            grew = false
            cache?.returned(self)
        }
    }

    deinit {
        steps.deallocate()
        for s in 0 ..< max(1, streamCount) { opTables[s].deallocate() }
        opTables.deallocate()
        capacities.deallocate()
        mayIssue.deallocate()
        streams.deallocate()
        initialStreams.deallocate()
        recvRing.deallocate()
        inFlight.free()
        reducing.free()
        finished.free()
        freed.free()
        fresh.free()
    }
}

/// The run tables (`RunStorage`) of a communicator's recent calls, so that a call like a recent
/// one — the same algorithm, collective, count, element size and issue rules — neither builds its schedule nor
/// allocates. At most `maxEntries` entries and about `maxBytes` bytes; the least recently used go
/// first. A storage is lent to one run at a time: a call that finds it in use gets a fresh one
/// that is not kept.
public final class RunCache {
    struct Key: Hashable {
        var algorithm: Algorithm
        var collective: Collective
        var count: Int
        var elementSize: Int
        var rules: IssueRules
    }

    public static let maxEntries = 32
    public static let maxBytes = 64 << 20
    private var entries: [Key: RunStorage] = [:]
    /// Least recently used first (the last one lent is at the end, or not yet moved there).
    private var order: [Key] = []
    /// The entry lent last (kept in `entries`; cleared when that entry goes), held apart so that
    /// the check for a repeated call copies nothing but the key.
    private var lastKey: Key?
    private var lastStorage: RunStorage?
    private var bytes = 0
    /// Schedules built (a miss each), for tests and `TORUS_VERBOSE`.
    public private(set) var builds = 0

    public init() {}

    /// Entries kept.
    public var count: Int { entries.count }

    func storage(_ algorithm: Algorithm, _ collective: Collective = .allReduce, count: Int, elementSize: Int, rules: IssueRules,
                 build: () throws -> Schedule) throws -> RunStorage {
        let key = Key(algorithm: algorithm, collective: collective, count: count, elementSize: elementSize, rules: rules)
        // The same call as the last one: no hashing.
        if let storage = lastStorage, !storage.inUse, lastKey == key {
            storage.inUse = true
            return storage
        }
        if let found = entries[key] {
            (lastKey, lastStorage) = (key, found)
            if order.last != key, let i = order.lastIndex(of: key) {
                order.remove(at: i)
                order.append(key)
            }
            if !found.inUse {
                found.inUse = true
                return found
            }
        }
        builds += 1
        let storage = RunStorage(try build(), rules: rules, elementSize: elementSize)
        guard entries[key] == nil else { return storage }   // the kept one is in use: this one is not kept
        storage.cache = self
        entries[key] = storage
        order.append(key)
        (lastKey, lastStorage) = (key, storage)
        account(storage)
        return storage
    }

    /// A run handed `storage` back (its tables may have grown).
    func returned(_ storage: RunStorage) {
        account(storage)
    }

    /// Counts `storage`'s bytes as they are now, then drops the least recently used entries past the bounds.
    private func account(_ storage: RunStorage) {
        let now = storage.bytes
        bytes += now - storage.accounted
        storage.accounted = now
        while entries.count > Self.maxEntries || (bytes > Self.maxBytes && order.count > 1) {
            let oldest = order.removeFirst()
            if lastKey == oldest { (lastKey, lastStorage) = (nil, nil) }
            if let gone = entries.removeValue(forKey: oldest) {
                bytes -= gone.accounted
                gone.cache = nil
            }
        }
    }

    /// Drops every entry (their memory goes once no run holds them).
    public func removeAll() {
        for storage in entries.values { storage.cache = nil }
        entries.removeAll()
        (lastKey, lastStorage) = (nil, nil)
        order.removeAll()
        bytes = 0
    }
}
