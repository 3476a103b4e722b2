import CMPI
import Synchronization
import TorusCore
import TorusPredictor
import TorusRuntime

/// Starting and stopping MPI, and what the process learns once: the `TORUS_*` settings and where
/// every world rank sits on the torus.
public enum MPIEnvironment {
    // nonisolated(unsafe): MPI is initialised, queried and finalised by the one thread that talks to MPI (MPI_THREAD_FUNNELED).
    nonisolated(unsafe) private static var initializedHere = false
    nonisolated(unsafe) private static var cachedPlacement: (TorusShape, [Int])?
    nonisolated(unsafe) private static var cachedEnvironment: TorusEnvironment?
    nonisolated(unsafe) private static var cachedCosts: PredictorCosts??

    /// Initialises MPI at MPI_THREAD_FUNNELED (only the calling thread talks to MPI) unless the
    /// program already did; errors on world communicators are returned, not fatal.
    public static func initialize() throws {
        guard !isInitialized else { return }
        var provided: Int32 = 0
        try mpiCheck(MPI_Init_thread(nil, nil, torus_MPI_THREAD_FUNNELED(), &provided), "MPI_Init_thread")
        initializedHere = true
        try mpiCheck(MPI_Comm_set_errhandler(torus_MPI_COMM_WORLD(), torus_MPI_ERRORS_RETURN()), "MPI_Comm_set_errhandler")
    }

    /// Finalises MPI if `initialize` started it and nobody finalised it yet, once the library's
    /// requests are over (the application's are, in a correct program; a communicator freed with
    /// requests under way is freed by one more, `MPICommunicator.free`).
    public static func finalize() throws {
        guard initializedHere, !isFinalized else { return }
        ProgressEngine.shared.drainAll()
        try mpiCheck(MPI_Finalize(), "MPI_Finalize")
    }

    public static var isInitialized: Bool {
        var flag: Int32 = 0
        MPI_Initialized(&flag)
        return flag != 0
    }

    /// Whether MPI_Finalize has begun. Once `watchFinalize` has run, a flag answers (every call
    /// asks, and `MPI_Finalized` cost a tenth of what a small call routed to MPI adds to MPI's own).
    public static var isFinalized: Bool {
        if finalizeWatched.load(ordering: .acquiring) { return finalizing.load(ordering: .acquiring) }
        var flag: Int32 = 0
        MPI_Finalized(&flag)
        return flag != 0
    }

    private static let finalizeWatched = Atomic<Bool>(false)
    private static let finalizing = Atomic<Bool>(false)

    /// Has MPI tell us when it finalises: an attribute on MPI_COMM_SELF whose delete callback MPI_Finalize
    /// runs first (MPI-2.0 and later), before anything is torn down. Once, with MPI initialised
    /// and not finalised; if MPI refuses, `isFinalized` keeps asking `MPI_Finalized`.
    public static func watchFinalize() {
        guard !finalizeWatched.load(ordering: .acquiring), isInitialized else { return }
        var flag: Int32 = 0
        MPI_Finalized(&flag)
        guard flag == 0 else { return }
        var keyval: Int32 = 0
        guard MPI_Comm_create_keyval(torus_MPI_COMM_NULL_COPY_FN(), { _, _, _, _ in
                  MPIEnvironment.finalizing.store(true, ordering: .releasing)
                  return torus_MPI_SUCCESS()
              }, &keyval, nil) == torus_MPI_SUCCESS(),
              MPI_Comm_set_attr(torus_MPI_COMM_SELF(), keyval, nil) == torus_MPI_SUCCESS() else { return }
        finalizeWatched.store(true, ordering: .releasing)
    }

    /// The checked `TORUS_*` environment of this process.
    public static func environment() throws -> TorusEnvironment {
        if let e = cachedEnvironment { return e }
        let e = try TorusEnvironment.read()
        cachedEnvironment = e
        return e
    }

    /// The calibrated model of `TORUS_MODEL`, read once (nil when the variable is unset).
    public static func calibratedCosts() throws -> PredictorCosts? {
        if let c = cachedCosts { return c }
        let costs = try environment().modelPath.map { path in
            do {
                return PredictorCosts(model: try CalibratedModel.load(path: path), path: path)
            } catch let TorusError.invalidValue(_, value, expected) {
                throw TorusError.invalidValue(name: "TORUS_MODEL", value: value, expected: expected)
            }
        }
        cachedCosts = .some(costs)
        return costs
    }

    /// The machine torus and the node of every world rank (from `TORUS_RANKMAP`, `TORUS_DIMS`, or
    /// a near-cubic factorisation of the world size).
    public static func placement() throws -> (machine: TorusShape, nodes: [Int]) {
        if let p = cachedPlacement { return p }
        var size: Int32 = 0
        try mpiCheck(MPI_Comm_size(torus_MPI_COMM_WORLD(), &size), "MPI_Comm_size")
        let p = try environment().placement(worldSize: Int(size))
        cachedPlacement = p
        return p
    }

    nonisolated(unsafe) private static var cachedSettings: SharedSettings?
    nonisolated(unsafe) private static var cachedSharedMemoryEagerLimit: Int??

    /// Open MPI's eager limit on shared memory — the `btl_vader_eager_limit` MCA parameter (4,096
    /// bytes by default, headers included), read once through the MPI tool interface (MPI_T) —
    /// or nil where this MPI has no such parameter or does not use that transport (one rank on
    /// the host, `--mca btl ^vader`).
    public static func sharedMemoryEagerLimit() -> Int? {
        if let known = cachedSharedMemoryEagerLimit { return known }
        var limit: Int?
        var level: Int32 = 0, provided: Int32 = 0
        // At the thread level MPI runs at: Open MPI 4.1's MPI_T_init_thread sets MPI's own level
        // to the one it is given (MPI_THREAD_MULTIPLE became MPI_THREAD_SINGLE with SINGLE here).
        if MPI_Query_thread(&level) == torus_MPI_SUCCESS(), MPI_T_init_thread(level, &provided) == torus_MPI_SUCCESS() {
            var index: Int32 = 0
            if MPI_T_cvar_get_index("btl_vader_eager_limit", &index) == torus_MPI_SUCCESS() {
                var handle: MPI_T_cvar_handle?
                var count: Int32 = 0
                if MPI_T_cvar_handle_alloc(index, nil, &handle, &count) == torus_MPI_SUCCESS() {
                    // An unsigned long here; read as 8 bytes (little-endian: a 4-byte value reads the same).
                    var value = [UInt64](repeating: 0, count: 8)
                    if count == 1, MPI_T_cvar_read(handle, &value) == torus_MPI_SUCCESS(), value[0] > 0, value[0] < 1 << 30 {
                        limit = Int(value[0])
                    }
                    MPI_T_cvar_handle_free(&handle)
                }
            }
            MPI_T_finalize()
        }
        cachedSharedMemoryEagerLimit = .some(limit)
        return limit
    }

    /// This process's settings that every rank must share (`SharedSettings`): reads the
    /// environment, the model file and the placement once, and throws their errors.
    public static func sharedSettings() throws -> SharedSettings {
        if let s = cachedSettings { return s }
        let environment = try environment()
        _ = try calibratedCosts()   // a model file that does not load is its own error
        let modelBytes = try environment.modelPath.map { Array(try readText(path: $0, what: "model file", maxBytes: 16 << 20).utf8) }
        let (machine, nodes) = try placement()
        let s = SharedSettings(environment, modelBytes: modelBytes, machine: machine, nodes: nodes)
        cachedSettings = s
        return s
    }
}
