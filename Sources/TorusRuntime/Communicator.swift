import Foundation
import TorusCore
import TorusSchedules

/// Settings of a communicator's collectives: how each call picks its route.
public struct CollectiveOptions: Sendable {
    /// Forces a route for every call (`TORUS_ALGORITHM`); nil chooses per call.
    public var route: AllReduceRoute?
    /// Calls smaller than this many bytes go to the backend's own library AllReduce when it has
    /// one for the type and op (MPI has none for 16-bit floats), else to `smallAlgorithm`.
    public var libraryBelowBytes: Int
    /// The same for ReduceScatter (whose library call may be slower than AllReduce's); AllGather
    /// uses `libraryBelowBytes`.
    public var reduceScatterLibraryBelowBytes: Int
    public var smallAlgorithm: Algorithm
    /// The algorithm above the threshold; nil lets the cost model choose.
    public var largeAlgorithm: Algorithm?
    public var selection: AlgorithmSelection
    public var executor: ExecutorOptions
    /// 0 quiet, 1 one line per communicator, 2 also one line per call (stderr, rank 0 of the group).
    public var verbose: Int
    /// `TORUS_CHECK=1`: before each call the ranks agree on its arguments (`checkAgreement`).
    public var check = false
    /// `TORUS_NAN_CHECK=1`: each float call's input and result are scanned for NaN and Inf, and
    /// the first is reported (stderr) with the rank, the index and the call's number; the call goes on.
    public var nanCheck = false
    /// `TORUS_TUNE=N`: with a calibrated model, the first calls of each AllReduce size time the routes
    /// whose estimates are close, `N` calls each, and the rest take the fastest (`RouteTrial`); 0: off.
    public var tuneCalls = 0

    public init(route: AllReduceRoute? = nil, libraryBelowBytes: Int = 0, smallAlgorithm: Algorithm = .recursiveDoubling,
                largeAlgorithm: Algorithm? = nil, selection: AlgorithmSelection = AlgorithmSelection(),
                executor: ExecutorOptions = ExecutorOptions(), verbose: Int = 0) {
        self.route = route
        self.libraryBelowBytes = libraryBelowBytes
        reduceScatterLibraryBelowBytes = libraryBelowBytes
        self.smallAlgorithm = smallAlgorithm
        self.largeAlgorithm = largeAlgorithm
        self.selection = selection
        self.executor = executor
        self.verbose = verbose
    }

    /// Forces one algorithm for every call.
    public init(algorithm: Algorithm) {
        self.init(route: .schedule(algorithm))
    }
}

/// Why a call took its route (`Communicator.decideRoute`); the text is made when printed.
enum RouteReason: CustomStringConvertible {
    case forcedByCaller
    case forcedByOptions
    case forcedToLibrary
    case belowThreshold(Int)
    case atOrAboveThreshold(Int)
    /// A model's choice, with its estimates.
    case chosen(String)
    /// `TORUS_ALGORITHM` names an algorithm that cannot run the call, so the rules below it chose.
    indirect case cannot(algorithm: Algorithm, why: String, then: RouteReason)

    var description: String {
        switch self {
        case .forcedByCaller: return "forced by the caller"
        case .forcedByOptions: return "forced by the options (TORUS_ALGORITHM)"
        case .forcedToLibrary: return "forced by the options (TORUS_ALGORITHM=mpi)"
        case let .cannot(a, why, then): return "TORUS_ALGORITHM=\(a) cannot: \(why); \(then)"
        case let .belowThreshold(bytes): return "below the \(bytes)-byte threshold"
        case let .atOrAboveThreshold(bytes): return "at or above the \(bytes)-byte threshold"
        case let .chosen(why): return why
        }
    }
}

/// A group of ranks that can reduce together: the public face of every backend.
public protocol Communicator: AnyObject {
    /// This rank, in 0..<size.
    var rank: Int { get }
    /// Ranks in the group.
    var size: Int { get }
    /// The torus view of the group: the grid its algorithms run on and the placement of its ranks.
    var topology: GroupTopology { get }
    /// Point-to-point messaging among the group's ranks.
    var transport: Transport { get }
    /// Where reductions run.
    var reductionEngine: ReductionEngine { get }
    /// Scratch memory kept between calls (fresh memory would be paid for in page faults every call),
    /// and the count of calls made (`calls`).
    var scratch: ScratchSpace { get }
    /// Settings of the collectives.
    var options: CollectiveOptions { get set }
    /// Whether another thread may communicate on this backend while the application does too
    /// (MPI_THREAD_MULTIPLE): nonblocking requests then progress on a progress thread.
    var progressThreadAllowed: Bool { get }
    /// Splits the group, as MPI_Comm_split: ranks with equal `color` form a new group, ordered by
    /// `key` then by rank; a nil color takes no part and gets nil. Collective over the group.
    func split(color: Int?, key: Int) throws -> Communicator?
    /// The backend's own AllReduce (MPI's), if it has one for this type and op: performs the call
    /// and returns true, or returns false to let a schedule do it. `sendBuffer` nil means in place.
    func libraryAllReduce(_ sendBuffer: UnsafeRawPointer?, _ recvBuffer: UnsafeMutableRawPointer, count: Int,
                          type: ElementType, op: ReduceOp) throws -> Bool
    /// The backend's own ReduceScatter (MPI_Reduce_scatter_block) or AllGather (MPI_Allgather,
    /// `op` unused), if it has one for this type and op: performs the call and returns true, or
    /// returns false to let a schedule do it. Arguments as `reduceScatter` and `allGather`.
    func libraryHalf(_ collective: Collective, _ sendBuffer: UnsafeRawPointer?, _ recvBuffer: UnsafeMutableRawPointer,
                     blockCount: Int, type: ElementType, op: ReduceOp) throws -> Bool
    /// The stall watch went off (`options.executor.stallSeconds` without progress) during `call`:
    /// report it; throw to end the call, return to keep waiting.
    func reportStall(_ stall: ExecutorStall, in call: StalledCall) throws
    /// Throws if the backend can no longer communicate (MPI finalised); called at each call's start.
    func checkUsable() throws
}

/// A blocking call under way, in plain values (copied on every call; the report's text is made
/// from it only when a stall is reported).
struct BlockingCall {
    var call: Int
    var algorithm: Algorithm
    /// nil for AllReduce.
    var collective: Collective?
    var arguments: CallArguments

    var stalled: StalledCall {
        StalledCall(call: call, route: collective.map { "\(algorithm.rawValue) \($0)" } ?? algorithm.rawValue, arguments: arguments)
    }
}

/// The call a stall report is about: its number on the communicator, its route and what it
/// reduces (made on every call, so that the text is built only when a report is printed).
public struct StalledCall: Sendable {
    public var call: Int
    /// "sixring", or "mpi" for a call handed to MPI.
    public var route: String
    private var arguments: CallArguments?
    private var summary: String?
    /// The stage, when it is not the reduction itself.
    public var stage: String?

    /// A call described in words (one handed to MPI).
    public init(call: Int, route: String, summary: String) {
        self.call = call
        self.route = route
        self.summary = summary
    }

    public init(call: Int, route: String, arguments: CallArguments) {
        self.call = call
        self.route = route
        self.arguments = arguments
    }

    /// "100000 × float32 sum", and the stage if any.
    public var detail: String {
        let what = arguments.map { "\($0.count) × \($0.type) \($0.op)" } ?? summary ?? ""
        return stage.map { "\(what), \($0)" } ?? what
    }
}

/// A communicator's count of collective calls (the number of the current one, from 1), and the
/// notes it has printed once.
public final class CallLog: @unchecked Sendable {   // `count`: the calling thread only; `noted`: behind `lock`
    @exclusivity(unchecked) public private(set) var count = 0
    private var noted: Set<String> = []
    private let lock = NSLock()
    public init() {}
    /// True the first time it is asked about `note` (also from the progress thread).
    public func firstTime(_ note: String) -> Bool {
        lock.lock()
        defer { lock.unlock() }
        return noted.insert(note).inserted
    }
    /// Counts a new call and returns its number.
    public func next() -> Int {
        count += 1
        return count
    }
}

extension Communicator {
    /// The calls made on this communicator so far (their sequence numbers, for stall reports). Kept
    /// in its scratch space, which a call reads anyway: through the protocol, each property read is a
    /// call and a retain.
    public var calls: CallLog { scratch.calls }

    /// AllReduce over raw buffers: `recvBuffer[i] = op over all ranks of sendBuffer[i]` for `count`
    /// elements of `type`. A nil `sendBuffer` means in place (the input is `recvBuffer`, as
    /// MPI_IN_PLACE). `algorithm` overrides the communicator's choice for this call. Every rank
    /// must pass the same count, type, op and algorithm.
    public func allReduce(_ sendBuffer: UnsafeRawPointer?, _ recvBuffer: UnsafeMutableRawPointer, count: Int,
                          type: ElementType, op: ReduceOp, algorithm: Algorithm? = nil) throws {
        // A job repeats its calls: one like the last (same count, type, op and forced algorithm)
        // takes the last one's route and kernel, without reading the options or choosing the route
        // again (most of what a small call routed to MPI costs above MPI's own, and a tenth of a
        // small schedule's; `ScratchSpace.routeRepeat`).
        let space = scratch   // through the protocol, each read is a call and a retain
        if let last = space.routeRepeat, last.count == count, last.type == type, last.op == op, last.forced == algorithm {
            try checkUsable()
            if ProgressEngine.shared.hasPending(self) { ProgressEngine.shared.drain(self) }
            let call = space.calls.next()
            if let chosen = last.algorithm {
                let arguments = CallArguments(count: count, type: type, op: op, route: .schedule(chosen),
                                              inPlace: sendBuffer == nil || sendBuffer == UnsafeRawPointer(recvBuffer))
                try runSchedule(chosen, sendBuffer, recvBuffer, kernel: last.kernel, arguments: arguments, executor: last.executor, call: call,
                                scratch: space)
                return
            }
            if try libraryAllReduce(sendBuffer, recvBuffer, count: count, type: type, op: op) { return }
            space.routeRepeat = nil   // cannot happen (the library's answer depends on count, type and op)
            try allReduce(sendBuffer, recvBuffer, count: count, kernel: last.kernel,
                          route: .schedule(fallbackAlgorithm(count: count, type: type, op: op)), options: options, numbered: false)
            return
        }
        let kernel = try ReductionKernel(type: type, op: op)
        let options = self.options   // read once (through the protocol, each read copies it)
        if algorithm == nil, options.tuneCalls > 0, options.route == nil,
           try runTrial(sendBuffer, recvBuffer, count: count, kernel: kernel, options: options, space: space) { return }
        try allReduce(sendBuffer, recvBuffer, count: count, kernel: kernel,
                      route: chooseRoute(count: count, type: type, forced: algorithm, options: options), options: options,
                      remember: true, forced: algorithm)
    }

    /// AllReduce along a route already chosen (the drop-in library keeps its routes per size class).
    public func allReduce(_ sendBuffer: UnsafeRawPointer?, _ recvBuffer: UnsafeMutableRawPointer, count: Int,
                          kernel: ReductionKernel, route: AllReduceRoute) throws {
        try allReduce(sendBuffer, recvBuffer, count: count, kernel: kernel, route: route, options: options)
    }

    /// `remember`: the route was chosen from the options and `forced` alone, so a call that repeats
    /// the arguments may take it again (`ScratchSpace.routeRepeat`). `numbered`: false for a call
    /// already counted.
    private func allReduce(_ sendBuffer: UnsafeRawPointer?, _ recvBuffer: UnsafeMutableRawPointer, count: Int,
                           kernel: ReductionKernel, route: AllReduceRoute, options: CollectiveOptions,
                           remember: Bool = false, forced: Algorithm? = nil, numbered: Bool = true) throws {
        guard count >= 0 else {
            throw TorusError.invalidValue(name: "count", value: "\(count)", expected: "a non-negative element count")
        }
        try checkUsable()
        let type = kernel.type
        // Nonblocking requests on this communicator come first (and own its transport until over).
        if ProgressEngine.shared.hasPending(self) { ProgressEngine.shared.drain(self) }
        let call = numbered ? calls.next() : calls.count
        let arguments = CallArguments(count: count, type: type, op: kernel.op, route: route,
                                      inPlace: sendBuffer == nil || sendBuffer == UnsafeRawPointer(recvBuffer))
        if options.check { try checkAgreement(arguments) }
        if options.nanCheck { reportNonFinite(sendBuffer ?? UnsafeRawPointer(recvBuffer), count: count, type: type, call: call, what: "input") }
        var done = false
        defer { if done && options.nanCheck { reportNonFinite(UnsafeRawPointer(recvBuffer), count: count, type: type, call: call, what: "result") } }
        // Only where the options ask nothing more of a call (no check, no printing).
        let repeatable = remember && !options.check && !options.nanCheck && options.verbose < 2
        if case .library = route,
           try libraryAllReduce(sendBuffer, recvBuffer, count: count, type: type, op: kernel.op) {
            done = true
            if repeatable {
                scratch.routeRepeat = RouteRepeat(count: count, type: type, op: kernel.op, forced: forced, kernel: kernel, algorithm: nil,
                                                  executor: options.executor)
            }
            return
        }
        let chosen: Algorithm
        if case let .schedule(a) = route { chosen = a } else { chosen = fallbackAlgorithm(count: count, type: type, op: kernel.op) }
        if repeatable, case .schedule = route {
            scratch.routeRepeat = RouteRepeat(count: count, type: type, op: kernel.op, forced: forced, kernel: kernel, algorithm: chosen,
                                              executor: options.executor)
        }
        try runSchedule(chosen, sendBuffer, recvBuffer, kernel: kernel, arguments: arguments, executor: options.executor, call: call,
                        scratch: scratch)
        done = true
    }

    /// `TORUS_TUNE`: makes the call as part of its size's trial (`RouteTrial`) and returns true, or
    /// returns false when there is none — the trial is over (its route is then the calibrated
    /// route, `calibratedRoute`), or the model has no library time here, or one candidate only.
    private func runTrial(_ sendBuffer: UnsafeRawPointer?, _ recvBuffer: UnsafeMutableRawPointer, count: Int, kernel: ReductionKernel,
                          options: CollectiveOptions, space: ScratchSpace) throws -> Bool {
        let bytes = count * kernel.type.size
        let key = CalibratedRouteKey(collective: .allReduce, bytes: bytes)
        var trial: RouteTrial
        if let known = space.calibratedRoutes.withLock({ $0.trials[key] }) {
            guard known.result == nil else { return false }
            trial = known
        } else {
            guard size > 1, let estimates = options.selection.calibratedEstimates(topology: topology, bytes: bytes) else { return false }
            let close = AlgorithmSelection.closeCandidates(estimates)
            guard close.count >= 2 else { return false }
            trial = RouteTrial(candidates: close.map { $0.0.map { .schedule($0) } ?? .library }, estimates: close.map(\.1),
                               timedRounds: options.tuneCalls)
        }
        if options.verbose >= 2 && rank == 0 {
            printRoute(bytes: bytes, trial.next, "TORUS_TUNE: call \(trial.calls + 1) of the \(trial.length) that time the routes close to the model's cheapest")
        }
        let start = ContinuousClock.now
        try allReduce(sendBuffer, recvBuffer, count: count, kernel: kernel, route: trial.next, options: options)
        trial.record(start.duration(to: .now).inSeconds)
        if trial.isTimed {
            // Every rank is in this call: agree on the slowest rank's medians.
            var slowest = trial.medians
            let n = slowest.count
            try slowest.withUnsafeMutableBytes {
                try allReduce(nil, $0.baseAddress!, count: n, type: .float64, op: .max, algorithm: .recursiveDoubling)
            }
            trial.settle(slowest: slowest, bytes: bytes)
            if options.verbose >= 1 && rank == 0, let result = trial.result { printError("torus: allreduce on \(size) ranks: \(result.why)") }
        }
        space.calibratedRoutes.withLock { routes in
            if routes.trials.count >= 1024 && routes.trials[key] == nil { routes.trials.removeAll() }
            routes.trials[key] = trial
        }
        return true
    }

    /// Runs `chosen`'s schedule for call number `call`, whose `arguments` the stall watch reports
    /// (one rank: the input copied).
    private func runSchedule(_ chosen: Algorithm, _ sendBuffer: UnsafeRawPointer?, _ recvBuffer: UnsafeMutableRawPointer,
                             kernel: ReductionKernel, arguments: CallArguments, executor options: ExecutorOptions, call: Int,
                             scratch space: ScratchSpace) throws {
        let count = arguments.count
        guard size > 1 else {
            if let sendBuffer, sendBuffer != UnsafeRawPointer(recvBuffer) {
                ByteCopy.copy(to: recvBuffer, from: sendBuffer, count: count * kernel.type.size)
            }
            return
        }
        var executor = ScheduleExecutor(options: options)
        if options.stallSeconds > 0 {
            executor.onStall = stallHandler(for: BlockingCall(call: call, algorithm: chosen, collective: nil, arguments: arguments), in: space)
        }
        try executor.run(chosen, count: count, build: { try chosen.schedule(topology: topology, rank: rank, count: count) },
                         data: recvBuffer, input: sendBuffer, kernel: kernel, transport: transport, engine: reductionEngine, scratch: space)
    }

    /// `TORUS_NAN_CHECK`: says where `buffer` holds NaN or Inf, if it does.
    /// Only the first input and the first result that hold any are reported on each communicator
    /// (where they first appear is what matters; a job full of them would otherwise flood stderr).
    func reportNonFinite(_ buffer: UnsafeRawPointer, count: Int, type: ElementType, call: Int, what: String) {
        guard let found = NonFinite.scan(buffer, count: count, type: type), calls.firstTime("non-finite \(what)") else { return }
        printError("torus: TORUS_NAN_CHECK: rank \(rank) of \(size), call \(call) on this communicator (\(count) × \(type)): "
                   + "the \(what) has \(NonFinite.describe(found)) (the first \(what) with any; later ones are not reported)")
    }

    /// The schedule of a call routed to the backend's library that the library cannot take (a type
    /// MPI lacks, a count past its int range, a nonblocking call): the small-message algorithm
    /// below the size threshold, the large-message one (or the cost model's choice) above it.
    /// `TORUS_VERBOSE=1` says so once per communicator, type and op.
    public func fallbackAlgorithm(count: Int, type: ElementType, op: ReduceOp) -> Algorithm {
        let bytes = count * type.size
        let algorithm: Algorithm
        if bytes < options.libraryBelowBytes {
            algorithm = options.smallAlgorithm
        } else {
            algorithm = options.largeAlgorithm ?? options.selection.choose(topology: topology, bytes: bytes).0
        }
        if options.verbose >= 1 && rank == 0 && calls.firstTime("fallback \(type) \(op) \(algorithm)") {
            printError("torus: a call routed to the library AllReduce (mpi) that it cannot take (\(type) \(op) of \(bytes) bytes: a type "
                       + "or size MPI lacks, or a nonblocking call) runs \(algorithm.rawValue) instead (\(options.smallAlgorithm.rawValue) below \(options.libraryBelowBytes) bytes, "
                       + "\(options.largeAlgorithm?.rawValue ?? "the cost model's choice") above)")
        }
        return algorithm
    }

    /// The route of a call: an algorithm forced by argument, then by the options, then a calibrated
    /// model's cheapest estimate (the library's AllReduce among the candidates, when the model timed
    /// it on this many ranks), then the library below the size threshold, then the large-message
    /// algorithm or the cost model's choice.
    /// `TORUS_VERBOSE=2` prints it (rank 0 of the group).
    public func chooseRoute(count: Int, type: ElementType, forced: Algorithm? = nil) -> AllReduceRoute {
        chooseRoute(count: count, type: type, forced: forced, options: options)
    }

    func chooseRoute(count: Int, type: ElementType, forced: Algorithm?, options: CollectiveOptions) -> AllReduceRoute {
        let (route, why) = decideRoute(count: count, type: type, forced: forced, options: options)
        if options.verbose >= 2 && rank == 0 { printRoute(bytes: count * type.size, route, "\(why)") }
        return route
    }

    /// The stall watch's handler for blocking call `call`, which reports it through `reportStall`.
    /// Made once per communicator and kept in its scratch space, the call beside it: a closure
    /// made on every call costs an allocation, a tenth of a small call's own work. (A nonblocking
    /// call, which may share its communicator with others under way, makes its own.)
    func stallHandler(for call: BlockingCall, in space: ScratchSpace) -> (ExecutorStall) throws -> Void {
        space.blockingCall = call
        if let handler = space.stallHandler { return handler }
        let handler: (ExecutorStall) throws -> Void = { [unowned self, unowned space] stall in
            guard let call = space.blockingCall else { return }
            try self.reportStall(stall, in: call.stalled)
        }
        space.stallHandler = handler
        return handler
    }

    /// The `TORUS_VERBOSE=2` line of a call.
    public func printRoute(bytes: Int, _ route: AllReduceRoute, _ why: String) {
        printError("torus: allreduce \(bytes) bytes on \(size) ranks: \(route) (\(why))")
    }

    /// The calibrated model's route for `collective` of `bytes` (nil without a model that timed the
    /// library here), worked out once per size and kept with the communicator's scratch.
    func calibratedRoute(_ collective: Collective, bytes: Int, options: CollectiveOptions) -> (AllReduceRoute, String)? {
        guard options.selection.calibrated != nil else { return nil }
        let key = CalibratedRouteKey(collective: collective, bytes: bytes)
        // A size that `TORUS_TUNE` measured takes what was measured fastest.
        if let known = scratch.calibratedRoutes.withLock({ routes -> (AllReduceRoute, String)?? in
            if options.tuneCalls > 0, let measured = routes.trials[key]?.result { return .some(measured) }
            return routes.find(key)
        }) { return known }
        let chosen = options.selection.chooseCalibrated(collective, topology: topology, bytes: bytes).map { (a, why) in
            (a.map { AllReduceRoute.schedule($0) } ?? .library, why)
        }
        scratch.calibratedRoutes.withLock { routes in
            if routes.byKey.count >= 1024 { routes.byKey.removeAll() }
            routes.byKey[key] = .some(chosen)
            routes.last = (key, chosen)
        }
        return chosen
    }

    /// The route of a call and why it was chosen.
    public func explainRoute(count: Int, type: ElementType, forced: Algorithm? = nil) -> (AllReduceRoute, String) {
        let (route, why) = decideRoute(count: count, type: type, forced: forced, options: options)
        return (route, "\(why)")
    }

    /// The route of a call and why, the reason's text made only when asked for: a call below the
    /// threshold pays for no string.
    func decideRoute(count: Int, type: ElementType, forced: Algorithm?, options: CollectiveOptions) -> (AllReduceRoute, RouteReason) {
        let bytes = count * type.size
        if let forced { return (.schedule(forced), .forcedByCaller) }
        if let r = options.route { return (r, .forcedByOptions) }
        if let (route, why) = calibratedRoute(.allReduce, bytes: bytes, options: options) { return (route, .chosen(why)) }
        if bytes < options.libraryBelowBytes { return (.library, .belowThreshold(options.libraryBelowBytes)) }
        if let a = options.largeAlgorithm { return (.schedule(a), .atOrAboveThreshold(options.libraryBelowBytes)) }
        let (a, reason) = options.selection.choose(topology: topology, bytes: bytes)
        return (.schedule(a), .chosen(reason))
    }

    /// AllReduce of an array, out of place: returns the reduced array.
    public func allReduce<T: ReducibleElement>(_ values: [T], op: ReduceOp, algorithm: Algorithm? = nil) throws -> [T] {
        var result = values
        try allReduce(inPlace: &result, op: op, algorithm: algorithm)
        return result
    }

    /// AllReduce of an array in place.
    public func allReduce<T: ReducibleElement>(inPlace values: inout [T], op: ReduceOp, algorithm: Algorithm? = nil) throws {
        let count = values.count
        try values.withUnsafeMutableBytes { buffer in
            guard let base = buffer.baseAddress else {
                // An empty array still takes part (other ranks must not wait for it).
                var dummy: UInt64 = 0
                try withUnsafeMutableBytes(of: &dummy) {
                    try allReduce(nil, $0.baseAddress!, count: 0, type: T.elementType, op: op, algorithm: algorithm)
                }
                return
            }
            try allReduce(nil, base, count: count, type: T.elementType, op: op, algorithm: algorithm)
        }
    }
}

#if canImport(Glibc)
import Glibc
#endif

extension Communicator {
    /// In-process backends are usable as long as they exist.
    public func checkUsable() throws {}

    /// Backends without a report of their own end the call with the stall as a timeout.
    public func reportStall(_ stall: ExecutorStall, in call: StalledCall) throws {
        throw TorusError.timeout(seconds: stall.seconds, waiting: stall.lines.map { "rank \(rank): \($0)" })
    }

    /// In-process backends allow a progress thread.
    public var progressThreadAllowed: Bool { true }

    /// No library ReduceScatter or AllGather: every call runs a schedule.
    public func libraryHalf(_ collective: Collective, _ sendBuffer: UnsafeRawPointer?, _ recvBuffer: UnsafeMutableRawPointer,
                            blockCount: Int, type: ElementType, op: ReduceOp) throws -> Bool {
        false
    }

    /// No library AllReduce: every call runs a schedule.
    public func libraryAllReduce(_ sendBuffer: UnsafeRawPointer?, _ recvBuffer: UnsafeMutableRawPointer, count: Int,
                                 type: ElementType, op: ReduceOp) throws -> Bool {
        false
    }
}

/// Writes a line to standard error.
public func printError(_ line: String) {
    var text = line
    if !text.hasSuffix("\n") { text += "\n" }
    // One write(2) of the whole line: no shared C `FILE` state, and lines of ranks do not interleave.
    _ = text.utf8CString.withUnsafeBufferPointer { write(2, $0.baseAddress, $0.count - 1) }
}
