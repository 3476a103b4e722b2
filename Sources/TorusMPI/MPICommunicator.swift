import CMPI
import TorusCore
import TorusRuntime
import TorusSchedules

/// An MPI communicator as a TorusCollectives `Communicator`: the world, a `split` or `dup` of it,
/// or any `MPI_Comm` a C or Swift caller already has (a data-parallel subcommunicator, say).
///
/// On creation the members exchange their torus nodes once (from `TORUS_RANKMAP`, `TORUS_DIMS` or
/// a near-cubic default); a group that fills a box runs `sixring` on the box's dims, any other on
/// a virtual grid. Calls below `libraryBelowBytes` go to MPI's own `PMPI_Allreduce` where it gives
/// our answer, the rest to `sixring`; `TORUS_ALGORITHM` forces one route.
public final class MPICommunicator: Communicator {
    /// Below this many bytes calls go to PMPI_Allreduce by default. Measured with torus-bench on
    /// this project's 2-core machine (README, "Choosing the algorithm"): with 2, 4 and 8 ranks
    /// sixring overtakes Open MPI's AllReduce between 4 and 16 MiB. `TORUS_MIN_BYTES` overrides it.
    public static let defaultLibraryBelowBytes = 16 << 20

    public let handle: MPI_Comm
    public let rank: Int
    public let size: Int
    public let topology: GroupTopology
    public let transport: Transport
    /// The process's reduction threads (`ReductionThreads`), or inline.
    public let reductionEngine: ReductionEngine
    public let scratch = ScratchSpace()
    public var options: CollectiveOptions
    /// Whether this object frees the communicator (a `split`, `dup` or private copy it made).
    private var owned: Bool

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

    private init(comm: MPI_Comm, owned: Bool, announce: Bool = true) throws {
        handle = comm
        self.owned = owned
        var r: Int32 = 0, n: Int32 = 0, inter: Int32 = 0
        try mpiCheck(MPI_Comm_test_inter(comm, &inter), "MPI_Comm_test_inter")
        guard inter == 0 else {
            throw TorusError.invalidValue(name: "communicator", value: "an intercommunicator", expected: "an intracommunicator")
        }
        try mpiCheck(MPI_Comm_rank(comm, &r), "MPI_Comm_rank")
        try mpiCheck(MPI_Comm_size(comm, &n), "MPI_Comm_size")
        rank = Int(r)
        size = Int(n)
        transport = MPITransport(comm: comm, rank: rank, size: size)
        let environment = try MPIEnvironment.environment()
        reductionEngine = ReductionThreads.engine(environment: environment)
        let (machine, worldNodes) = try MPIEnvironment.placement()
        var worldRank: Int32 = 0
        try mpiCheck(MPI_Comm_rank(torus_MPI_COMM_WORLD(), &worldRank), "MPI_Comm_rank(MPI_COMM_WORLD)")
        // Members tell each other their node once; the view is cached for the communicator's life.
        var mine = Int64(worldNodes[Int(worldRank)])
        var nodes = [Int64](repeating: 0, count: size)
        try mpiCheck(PMPI_Allgather(&mine, 1, torus_MPI_INT64_T(), &nodes, 1, torus_MPI_INT64_T(), comm), "MPI_Allgather of torus nodes")
        topology = try GroupTopology.of(nodes: nodes.map { Int($0) }, on: machine)
        options = CollectiveOptions(route: environment.route,
                                    libraryBelowBytes: environment.minBytes ?? MPICommunicator.defaultLibraryBelowBytes,
                                    smallAlgorithm: .recursiveDoubling, largeAlgorithm: nil,
                                    executor: ExecutorOptions(rules: IssueRules(segmentBytes: environment.segmentBytes ?? IssueRules().segmentBytes)),
                                    verbose: environment.verbose)
        if announce && options.verbose >= 1 && rank == 0 { printError("torus: " + summary) }
    }

    /// One line about the communicator: its view, its worst ring hop, how calls are routed.
    public var summary: String {
        let hops = topology.worstRingHops.map { "worst ring hop \($0)" } ?? "placement unknown"
        let routing: String
        if let r = options.route {
            routing = "every call → \(r) (TORUS_ALGORITHM)"
        } else {
            routing = "calls below \(options.libraryBelowBytes) bytes → mpi (or \(options.smallAlgorithm.rawValue) where MPI's answer differs from ours), "
                + "larger → \(options.largeAlgorithm?.rawValue ?? "cost model: " + routesPerSize)"
        }
        return "communicator of \(size) ranks: \(topology), \(hops); \(routing)"
    }

    /// The cost model's choice at the threshold and at 4, 16 and 64 times it: "16M sixring, 64M ring, …".
    public var routesPerSize: String {
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

    /// Frees the communicator now if this object made it (idempotent; nothing is freed once MPI
    /// is finalised). Later calls on this object fail in MPI.
    public func free() {
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

    deinit {
        free()
    }
}
