import CMPI
#if canImport(Glibc)
import Glibc
#endif
import TorusCore
import TorusRuntime
import TorusSchedules

/// An MPI communicator as a TorusCollectives `Communicator`: the world, a `split` or `dup` of it,
/// or any `MPI_Comm` a C or Swift caller already has (a data-parallel subcommunicator, say).
///
/// On creation the members first check that they share the settings that decide which messages
/// and collectives each takes part in (`SharedSettings`), then exchange their torus nodes once
/// (from `TORUS_RANKMAP`, `TORUS_DIMS` or a near-cubic default); a group that fills a box runs
/// `sixring` on the box's dims, any other on a virtual grid. Calls below `libraryBelowBytes` go to
/// MPI's own `PMPI_Allreduce` where it gives our answer, the rest to `sixring`; `TORUS_ALGORITHM`
/// forces one route.
public final class MPICommunicator: Communicator, RecordGathering {
    /// Below this many bytes calls go to PMPI_Allreduce by default. Measured with torus-bench on
    /// this project's 2-core machine (README, "Choosing the algorithm"): with 2, 4 and 8 ranks
    /// sixring overtakes Open MPI's AllReduce between 4 and 16 MiB. `TORUS_MIN_BYTES` overrides it.
    public static let defaultLibraryBelowBytes = 16 << 20
    /// The same for ReduceScatter (`PMPI_Reduce_scatter_block`): Open MPI 4.1's is slower than ring
    /// and Rabenseifner from 1 MiB on here (4–7× at 1 MiB with 2 and 4 ranks, README "ReduceScatter
    /// and AllGather on MPI") and faster below 256 KiB. AllGather keeps `defaultLibraryBelowBytes`.
    public static let defaultReduceScatterLibraryBelowBytes = 1 << 20
    /// What Open MPI's eager limit (`btl_vader_eager_limit`, headers included) leaves of payload
    /// for the executor's eager halves: `Benchmarks/c/rendezvous_cost.c` here, with the default
    /// 4,096, exchanged 4,032 bytes eagerly (1.1–1.2 µs) and 4,048 by rendezvous (4.3–5.5 µs), as
    /// the calibration's ping-pong found (README, "Eager halves").
    public static let eagerHeaderBytes = 64

    public let handle: MPI_Comm
    public let rank: Int
    public let size: Int
    public let topology: GroupTopology
    public let transport: Transport
    /// The process's reduction threads (`ReductionThreads`), or inline.
    public let reductionEngine: ReductionEngine
    public let scratch = ScratchSpace()
    /// Changing them forgets the routes chosen from them.
    public var options: CollectiveOptions { didSet { scratch.optionsChanged() } }
    /// Whether this object frees the communicator (a `split`, `dup` or private copy it made).
    private var owned: Bool
    /// `TORUS_ON_STALL`: end the job after a stall report (else keep waiting).
    public var abortOnStall = true

    /// A progress thread may run nonblocking requests only under MPI_THREAD_MULTIPLE; below it
    /// they progress inside `test` and `wait`.
    public var progressThreadAllowed: Bool {
        var level: Int32 = 0
        return MPI_Query_thread(&level) == torus_MPI_SUCCESS() && level == torus_MPI_THREAD_MULTIPLE()
    }

    /// The world communicator (initialises MPI if the program has not).
    public static func world() throws -> MPICommunicator {
        try MPIEnvironment.initialize()
        return try MPICommunicator(borrowing: torus_MPI_COMM_WORLD())
    }

    /// Wraps a communicator the caller owns (and frees). Collective over its members.
    public convenience init(borrowing comm: MPI_Comm) throws {
        try self.init(comm: comm, owned: false)
    }

    /// Sets `comm` up (collective): the set-up exchange (`SetUpExchange`), waited for here.
    private convenience init(comm: MPI_Comm, owned: Bool, announce: Bool = true) throws {
        var inter: Int32 = 0
        try mpiCheck(MPI_Comm_test_inter(comm, &inter), "MPI_Comm_test_inter")
        guard inter == 0 else {
            throw TorusError.invalidValue(name: "communicator", value: "an intercommunicator", expected: "an intracommunicator")
        }
        // First, before anything that depends on them: the ranks' TORUS_ settings agree (or every
        // rank throws the same error; `SharedSettings`), in the exchange that tells each its view.
        let exchange = try SetUpExchange(comm, facts: MemberFacts.read(), nodes: true)
        try exchange.wait()
        try self.init(comm: comm, owned: owned, announce: announce, agreed: exchange.agreed())
    }

    /// The communicator `comm` whose set-up exchange is over: no collective here.
    init(comm: MPI_Comm, owned: Bool, announce: Bool, agreed: AgreedFacts) throws {
        MPIEnvironment.watchFinalize()
        handle = comm
        self.owned = owned
        rank = agreed.rank
        size = agreed.size
        transport = MPITransport(comm: comm, rank: rank, size: size)
        let environment = agreed.mine.environment
        reductionEngine = ReductionThreads.engine(environment: environment)
        // The members' nodes, told once; the view is cached for the communicator's life.
        topology = try GroupTopology.of(nodes: agreed.nodes, on: agreed.mine.machine)
        let calibrated = agreed.mine.calibrated
        let oneHost = agreed.oneHost
        // Eager halves: TORUS_EAGER_BYTES, else the rules of the calibration nearest this size,
        // else on one host Open MPI's shared-memory eager limit less its headers (the smallest
        // of the members', so that all cut steps alike: a rank may have its own
        // `OMPI_MCA_btl_vader_eager_limit`).
        let eager = try environment.eagerBytes ?? calibrated?.model.calibration(ranks: size).model.eagerSplitBytes
            ?? (oneHost ? agreed.eagerPayload : 0)
        // A ring of scratch segments where every message is a copy in memory (IssueRules rule 3).
        let scratchSegments = environment.scratchSegments ?? (oneHost ? IssueRules.sharedMemoryScratchSegments : 0)
        options = CollectiveOptions(route: environment.route,
                                    libraryBelowBytes: environment.minBytes ?? MPICommunicator.defaultLibraryBelowBytes,
                                    smallAlgorithm: .recursiveDoubling, largeAlgorithm: nil,
                                    executor: ExecutorOptions(rules: IssueRules(segmentBytes: environment.segmentBytes ?? IssueRules().segmentBytes,
                                                                                eagerSplitBytes: eager, scratchSegments: scratchSegments)),
                                    verbose: environment.verbose)
        options.reduceScatterLibraryBelowBytes = environment.minBytes ?? MPICommunicator.defaultReduceScatterLibraryBelowBytes
        options.selection.calibrated = calibrated
        options.check = environment.check
        options.nanCheck = environment.nanCheck
        options.tuneCalls = environment.tuneCalls
        options.executor.stallSeconds = environment.stallSeconds
        abortOnStall = environment.abortOnStall
        if announce && options.verbose >= 1 && rank == 0 { printError("torus: " + summary) }
    }

    /// One line about the communicator: its view, its worst ring hop, how calls are routed.
    public var summary: String {
        let hops = topology.worstRingHops.map { "worst ring hop \($0)" } ?? "placement unknown"
        let routing: String
        if let r = options.route {
            routing = "every call → \(r) (TORUS_ALGORITHM)"
        } else if let calibrated = calibratedRouting {
            routing = calibrated
        } else {
            routing = (options.selection.calibrated.map { "schedules estimated by \($0.summary), which has no MPI times on \(size) ranks; " } ?? "")
                + "calls below \(options.libraryBelowBytes) bytes → mpi (or \(options.smallAlgorithm.rawValue) where MPI's answer differs from ours), "
                + "larger → \(options.largeAlgorithm?.rawValue ?? "cost model: " + routesPerSize)"
        }
        let eager = options.executor.rules.eagerSplitBytes, ring = options.executor.rules.scratchSegments
        return "communicator of \(size) ranks: \(topology), \(hops); \(routing)"
            + (eager > 0 ? "; steps of \(eager + 1)-\(2 * eager) bytes go as two eager halves" : "")
            + (ring > 0 ? "; receive-and-reduce scratch in a ring of \(ring) segments" : "")
    }

    /// With a calibrated model that timed MPI's AllReduce on this many ranks, how it routes calls
    /// (this communicator's summary and the drop-in's banner say it alike); nil without one.
    public var calibratedRouting: String? {
        guard let model = options.selection.calibrated, model.librarySeconds(.allReduce, ranks: size, bytes: 8) != nil else { return nil }
        return "each call → the cheapest estimate of \(model.summary), mpi among them: \(routesPerSize)"
            + (options.tuneCalls > 0 ? " (the first calls of each size time the routes within \(AlgorithmSelection.closeFactor)× of the cheapest estimate, "
               + "\(options.tuneCalls) each, twice, and the rest take the fastest: TORUS_TUNE)" : "")
    }

    /// The cost model's choice at the threshold and at 4, 16 and 64 times it: "16M sixring, 64M ring, …"
    /// (with a calibrated model that timed MPI here: at 8 bytes and every 16 times more up to 64 MiB).
    public var routesPerSize: String {
        if options.selection.calibrated?.librarySeconds(.allReduce, ranks: size, bytes: 8) != nil {
            return stride(from: 3, through: 26, by: 4).map { 1 << $0 }.map { bytes in
                "\(ByteCount.format(bytes)) \(options.selection.chooseCalibrated(topology: topology, bytes: bytes)!.0?.rawValue ?? "mpi")"
            }.joined(separator: ", ")
        }
        let first = max(options.libraryBelowBytes, 1 << 20)
        return [first, first << 2, first << 4, first << 6]
            .map { "\(ByteCount.format($0)) \(options.selection.choose(topology: topology, bytes: $0).0.rawValue)" }
            .joined(separator: ", ")
    }

    /// A communicator over the same group as `comm`, in the same rank order, with its own message
    /// space and none of `comm`'s attributes (MPI_Comm_create rather than MPI_Comm_dup, so no
    /// copy callback of the application runs), returning errors rather than aborting. The drop-in
    /// library sends its own messages on it, so that they can never match an application's
    /// receive. Collective over `comm`.
    public static func privateCopy(of comm: MPI_Comm) throws -> MPICommunicator {
        var group: MPI_Group? = torus_MPI_GROUP_NULL()
        try mpiCheck(PMPI_Comm_group(comm, &group), "MPI_Comm_group")
        defer { PMPI_Group_free(&group) }
        // The blocking collectives of the setup start only once every rank is here.
        try awaitEveryRank(of: comm, environment: try MPIEnvironment.environment())
        var copy: MPI_Comm? = torus_MPI_COMM_NULL()
        try mpiCheck(PMPI_Comm_create(comm, group, &copy), "MPI_Comm_create")
        try mpiCheck(PMPI_Comm_set_errhandler(copy, torus_MPI_ERRORS_RETURN()), "MPI_Comm_set_errhandler")
        do {
            return try MPICommunicator(comm: copy!, owned: true, announce: false)
        } catch {
            PMPI_Comm_free(&copy)
            throw error
        }
    }

    /// `privateCopy` in rounds that never block, for a communicator whose first library call is
    /// nonblocking (the drop-in's `MPI_Iallreduce`, the C API's `torus_iallreduce`), whose set-up
    /// must not wait for the other ranks (a correct program may start its first requests on two
    /// communicators in different orders): `MPI_Comm_idup`, started at once in the caller's order
    /// of collectives on `comm` (unlike `privateCopy` it runs the application's attribute copy
    /// callbacks), then the set-up exchange on the copy (`SetUpExchange`), which involves no other
    /// communicator; both tested under the stall watch. The progress engine advances it, on its
    /// thread or in the application's `test` and `wait`.
    public final class CopyInRounds {
        private var copy: MPI_Comm?
        /// Where `MPI_Comm_idup` writes the copy: at the call and again when it completes (Open
        /// MPI 4.1 does both), so it must outlive the call — and the idup, if that never completes.
        private let newComm: UnsafeMutablePointer<MPI_Comm?>
        private var idup: SetUpCollective?
        private var exchange: SetUpExchange?
        private let facts: Result<MemberFacts, Error>
        /// Whether the `MPI_Comm_idup` is over (or failed): only then may `comm` be freed (Open
        /// MPI's idup reads it until it completes).
        public private(set) var copied = false

        /// Starts the copy of `comm` (collective, nonblocking). On the thread that talks to MPI.
        public init(of comm: MPI_Comm) throws {
            facts = MemberFacts.read()
            let environment = MemberFacts.stallEnvironment(facts)
            // The process's reduction threads, made here if this is its first communicator: they
            // pin the progress thread (`TORUS_PROGRESS_CORE`), which may start with this set-up.
            _ = ReductionThreads.engine(environment: environment)
            newComm = .allocate(capacity: 1)
            newComm.initialize(to: torus_MPI_COMM_NULL())
            var request: MPI_Request? = torus_MPI_REQUEST_NULL()
            do {
                try mpiCheck(PMPI_Comm_idup(comm, newComm, &request), "MPI_Comm_idup")
            } catch {
                newComm.deallocate()
                throw error
            }
            idup = SetUpCollective(request: request, comm: comm, stallSeconds: environment.stallSeconds,
                                   abortOnStall: environment.abortOnStall,
                                   waitingFor: "to make their first library call on this communicator (a nonblocking one), where the "
                                       + "library copies it (MPI_Comm_idup): a rank that never calls, calls below the size threshold "
                                       + "(TORUS_MIN_BYTES) or makes another collective call on it first holds the rest here")
        }

        /// One round that never blocks: the library's communicator on the copy once the set-up is
        /// over, nil before. Throws if it failed (the copy is then freed).
        public func advance() throws -> MPICommunicator? {
            do {
                if idup != nil {
                    guard try idup!.test() else { return nil }
                    idup = nil
                    copy = newComm.pointee
                    copied = true
                    try mpiCheck(PMPI_Comm_set_errhandler(copy, torus_MPI_ERRORS_RETURN()), "MPI_Comm_set_errhandler")
                    exchange = try SetUpExchange(copy!, facts: facts, nodes: true)
                }
                guard try exchange!.test() else { return nil }
                return try MPICommunicator(comm: copy!, owned: true, announce: false, agreed: exchange!.agreed())
            } catch {
                if copy != nil { PMPI_Comm_free(&copy) }
                copied = true
                throw error
            }
        }

        deinit {
            if idup == nil { newComm.deallocate() }   // else MPI may still write it
        }
    }

    /// Frees the communicator if this object made it (idempotent; nothing is freed once MPI is
    /// finalised): now, or, while nonblocking requests run on it, by one more request queued behind
    /// them — never while they still send on it, and without waiting for other ranks. (MPI lets an
    /// application free a communicator with requests under way; the drop-in then frees its private
    /// copy this way.) Later calls on this object fail in MPI.
    public func free() {
        guard owned else { return }
        if ProgressEngine.shared.hasPending(self) {
            _ = startRequest([{ [self] in
                freeNow()
                return nil
            }])
            return
        }
        freeNow()
    }

    /// Frees the communicator at once if this object made it: only where no request runs on it
    /// (a request's own last stage, as `free` queues one).
    public func freeNow() {
        guard owned else { return }
        owned = false
        guard MPIEnvironment.isInitialized && !MPIEnvironment.isFinalized else { return }
        var comm: MPI_Comm? = handle
        PMPI_Comm_free(&comm)
    }

    /// A duplicate with its own message space (MPI_Comm_dup). Collective.
    public func dup() throws -> MPICommunicator {
        var new: MPI_Comm? = torus_MPI_COMM_NULL()
        try mpiCheck(MPI_Comm_dup(handle, &new), "MPI_Comm_dup")
        return try MPICommunicator(comm: new!, owned: true)
    }

    public func split(color: Int?, key: Int) throws -> Communicator? {
        var new: MPI_Comm? = torus_MPI_COMM_NULL()
        let c = color.map { Int32($0) } ?? torus_MPI_UNDEFINED()
        try mpiCheck(MPI_Comm_split(handle, c, Int32(truncatingIfNeeded: key), &new), "MPI_Comm_split")
        guard color != nil else { return nil }
        return try MPICommunicator(comm: new!, owned: true)
    }

    public func libraryAllReduce(_ sendBuffer: UnsafeRawPointer?, _ recvBuffer: UnsafeMutableRawPointer, count: Int,
                                 type: ElementType, op: ReduceOp) throws -> Bool {
        guard libraryAgrees(type, op), let datatype = type.mpiDatatype, count <= Int(Int32.max) else { return false }
        try mpiCheck(PMPI_Allreduce(sendBuffer ?? UnsafeRawPointer(torus_MPI_IN_PLACE()), recvBuffer, Int32(count), datatype, op.mpiOp, handle),
                     "MPI_Allreduce")
        return true
    }

    public func libraryHalf(_ collective: Collective, _ sendBuffer: UnsafeRawPointer?, _ recvBuffer: UnsafeMutableRawPointer,
                            blockCount: Int, type: ElementType, op: ReduceOp) throws -> Bool {
        let send = sendBuffer ?? UnsafeRawPointer(torus_MPI_IN_PLACE())
        guard blockCount <= Int(Int32.max), blockCount * size <= Int(Int32.max) else { return false }
        switch collective {
        case .reduceScatter:
            guard libraryAgrees(type, op), let datatype = type.mpiDatatype else { return false }
            try mpiCheck(PMPI_Reduce_scatter_block(send, recvBuffer, Int32(blockCount), datatype, op.mpiOp, handle),
                         "MPI_Reduce_scatter_block")
        case .allGather:
            // Nothing is reduced: the 16-bit floats MPI lacks travel as 16-bit integers.
            let datatype = type.mpiDatatype ?? torus_MPI_UINT16_T()
            try mpiCheck(PMPI_Allgather(send, Int32(blockCount), datatype, recvBuffer, Int32(blockCount), datatype, handle),
                         "MPI_Allgather")
        case .allReduce:
            return try libraryAllReduce(sendBuffer, recvBuffer, count: blockCount, type: type, op: op)
        }
        return true
    }

    deinit {
        freeNow()   // no request runs on it: requests keep their communicator alive
    }
}

extension MPICommunicator {
    /// A nonblocking request's stage that hands the call to MPI's own `MPI_Iallreduce` on this
    /// communicator, with MPI's handles (any type and op MPI has), and tests it each round. The
    /// drop-in runs calls it passes to MPI this way when `TORUS_CHECK` must agree on them first:
    /// on its private communicator, so that their start on the progress thread cannot reorder them
    /// against the application's own collectives.
    public func libraryStage(_ sendBuffer: UnsafeRawPointer?, _ recvBuffer: UnsafeMutableRawPointer, count: Int32,
                             datatype: MPI_Datatype, op: MPI_Op) -> RequestStageStart {
        let comm = handle
        return { LibraryRequest(sendBuffer, recvBuffer, count: count, datatype: datatype, op: op, comm: comm) }
    }
}

/// `MPICommunicator.libraryStage`: MPI_Iallreduce, started when the stage starts (at the head of
/// its communicator's queue), then tested each round.
private final class LibraryRequest: RequestStage {
    private let started: Int32
    private var request: MPI_Request?

    init(_ sendBuffer: UnsafeRawPointer?, _ recvBuffer: UnsafeMutableRawPointer, count: Int32, datatype: MPI_Datatype, op: MPI_Op,
         comm: MPI_Comm) {
        started = PMPI_Iallreduce(sendBuffer ?? UnsafeRawPointer(torus_MPI_IN_PLACE()), recvBuffer, count, datatype, op, comm, &request)
    }

    func advance() throws -> Bool {
        try mpiCheck(started, "MPI_Iallreduce")
        var done: Int32 = 0
        try mpiCheck(PMPI_Test(&request, &done, torus_MPI_STATUS_IGNORE()), "MPI_Test of MPI_Iallreduce")
        // No yield here (the engine's loop yields after 64 rounds in which nothing moved): at np=2
        // on two cores, a yield on every test handed the core to the spinning application thread
        // for a scheduler slice, and every such call took 4.0 ms (README, "TORUS_CHECK on MPI_Iallreduce").
        return done != 0
    }
}

extension MPICommunicator {
    /// No MPI call may follow MPI_Finalize: a call then is an error here, not an abort inside MPI.
    public func checkUsable() throws {
        if MPIEnvironment.isFinalized {
            throw TorusError.communication("MPI has been finalised (MPIEnvironment.finalize() or MPI_Finalize): no collective can run "
                                           + "after it; make every AllReduce before finalising")
        }
    }

    /// `TORUS_CHECK`'s exchange: one PMPI_Allgather of every rank's record.
    public func allGather(_ record: [Int64]) throws -> [[Int64]] {
        try MPICommunicator.allGather(record, on: handle, size: size, what: "the call's arguments (TORUS_CHECK)")
    }

    /// Every rank's `record` (all of the same length) over `comm` of `size` ranks, in rank order.
    static func allGather(_ record: [Int64], on comm: MPI_Comm, size: Int, what: String) throws -> [[Int64]] {
        var mine = record
        let n = record.count
        var all = [Int64](repeating: 0, count: n * size)
        try mpiCheck(PMPI_Allgather(&mine, Int32(n), torus_MPI_INT64_T(), &all, Int32(n), torus_MPI_INT64_T(), comm), "MPI_Allgather of \(what)")
        return (0..<size).map { Array(all[$0 * n ..< ($0 + 1) * n]) }
    }
}

extension MPICommunicator {
    /// `TORUS_TIMEOUT`'s report, on every rank still waiting: the communicator, the call's number on
    /// it, the algorithm, and each request in flight with its peer as a world rank and a torus node.
    /// `TORUS_ON_STALL=abort` then ends the job with MPI_Abort and a one-line summary of the ranks
    /// this rank never heard from; `warn` keeps waiting.
    public func reportStall(_ stall: ExecutorStall, in stalled: StalledCall) throws {
        let world = worldRanks
        let me = world.indices.contains(rank) ? world[rank] : rank
        func who(_ peer: Int) -> String {
            let w = world.indices.contains(peer) ? world[peer] : -1
            guard let machine = topology.machine, let nodes = topology.machineNodeOf, nodes.indices.contains(peer),
                  let c = try? machine.coordinate(of: nodes[peer]) else { return "world rank \(w)" }
            return "world rank \(w) at torus node (" + c.map(String.init).joined(separator: ",") + ")"
        }
        var lines = ["torus: world rank \(me) (rank \(rank) of a communicator of \(size)): call \(stalled.call) on this communicator, "
                     + "\(stalled.route), \(stalled.detail), has waited \(Int(stall.seconds)) s "
                     + "with no message completing (TORUS_TIMEOUT). Waiting for:"]
        for p in stall.sortedPending {
            lines.append("torus:   \(p.transfer) rank \(p.peer) = \(who(p.peer))" + (p.place.isEmpty ? "" : ", \(p.place)"))
        }
        let silent = Set(stall.pending.filter { $0.kind != .send }.map(\.peer)).sorted()
        printError(lines.joined(separator: "\n"))
        guard abortOnStall else { return }
        let summary = silent.isEmpty ? "its sends were never received"
            : "never heard from " + silent.map { "world rank \(world.indices.contains($0) ? world[$0] : $0)" }.joined(separator: ", ")
        printError("torus: world rank \(me): stalled for \(Int(stall.seconds)) s in call \(stalled.call) (\(stalled.route)): \(summary); "
                   + "ending the job (TORUS_ON_STALL=warn keeps waiting, TORUS_TIMEOUT=0 never reports)")
        MPI_Abort(torus_MPI_COMM_WORLD(), 3)
    }

    /// Waits, under the stall watch (`TORUS_TIMEOUT`), for every rank of `comm` to arrive (a
    /// nonblocking barrier), so that the blocking collectives of a communicator's setup cannot hang
    /// on a rank that never calls: every rank that waits too long says so, and
    /// `TORUS_ON_STALL=abort` ends the job.
    static func awaitEveryRank(of comm: MPI_Comm, environment: TorusEnvironment) throws {
        guard environment.stallSeconds > 0 else { return }
        var request: MPI_Request? = torus_MPI_REQUEST_NULL()
        try mpiCheck(PMPI_Ibarrier(comm, &request), "MPI_Ibarrier")
        var barrier = SetUpCollective(request: request, comm: comm, stallSeconds: environment.stallSeconds,
                                      abortOnStall: environment.abortOnStall,
                                      waitingFor: "to make their first library call on this communicator, where the library sets up "
                                          + "its state: a rank that never calls, calls below the size threshold (TORUS_MIN_BYTES) or "
                                          + "on another communicator holds the rest here")
        try barrier.wait()
    }

    /// Collective over `comm`: the ranks compare their `MPIEnvironment.sharedSettings` (the set-up
    /// exchange without the nodes: one nonblocking `MPI_Allreduce` of a few integers, under the
    /// stall watch) before anything that depends on them (the drop-in's first blocking call on a
    /// communicator). When a rank could not read its settings, or the ranks' differ, every rank
    /// throws — the rank that failed its own error, the others one naming it; differing settings an
    /// error naming the variables and the ranks (`SharedSettings.mismatchMessage`) — so that no rank
    /// goes on to wait for ranks that stopped.
    public static func agreeOnSettings(_ comm: MPI_Comm) throws {
        let exchange = try SetUpExchange(comm, facts: MemberFacts.read(), nodes: false)
        try exchange.wait()
        _ = try exchange.agreed()
    }

    /// Each rank's rank in MPI_COMM_WORLD.
    var worldRanks: [Int] {
        var group: MPI_Group?, worldGroup: MPI_Group?
        guard MPI_Comm_group(handle, &group) == torus_MPI_SUCCESS(), MPI_Comm_group(torus_MPI_COMM_WORLD(), &worldGroup) == torus_MPI_SUCCESS()
        else { return Array(0..<size) }
        defer {
            MPI_Group_free(&group)
            MPI_Group_free(&worldGroup)
        }
        var mine = (0..<Int32(size)).map { $0 }
        var theirs = [Int32](repeating: -1, count: size)
        guard MPI_Group_translate_ranks(group, Int32(size), &mine, worldGroup, &theirs) == torus_MPI_SUCCESS() else { return Array(0..<size) }
        return theirs.map { Int($0) }
    }
}
