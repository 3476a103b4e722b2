import Foundation
import CMPI
import TorusCore
import TorusMPI
import TorusRuntime
import TorusSchedules

// The Swift half of libtorus_mpi.so: settings, per-communicator state and the AllReduce itself,
// exported with @_cdecl to the C entry points in Sources/CTorusMPI/dropin.c (declared in its
// dropin_swift.h). Element types and ops travel as indices into ElementType.allCases and
// ReduceOp.allCases.

/// The library's state for one application communicator: its private copy, with the torus view,
/// and the route of each size class (calls of 2^k to 2^(k+1) − 1 bytes), chosen at the class's
/// first call. Every rank sees the same calls in the same order, so every rank caches the same route.
final class DropInState {
    let communicator: MPICommunicator
    private var routes = [(route: AllReduceRoute, why: String)?](repeating: nil, count: Int.bitWidth + 1)

    init(_ communicator: MPICommunicator) {
        self.communicator = communicator
    }

    /// The route of a call; `remember` false (a query, which one rank may make alone) leaves the
    /// cache as it is, so that every rank's cache still holds the same routes.
    func route(count: Int, type: ElementType, remember: Bool = true) -> (route: AllReduceRoute, why: String) {
        // TORUS_TUNE: the communicator keeps each size's route (timed in its first calls), not this cache.
        if communicator.options.tuneCalls > 0 { return communicator.explainRoute(count: count, type: type) }
        let sizeClass = Int.bitWidth - (count * type.size).leadingZeroBitCount
        if let known = routes[sizeClass] { return known }
        let (route, why) = communicator.explainRoute(count: count, type: type)
        let low = sizeClass == 0 ? 0 : 1 << (sizeClass - 1)
        let chosen = (route, "size class \(ByteCount.format(low)) to \(ByteCount.format(2 * low)), chosen at its first call: \(why)")
        if remember { routes[sizeClass] = chosen }
        return chosen
    }

    func allReduce(_ sendBuffer: UnsafeRawPointer?, _ recvBuffer: UnsafeMutableRawPointer, count: Int, type: ElementType,
                   op: ReduceOp) throws {
        if communicator.options.tuneCalls > 0 {
            // TORUS_TUNE: each size's first calls time the routes the model finds close, per size
            // (`Communicator.allReduce`), not per size class.
            try communicator.allReduce(sendBuffer, recvBuffer, count: count, type: type, op: op)
            return
        }
        let (route, why) = route(count: count, type: type)
        if communicator.options.verbose >= 2 && communicator.rank == 0 { communicator.printRoute(bytes: count * type.size, route, why) }
        try communicator.allReduce(sendBuffer, recvBuffer, count: count, kernel: ReductionKernel(type: type, op: op), route: route)
    }
}

/// What the drop-in decides once per process, from the `TORUS_*` environment.
public struct DropInSettings: Equatable, Sendable {
    /// Calls of fewer bytes go to PMPI_Allreduce without entering Swift.
    public var minBytes: Int
    /// The same for MPI_Reduce_scatter_block (`MPICommunicator.defaultReduceScatterLibraryBelowBytes`
    /// unless set); MPI_Allgather uses `minBytes`.
    public var reduceScatterMinBytes: Int
    /// `TORUS_ALGORITHM=mpi`: every call goes to PMPI_Allreduce.
    public var passThrough: Bool

    /// Calls of `TORUS_MIN_BYTES` or more bytes are taken; unset, the measured default
    /// (`MPICommunicator.defaultLibraryBelowBytes`), or 0 when `TORUS_ALGORITHM` names an
    /// algorithm (it then takes every call it can, as the Swift API does) or `TORUS_MODEL` names a
    /// calibrated model (which chooses between MPI and the schedules at every size).
    public init(_ environment: TorusEnvironment) {
        passThrough = environment.route == .library
        if let bytes = environment.minBytes {
            minBytes = bytes
            reduceScatterMinBytes = bytes
        } else if case .schedule = environment.route {
            minBytes = 0
            reduceScatterMinBytes = 0
        } else if environment.modelPath != nil {
            // A calibrated model weighs MPI against the schedules at every size: each size class
            // asks it once (the route is kept), and a class it sends to MPI goes there.
            minBytes = 0
            reduceScatterMinBytes = 0
        } else {
            minBytes = MPICommunicator.defaultLibraryBelowBytes
            reduceScatterMinBytes = MPICommunicator.defaultReduceScatterLibraryBelowBytes
        }
    }

    /// Whether the drop-in takes calls of this type and op: only where its answer is MPI's own
    /// (see `libraryAgrees`: not float min/max, not 8- and 16-bit integer sum and product).
    public static func takes(_ type: ElementType, _ op: ReduceOp) -> Bool {
        op.supports(type) && libraryAgrees(type, op)
    }
}

/// Copies `text` NUL-terminated into a C buffer of `length` bytes, cut at a character boundary.
func write(_ text: String, to buffer: UnsafeMutablePointer<CChar>?, length: Int32) {
    guard let buffer, length > 0 else { return }
    var bytes = Array(text.utf8)
    if bytes.count > Int(length) - 1 {
        bytes = Array(bytes.prefix(Int(length) - 1))
        while let last = bytes.last, last & 0xC0 == 0x80 { bytes.removeLast() }
        if let last = bytes.last, last >= 0xC0 { bytes.removeLast() }
    }
    for (i, b) in bytes.enumerated() { buffer[i] = CChar(bitPattern: b) }
    buffer[bytes.count] = 0
}

func message(of error: Error) -> String {
    (error as? TorusError)?.description ?? "\(error)"
}

@_cdecl("torus_swift_configure")
func torusSwiftConfigure(_ minBytes: UnsafeMutablePointer<Int64>, _ reduceScatterMinBytes: UnsafeMutablePointer<Int64>,
                         _ passThrough: UnsafeMutablePointer<Int32>,
                         _ verbose: UnsafeMutablePointer<Int32>, _ takes: UnsafeMutablePointer<UInt16>,
                         _ text: UnsafeMutablePointer<CChar>?, _ length: Int32) -> Int32 {
    do {
        // Read once, here, under the C side's pthread_once: later communicators only read them.
        let environment = try MPIEnvironment.environment()
        _ = try MPIEnvironment.sharedSettings()   // and the model and placement, which communicators compare (torus_swift_agree)
        // What a communicator's set-up reads, read here once: a set-up may run on the progress thread (PendingSetUp).
        _ = try MPIEnvironment.calibratedCosts()
        MPIEnvironment.watchFinalize()
        _ = MPIEnvironment.sharedMemoryEagerLimit()
        let settings = DropInSettings(environment)
        minBytes.pointee = Int64(settings.minBytes)
        reduceScatterMinBytes.pointee = Int64(settings.reduceScatterMinBytes)
        passThrough.pointee = settings.passThrough ? 1 : 0
        verbose.pointee = Int32(environment.verbose)
        for (t, type) in ElementType.allCases.enumerated() {
            var mask: UInt16 = 0
            for (o, op) in ReduceOp.allCases.enumerated() where DropInSettings.takes(type, op) { mask |= 1 << UInt16(o) }
            takes[t] = mask
        }
        return 0
    } catch {
        write(message(of: error), to: text, length: length)
        return 1
    }
}

@_cdecl("torus_swift_agree")
func torusSwiftAgree(_ comm: MPI_Comm, _ text: UnsafeMutablePointer<CChar>?, _ length: Int32) -> Int32 {
    do {
        try MPICommunicator.agreeOnSettings(comm)
        return 0
    } catch {
        write(message(of: error), to: text, length: length)
        return 1
    }
}

@_cdecl("torus_swift_attach")
func torusSwiftAttach(_ comm: MPI_Comm, _ text: UnsafeMutablePointer<CChar>?, _ length: Int32) -> UnsafeMutableRawPointer? {
    do {
        return Unmanaged.passRetained(DropInState.made(try MPICommunicator.privateCopy(of: comm))).toOpaque()
    } catch {
        write(setUpFailure(error), to: text, length: length)
        return nil
    }
}

extension DropInState {
    /// The state of a private copy just set up: checks left to the C side, and the banner.
    static func made(_ c: MPICommunicator) -> DropInState {
        // TORUS_CHECK and TORUS_NAN_CHECK: the C side checks every call on the caller's communicator.
        c.options.check = false
        c.options.nanCheck = false
        if c.options.verbose >= 1 && c.rank == 0 {
            // A calibrated model routes every size (TORUS_MIN_BYTES then defaults to 0: DropInSettings).
            let routes = c.options.route.map { "every call it takes → \($0) (TORUS_ALGORITHM)" } ?? c.calibratedRouting
                ?? "calls of \(c.options.libraryBelowBytes) bytes or more → cost model: \(c.routesPerSize)"
            let hops = c.topology.worstRingHops.map { "worst ring hop \($0)" } ?? "placement unknown"
            let minBytes = (try? DropInSettings(MPIEnvironment.environment()).minBytes) ?? c.options.libraryBelowBytes
            printError("torus_mpi: library active on a communicator of \(c.size) ranks: \(c.topology), \(hops); \(routes); "
                       + (minBytes > 1 ? "calls below \(minBytes) bytes and " : "") + "the types and ops it leaves to MPI → PMPI_Allreduce")
        }
        return DropInState(c)
    }
}

@_cdecl("torus_swift_allreduce")
func torusSwiftAllReduce(_ state: UnsafeMutableRawPointer, _ sendBuffer: UnsafeRawPointer?, _ recvBuffer: UnsafeMutableRawPointer,
                         _ count: Int64, _ type: Int32, _ op: Int32, _ text: UnsafeMutablePointer<CChar>?, _ length: Int32) -> Int32 {
    let state = Unmanaged<DropInState>.fromOpaque(state).takeUnretainedValue()
    do {
        try state.allReduce(sendBuffer, recvBuffer, count: Int(count), type: ElementType.allCases[Int(type)], op: ReduceOp.allCases[Int(op)])
        return 0
    } catch {
        write(message(of: error), to: text, length: length)
        return 1
    }
}

@_cdecl("torus_swift_half")
func torusSwiftHalf(_ state: UnsafeMutableRawPointer, _ collective: Int32, _ sendBuffer: UnsafeRawPointer?,
                    _ recvBuffer: UnsafeMutableRawPointer, _ count: Int64, _ type: Int32, _ op: Int32,
                    _ text: UnsafeMutablePointer<CChar>?, _ length: Int32) -> Int32 {
    let c = Unmanaged<DropInState>.fromOpaque(state).takeUnretainedValue().communicator
    let type = ElementType.allCases[Int(type)]
    do {
        if Collective.allCases[Int(collective)] == .allGather {
            try c.allGather(sendBuffer, recvBuffer, blockCount: Int(count), type: type)
        } else {
            try c.reduceScatter(sendBuffer, recvBuffer, blockCount: Int(count), type: type, op: ReduceOp.allCases[Int(op)])
        }
        return 0
    } catch {
        write(message(of: error), to: text, length: length)
        return 1
    }
}

@_cdecl("torus_swift_check_records")
func torusSwiftCheckRecords(_ records: UnsafePointer<Int64>, _ size: Int32, _ rank: Int32, _ function: UnsafePointer<CChar>,
                            _ text: UnsafeMutablePointer<CChar>?, _ length: Int32) -> Int32 {
    let table = (0..<Int(size)).map { r in (0..<5).map { records[r * 5 + $0] } }
    guard let what = CallArguments.disagreements(table) else { return 0 }
    write(CallArguments.mismatchMessage(what, size: Int(size), rank: Int(rank), function: String(cString: function)), to: text, length: length)
    return 1
}

@_cdecl("torus_swift_nan_scan")
func torusSwiftNaNScan(_ type: Int32, _ buffer: UnsafeRawPointer?, _ count: Int64, _ rank: Int32, _ call: Int64,
                       _ what: UnsafePointer<CChar>, _ function: UnsafePointer<CChar>) {
    reportNonFinite(type: ElementType.allCases[Int(type)], buffer, count: Int(count), rank: rank, call: call,
                    what: String(cString: what), function: String(cString: function))
}

/// `TORUS_NAN_CHECK`: reports where `count` elements hold NaN or Inf, if they do — only the
/// process's first input and first result that hold any (where they first appear).
func reportNonFinite(type: ElementType, _ buffer: UnsafeRawPointer?, count: Int, rank: Int32, call: Int64, what: String,
                     function: String) {
    guard let buffer, count > 0, let found = NonFinite.scan(buffer, count: count, type: type),
          NaNReports.shared.firstTime(what) else { return }
    printError("torus_mpi: TORUS_NAN_CHECK: rank \(rank), \(function) call \(call): the \(what) has \(NonFinite.describe(found)) "
               + "(the process's first \(what) with any; later ones are not reported)")
}

/// What `TORUS_NAN_CHECK` has reported in this process (calls may come from several threads).
final class NaNReports: @unchecked Sendable {   // `reported` is guarded by `lock`
    static let shared = NaNReports()
    private let lock = NSLock()
    private var reported: Set<String> = []
    func firstTime(_ what: String) -> Bool {
        lock.lock()
        defer { lock.unlock() }
        return reported.insert(what).inserted
    }
}

@_cdecl("torus_swift_route")
func torusSwiftRoute(_ state: UnsafeMutableRawPointer, _ count: Int64, _ type: Int32, _ text: UnsafeMutablePointer<CChar>?, _ length: Int32) {
    let (route, why) = Unmanaged<DropInState>.fromOpaque(state).takeUnretainedValue().route(count: Int(count), type: ElementType.allCases[Int(type)], remember: false)
    write("\(route) (\(why))", to: text, length: length)
}

@_cdecl("torus_swift_detach")
func torusSwiftDetach(_ state: UnsafeMutableRawPointer) {
    Unmanaged<DropInState>.fromOpaque(state).takeUnretainedValue().communicator.free()
}

/// The application freed its communicator (`MPI_Comm_free`, which MPI allows with requests still
/// under way: they complete): the private copy goes too, behind those requests (`free`), without
/// waiting here for other ranks (a rank whose requests progress only in its test and wait calls
/// may be in a blocking call that waits for this one).
@_cdecl("torus_swift_release")
func torusSwiftRelease(_ state: UnsafeMutableRawPointer) {
    let object = Unmanaged<DropInState>.fromOpaque(state)
    object.takeUnretainedValue().communicator.free()
    object.release()
}

/// As MPI finalises: waits for every request the library runs (the application's are over in a
/// correct program; the library's last ones free communicators).
@_cdecl("torus_swift_drain_all")
func torusSwiftDrainAll() {
    ProgressEngine.shared.drainAll()
}

@_cdecl("torus_swift_reduce_local")
func torusSwiftReduceLocal(_ type: Int32, _ op: Int32, _ target: UnsafeMutableRawPointer, _ input: UnsafeRawPointer, _ count: Int64) {
    // The C side asks only for pairs `takes` allowed, which the kernel supports.
    guard let kernel = try? ReductionKernel(type: ElementType.allCases[Int(type)], op: ReduceOp.allCases[Int(op)]) else { return }
    kernel.accumulate(into: target, input, count: Int(count))
}

/// What a nonblocking call's request checks besides its work (the C side's `TORUS_CHECK` record,
/// and the float type whose result `TORUS_NAN_CHECK` scans).
struct RequestChecks {
    var record: [Int64]?
    var nanType: ElementType?
    var rank: Int32
    var call: Int64

    init(record: UnsafePointer<Int64>?, nanType: Int32, rank: Int32, call: Int64) {
        self.record = record.map { Array(UnsafeBufferPointer(start: $0, count: 5)) }
        self.nanType = nanType >= 0 ? ElementType.allCases[Int(nanType)] : nil
        self.rank = rank
        self.call = call
    }
}

extension DropInState {
    /// A request's stages: `TORUS_CHECK`'s agreement first, then `work`, then `TORUS_NAN_CHECK`'s
    /// scan of the result.
    func stages(_ work: [RequestStageStart], call: StalledCall, checks: RequestChecks, result: UnsafeRawPointer,
                count: Int) -> [RequestStageStart] {
        var stages: [RequestStageStart] = []
        if let record = checks.record { stages.append(communicator.agreementStage(record, stalled: call)) }
        stages += work
        if let type = checks.nanType {
            stages.append {
                reportNonFinite(type: type, result, count: count, rank: checks.rank, call: checks.call, what: "result", function: "MPI_Iallreduce")
                return nil
            }
        }
        return stages
    }

    func iAllReduce(_ sendBuffer: UnsafeRawPointer?, _ recvBuffer: UnsafeMutableRawPointer, count: Int, type: ElementType,
                    op: ReduceOp, checks: RequestChecks) throws -> [RequestStageStart] {
        var algorithm: Algorithm?
        if case let .schedule(a) = route(count: count, type: type).route { algorithm = a }
        let (work, call) = try communicator.allReduceStages(sendBuffer, recvBuffer, count: count, type: type, op: op, algorithm: algorithm)
        return stages(work, call: call, checks: checks, result: recvBuffer, count: count)
    }

    /// A call the library passes to MPI, run as a request so that `TORUS_CHECK` agrees on it first:
    /// MPI_Iallreduce on the private communicator.
    func iPass(_ sendBuffer: UnsafeRawPointer?, _ recvBuffer: UnsafeMutableRawPointer, count: Int32, datatype: MPI_Datatype,
               op: MPI_Op, checks: RequestChecks) throws -> [RequestStageStart] {
        try communicator.checkUsable()
        let call = StalledCall(call: communicator.calls.next(), route: "mpi", summary: "\(count) elements passed to MPI_Iallreduce")
        return stages([communicator.libraryStage(sendBuffer, recvBuffer, count: count, datatype: datatype, op: op)],
                      call: call, checks: checks, result: recvBuffer, count: Int(count))
    }
}

/// An MPI generalized request to complete from the progress thread.
private struct GeneralizedRequest: @unchecked Sendable {   // an MPI handle, used once
    let handle: MPI_Request
}

/// Completes `grequest`, if any, when the request is over; a failure is printed first (MPI_Wait
/// then returns an error, whose text MPI cannot know), as the blocking call prints it.
private func completing(_ grequest: UnsafeMutablePointer<MPI_Request?>?, rank: Int) -> (@Sendable (Error?) -> Void)? {
    guard let handle = grequest?.pointee else { return nil }
    let g = GeneralizedRequest(handle: handle)
    return { @Sendable error in
        if let error { printError("torus_mpi: rank \(rank): MPI_Iallreduce failed: \(message(of: error))") }
        _ = MPI_Grequest_complete(g.handle)
    }
}

@_cdecl("torus_swift_iallreduce")
func torusSwiftIAllReduce(_ state: UnsafeMutableRawPointer?, _ pending: UnsafeMutableRawPointer?, _ sendBuffer: UnsafeRawPointer?,
                          _ recvBuffer: UnsafeMutableRawPointer, _ count: Int64, _ type: Int32, _ op: Int32,
                          _ record: UnsafePointer<Int64>?, _ nanType: Int32, _ rank: Int32, _ call: Int64,
                          _ grequest: UnsafeMutablePointer<MPI_Request?>?,
                          _ text: UnsafeMutablePointer<CChar>?, _ length: Int32) -> UnsafeMutableRawPointer? {
    let checks = RequestChecks(record: record, nanType: nanType, rank: rank, call: call)
    return startRequest(state, pending, grequest, text, length) {
        try $0.iAllReduce(sendBuffer, recvBuffer, count: Int(count), type: ElementType.allCases[Int(type)], op: ReduceOp.allCases[Int(op)],
                          checks: checks)
    }
}

@_cdecl("torus_swift_ipass")
func torusSwiftIPass(_ state: UnsafeMutableRawPointer?, _ pending: UnsafeMutableRawPointer?, _ sendBuffer: UnsafeRawPointer?,
                     _ recvBuffer: UnsafeMutableRawPointer, _ count: Int32, _ datatype: MPI_Datatype, _ op: MPI_Op,
                     _ record: UnsafePointer<Int64>?, _ nanType: Int32, _ rank: Int32, _ call: Int64,
                     _ grequest: UnsafeMutablePointer<MPI_Request?>?,
                     _ text: UnsafeMutablePointer<CChar>?, _ length: Int32) -> UnsafeMutableRawPointer? {
    let checks = RequestChecks(record: record, nanType: nanType, rank: rank, call: call)
    return startRequest(state, pending, grequest, text, length) {
        try $0.iPass(sendBuffer, recvBuffer, count: count, datatype: datatype, op: op, checks: checks)
    }
}

/// The C entry points' start of a request on a communicator's state, or on its set-up while that
/// runs (the request then queues behind the set-up and makes its stages when it is over): a
/// retained request, or NULL and the error's message.
private func startRequest(_ state: UnsafeMutableRawPointer?, _ pending: UnsafeMutableRawPointer?,
                          _ grequest: UnsafeMutablePointer<MPI_Request?>?, _ text: UnsafeMutablePointer<CChar>?, _ length: Int32,
                          _ stages: @escaping (DropInState) throws -> [RequestStageStart]) -> UnsafeMutableRawPointer? {
    let request: AllReduceRequest
    if let state {
        let state = Unmanaged<DropInState>.fromOpaque(state).takeUnretainedValue()
        do {
            request = state.communicator.startRequest(try stages(state), onFinish: completing(grequest, rank: state.communicator.rank))
        } catch {
            write(message(of: error), to: text, length: length)
            return nil
        }
    } else {
        let setUp = Unmanaged<PendingSetUp>.fromOpaque(pending!).takeUnretainedValue()
        request = ProgressEngine.shared.start([{ AfterSetUp(setUp, make: stages) }], key: setUp, threaded: setUp.threaded,
                                              onFinish: completing(grequest, rank: setUp.rank))
    }
    return Unmanaged.passRetained(request).toOpaque()
}

@_cdecl("torus_swift_request_progress")
func torusSwiftRequestProgress(_ request: UnsafeMutableRawPointer, _ wait: Int32, _ text: UnsafeMutablePointer<CChar>?,
                               _ length: Int32) -> Int32 {
    let object = Unmanaged<AllReduceRequest>.fromOpaque(request)
    do {
        if wait != 0 {
            try object.takeUnretainedValue().wait()
        } else if try !object.takeUnretainedValue().test() {
            return 0
        }
        object.release()
        return 1
    } catch {
        write(message(of: error), to: text, length: length)
        object.release()
        return -1
    }
}

@_cdecl("torus_swift_request_failed")
func torusSwiftRequestFailed(_ request: UnsafeMutableRawPointer) -> Int32 {
    Unmanaged<AllReduceRequest>.fromOpaque(request).takeUnretainedValue().failure == nil ? 0 : 1
}

@_cdecl("torus_swift_request_release")
func torusSwiftRequestRelease(_ request: UnsafeMutableRawPointer) {
    Unmanaged<AllReduceRequest>.fromOpaque(request).release()
}
