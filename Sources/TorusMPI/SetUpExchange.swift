import CMPI
#if canImport(Glibc)
import Glibc
#endif
import TorusCore
import TorusRuntime
import TorusPredictor

/// What a rank knows of itself before a communicator is set up, read without communicating: its
/// `TORUS_` settings and the figures read with them, its torus node, its host, and the payload
/// Open MPI sends eagerly over shared memory here.
struct MemberFacts: @unchecked Sendable {   // read once, then only read
    let settings: SharedSettings
    let environment: TorusEnvironment
    let machine: TorusShape
    let node: Int
    let calibrated: PredictorCosts?
    /// An FNV-1a hash of `MPI_Get_processor_name`.
    let hostHash: UInt64
    /// `MPIEnvironment.sharedMemoryEagerLimit` less `MPICommunicator.eagerHeaderBytes`, 0 without one.
    let eagerPayload: Int

    /// This rank's, or the error that stops it reading them (an invalid variable, a rank map that
    /// does not load): the exchange then tells the other ranks, so that all of them stop.
    /// On the thread that talks to MPI (the figures are read once and cached).
    static func read() -> Result<MemberFacts, Error> {
        Result {
            let settings = try MPIEnvironment.sharedSettings()
            let (machine, worldNodes) = try MPIEnvironment.placement()
            var worldRank: Int32 = 0
            try mpiCheck(MPI_Comm_rank(torus_MPI_COMM_WORLD(), &worldRank), "MPI_Comm_rank(MPI_COMM_WORLD)")
            var name = [CChar](repeating: 0, count: 512)
            var length: Int32 = 0
            try mpiCheck(MPI_Get_processor_name(&name, &length), "MPI_Get_processor_name")
            return MemberFacts(settings: settings, environment: try MPIEnvironment.environment(), machine: machine,
                               node: worldNodes[Int(worldRank)], calibrated: try MPIEnvironment.calibratedCosts(),
                               hostHash: UInt64(bitPattern: SharedSettings.fingerprint(name.prefix(Int(length)).map { UInt8(bitPattern: $0) })),
                               eagerPayload: MPIEnvironment.sharedMemoryEagerLimit().map { max(0, $0 - MPICommunicator.eagerHeaderBytes) } ?? 0)
        }
    }

    /// The settings a set-up's stall watch follows: these facts', else (a rank that could not
    /// read them) the environment if it reads, else the defaults.
    static func stallEnvironment(_ facts: Result<MemberFacts, Error>) -> TorusEnvironment {
        (try? facts.get().environment) ?? (try? MPIEnvironment.environment()) ?? TorusEnvironment()
    }
}

/// What the members of a communicator found out about each other (`SetUpExchange`).
struct AgreedFacts {
    let mine: MemberFacts
    let rank: Int
    let size: Int
    /// Every member's torus node, in rank order (empty from an exchange without them).
    let nodes: [Int]
    /// Whether every member runs on one host (its messages are then copies in memory).
    let oneHost: Bool
    /// The smallest of the members' `eagerPayload`s (so that all cut steps alike).
    let eagerPayload: Int
}

/// The exchange that sets a communicator up: two nonblocking collectives, started together, that
/// tell every member what the others know of themselves (`MemberFacts`) —
/// - an `MPI_Iallreduce(MAX)` of a few words: the lowest rank that could not read its settings (as
///   size − rank), each field of the `SharedSettings` record and its complement (where the maximum
///   is not the complement of the complements' maximum, the ranks differ), the host's hash and its
///   complement (equal everywhere: one host), the complement of the eager payload (the maximum
///   gives the smallest);
/// - with `nodes`, an `MPI_Iallgather` of the members' torus nodes.
/// Where the settings differ, a third gathers every rank's record, to say which ranks have what.
/// `test` advances it in rounds that never block (a set-up the progress engine runs), `wait`
/// until it is over; both under the stall watch (`TORUS_TIMEOUT`). Then `agreed()` gives the
/// result, or throws alike on every rank: this rank's own error, or one naming the rank that
/// failed, or the settings that differ. Every member must start the same exchange in the same
/// order as its other collectives on the communicator.
final class SetUpExchange {
    let comm: MPI_Comm
    let rank: Int
    let size: Int
    private let mine: Result<MemberFacts, Error>
    private let record: [Int64]
    private let words: UnsafeMutableBufferPointer<UInt64>
    private let nodes: UnsafeMutableBufferPointer<Int64>
    /// The mismatch's gather: this rank's record, then every rank's.
    private var sent: UnsafeMutableBufferPointer<Int64>?
    private var records: UnsafeMutableBufferPointer<Int64>?
    private var collectives: [SetUpCollective] = []
    private var outcome: Result<AgreedFacts, Error>?
    private let stallSeconds: Double
    private let abortOnStall: Bool

    /// Starts the exchange over `comm` with this rank's `facts`.
    init(_ comm: MPI_Comm, facts: Result<MemberFacts, Error>, nodes gather: Bool) throws {
        self.comm = comm
        var r: Int32 = 0, n: Int32 = 0
        try mpiCheck(MPI_Comm_rank(comm, &r), "MPI_Comm_rank")
        try mpiCheck(MPI_Comm_size(comm, &n), "MPI_Comm_size")
        rank = Int(r)
        size = Int(n)
        mine = facts
        let fields = SharedSettings.fields.count
        let known = try? facts.get()
        record = known?.settings.record ?? Array(repeating: 0, count: fields)
        let environment = MemberFacts.stallEnvironment(facts)
        stallSeconds = environment.stallSeconds
        abortOnStall = environment.abortOnStall
        words = .allocate(capacity: 4 + 2 * fields)
        words[0] = known == nil ? UInt64(size - rank) : 0
        for f in 0 ..< fields {
            words[1 + f] = UInt64(bitPattern: record[f])
            words[1 + fields + f] = ~UInt64(bitPattern: record[f])
        }
        let hash = known?.hostHash ?? 0
        words[1 + 2 * fields] = hash
        words[2 + 2 * fields] = ~hash
        words[3 + 2 * fields] = ~UInt64(known?.eagerPayload ?? 0)
        // Every member's node, then this rank's (the gather's send buffer).
        nodes = .allocate(capacity: gather ? size + 1 : 1)
        nodes[nodes.count - 1] = Int64(known?.node ?? -1)
        var request: MPI_Request? = torus_MPI_REQUEST_NULL()
        try mpiCheck(PMPI_Iallreduce(torus_MPI_IN_PLACE(), words.baseAddress, Int32(words.count), torus_MPI_UINT64_T(), torus_MPI_MAX(),
                                     comm, &request), "MPI_Iallreduce of the ranks' TORUS_ settings")
        collectives.append(watched(request))
        if gather {
            try mpiCheck(PMPI_Iallgather(nodes.baseAddress! + size, 1, torus_MPI_INT64_T(), nodes.baseAddress, 1, torus_MPI_INT64_T(),
                                         comm, &request), "MPI_Iallgather of torus nodes")
            collectives.append(watched(request))
        }
    }

    deinit {
        // Requests still under way (an exchange dropped after an error) are left to MPI; their
        // buffers must outlive them.
        if collectives.isEmpty {
            words.deallocate()
            nodes.deallocate()
            sent?.deallocate()
            records?.deallocate()
        }
    }

    private func watched(_ request: MPI_Request?) -> SetUpCollective {
        SetUpCollective(request: request, comm: comm, stallSeconds: stallSeconds, abortOnStall: abortOnStall,
                        waitingFor: "to make their first library call on this communicator (under the drop-in and the C API its "
                            + "first collective call; in Swift, making it a library communicator), where the ranks first compare "
                            + "their TORUS_ settings: a rank that never makes it, or makes another collective call first, holds the rest here")
    }

    /// One round that never blocks: true once the exchange is over (`agreed()` then says how).
    func test() throws -> Bool {
        while let first = collectives.indices.first {
            guard try collectives[first].test() else { return false }
            collectives.removeFirst()
            if collectives.isEmpty && outcome == nil { try conclude() }
        }
        return true
    }

    /// Blocks until the exchange is over.
    func wait() throws {
        while !collectives.isEmpty {
            try collectives[0].wait()
            collectives.removeFirst()
            if collectives.isEmpty && outcome == nil { try conclude() }
        }
    }

    /// The exchange's result once over: throws alike on every rank where a rank could not read
    /// its settings or the ranks' differ.
    func agreed() throws -> AgreedFacts {
        try outcome!.get()
    }

    /// The collectives are over: the verdict, or the gather that names who has what.
    private func conclude() throws {
        if let records {
            let n = record.count
            let all = (0 ..< size).map { Array(records[$0 * n ..< ($0 + 1) * n]) }
            outcome = .failure(TorusError.communication(SharedSettings.mismatchMessage(all, rank: rank)
                                                        ?? "the ranks' TORUS_ settings differ (this is rank \(rank))"))
            return
        }
        let facts: MemberFacts
        do {
            facts = try mine.get()
        } catch {
            outcome = .failure(error)
            return
        }
        if words[0] != 0 {
            outcome = .failure(TorusError.communication("rank \(size - Int(words[0])) of this communicator of \(size) ranks could not "
                                                        + "read its TORUS_ settings (its error is reported there); the library was not "
                                                        + "set up on this communicator"))
            return
        }
        let fields = record.count
        if (0 ..< fields).contains(where: { words[1 + $0] != ~words[1 + fields + $0] }) {
            // They differ: gather every rank's record to say which ranks have what (an error path only).
            let sent = UnsafeMutableBufferPointer<Int64>.allocate(capacity: fields)
            _ = sent.initialize(from: record)
            let records = UnsafeMutableBufferPointer<Int64>.allocate(capacity: fields * size)
            self.sent = sent
            self.records = records
            var request: MPI_Request? = torus_MPI_REQUEST_NULL()
            try mpiCheck(PMPI_Iallgather(sent.baseAddress, Int32(fields), torus_MPI_INT64_T(), records.baseAddress, Int32(fields),
                                         torus_MPI_INT64_T(), comm, &request), "MPI_Iallgather of the ranks' TORUS_ settings")
            collectives.append(watched(request))
            return
        }
        let hashes = 1 + 2 * fields
        outcome = .success(AgreedFacts(mine: facts, rank: rank, size: size, nodes: nodes.count > size ? (0 ..< size).map { Int(nodes[$0]) } : [],
                                       oneHost: words[hashes] == ~words[hashes + 1], eagerPayload: Int(~words[hashes + 2])))
    }
}

/// A nonblocking collective of a communicator's set-up, tested under the stall watch: after
/// `stallSeconds` (0: no limit) without completing, the rank says what it waits for ("for the
/// other ranks …", `waitingFor`), and with `abortOnStall` ends the job.
struct SetUpCollective {
    var request: MPI_Request?
    let comm: MPI_Comm
    let stallSeconds: Double
    let abortOnStall: Bool
    let waitingFor: String
    private var since = monotonicSeconds()
    private var polls = 0

    init(request: MPI_Request?, comm: MPI_Comm, stallSeconds: Double, abortOnStall: Bool, waitingFor: String) {
        self.request = request
        self.comm = comm
        self.stallSeconds = stallSeconds
        self.abortOnStall = abortOnStall
        self.waitingFor = waitingFor
    }

    /// Whether it is over; never blocks.
    mutating func test() throws -> Bool {
        var flag: Int32 = 0
        try mpiCheck(PMPI_Test(&request, &flag, torus_MPI_STATUS_IGNORE()), "MPI_Test in the communicator's setup")
        if flag != 0 { return true }
        polls += 1
        guard stallSeconds > 0, polls % 256 == 0, monotonicSeconds() - since > stallSeconds else { return false }
        var rank: Int32 = 0, size: Int32 = 0, worldRank: Int32 = 0
        PMPI_Comm_rank(comm, &rank)
        PMPI_Comm_size(comm, &size)
        PMPI_Comm_rank(torus_MPI_COMM_WORLD(), &worldRank)
        printError("torus: world rank \(worldRank) (rank \(rank) of a communicator of \(size)) has waited \(Int(stallSeconds)) s "
                   + "(TORUS_TIMEOUT) for the other ranks \(waitingFor). Every rank that prints this has arrived.")
        if abortOnStall {
            printError("torus: world rank \(worldRank): stalled at the first call's setup; ending the job "
                       + "(TORUS_ON_STALL=warn keeps waiting, TORUS_TIMEOUT=0 never reports)")
            MPI_Abort(torus_MPI_COMM_WORLD(), 3)
        }
        since = monotonicSeconds()
        return false
    }

    /// Blocks until it is over.
    mutating func wait() throws {
        guard stallSeconds > 0 else {
            try mpiCheck(PMPI_Wait(&request, torus_MPI_STATUS_IGNORE()), "MPI_Wait in the communicator's setup")
            return
        }
        while try !test() {}
    }
}
