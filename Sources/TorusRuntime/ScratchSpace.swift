import Synchronization
import TorusSchedules
import TorusCore
/// What a communicator keeps between calls: cache-line-aligned scratch memory that grows to the
/// largest request, the work buffer of ReduceScatter calls, and the tables of recent schedules
/// (`runs`). Kept until the owner goes away. One user at a time: a communicator's collectives run
/// one after another (nonblocking requests one at a time, and blocking calls wait for them).
public final class ScratchSpace {
    // Read on every call by its one user (the type's comment): no dynamic exclusivity check.
    @exclusivity(unchecked) private var scratch = GrowingBuffer()
    @exclusivity(unchecked) private var work = GrowingBuffer()
    /// Recent schedules, ready to run again.
    public let runs = RunCache()
    /// The communicator's calls (`Communicator.calls`).
    public let calls = CallLog()
    /// Routes a calibrated model chose, by collective and bytes (`Communicator.calibratedRoute`):
    /// its estimates are worked out once per size, not on every call.
    let calibratedRoutes = Mutex(CalibratedRoutes())
    /// The last AllReduce whose route the options chose (to the library, which took it, or to a
    /// schedule), when they ask nothing more of such a call (`Communicator.allReduce`): the same
    /// call again takes that route.
    @exclusivity(unchecked) var routeRepeat: RouteRepeat?

    /// Forgets every route chosen from the options: a communicator calls it when its options change.
    public func optionsChanged() {
        routeRepeat = nil
        calibratedRoutes.withLock { $0 = CalibratedRoutes() }
    }
    /// The blocking call under way, and the stall watch's handler that reports it
    /// (`Communicator.stallHandler`).
    @exclusivity(unchecked) var blockingCall: BlockingCall?
    @exclusivity(unchecked) var stallHandler: ((ExecutorStall) throws -> Void)?

    public init() {}

    deinit {
        scratch.free()
        work.free()
    }

    /// At least `bytes` bytes of schedule scratch, valid until the next call or the end of the space.
    public func buffer(bytes: Int) -> UnsafeMutableRawPointer { scratch.at(least: bytes) }

    /// At least `bytes` bytes for a ReduceScatter's data buffer (apart from `buffer`).
    public func workBuffer(bytes: Int) -> UnsafeMutableRawPointer { work.at(least: bytes) }
}

/// An AllReduce's arguments that decide its route, and what was decided
/// (`ScratchSpace.routeRepeat`).
/// A class: read on every call, a struct this size was copied whole (each reference in it retained),
/// which cost as much as choosing the route again.
final class RouteRepeat {
    let count: Int
    let type: ElementType
    let op: ReduceOp
    /// The algorithm the caller forced, if any.
    let forced: Algorithm?
    let kernel: ReductionKernel
    /// The schedule's algorithm; nil for the library.
    let algorithm: Algorithm?
    let executor: ExecutorOptions

    init(count: Int, type: ElementType, op: ReduceOp, forced: Algorithm?, kernel: ReductionKernel, algorithm: Algorithm?,
         executor: ExecutorOptions) {
        self.count = count
        self.type = type
        self.op = op
        self.forced = forced
        self.kernel = kernel
        self.algorithm = algorithm
        self.executor = executor
    }
}

struct CalibratedRouteKey: Hashable {
    var collective: Collective
    var bytes: Int
}

/// The routes a calibrated model chose (nil: the model has no say), by key, and the last one
/// asked for apart: a job repeats its calls, and that one is found without hashing.
struct CalibratedRoutes {
    var byKey: [CalibratedRouteKey: (AllReduceRoute, String)?] = [:]
    var last: (key: CalibratedRouteKey, route: (AllReduceRoute, String)?)?
    /// `TORUS_TUNE`'s trials (`RouteTrial`) by AllReduce size, under way or over (at most 1,024
    /// sizes; then they start again). Blocking calls only make them; any call takes a settled one.
    var trials: [CalibratedRouteKey: RouteTrial] = [:]

    mutating func find(_ key: CalibratedRouteKey) -> (AllReduceRoute, String)?? {
        if let last, last.key == key { return .some(last.route) }
        guard let found = byKey[key] else { return nil }
        last = (key, found)
        return .some(found)
    }
}

/// Cache-line-aligned memory that grows to the largest request.
private struct GrowingBuffer {
    private var base: UnsafeMutableRawPointer?
    private var capacity = 0

    mutating func at(least bytes: Int) -> UnsafeMutableRawPointer {
        if bytes > capacity || base == nil {
            base?.deallocate()
            capacity = max(bytes, 64)
            base = .allocate(byteCount: capacity, alignment: 64)
        }
        return base!
    }

    func free() { base?.deallocate() }
}

