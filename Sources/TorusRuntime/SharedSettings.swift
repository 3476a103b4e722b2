import TorusCore
import TorusSchedules

/// The settings every rank of a communicator must share: those that decide which messages a rank
/// sends and which collectives it joins. Set differently on some ranks (`mpirun -np 1 env
/// TORUS_MIN_BYTES=1M prog : -np 3 prog`, a rank map that differs between nodes), they would leave
/// ranks waiting for each other: a call one rank hands to MPI while another runs a schedule, an
/// agreement exchange (`TORUS_CHECK`) or a setup barrier (`TORUS_TIMEOUT`) only some ranks join,
/// steps cut into segments of different sizes. So the ranks compare them when a communicator is
/// made (the MPI backend: `MPICommunicator.agreeOnSettings`; the drop-in: on a communicator's first
/// call), and all stop with one error naming the variables when they differ.
///
/// Settings that stay within a rank are not compared: `TORUS_VERBOSE`, `TORUS_REDUCTION_THREADS`,
/// `TORUS_REDUCTION_CORES`, `TORUS_PROGRESS_CORE`, `TORUS_ON_STALL`, `TORUS_SCRATCH_SEGMENTS` (where
/// a segment is received, not its size), and `TORUS_TIMEOUT`'s number of seconds (only whether it is 0).
public struct SharedSettings: Equatable, Sendable {
    /// What each field of `record` holds, as the error names it.
    public static let fields = ["TORUS_ALGORITHM", "TORUS_MIN_BYTES", "TORUS_SEGMENT_BYTES", "TORUS_EAGER_BYTES", "TORUS_CHECK",
                                "TORUS_NAN_CHECK", "TORUS_TUNE", "TORUS_TIMEOUT", "TORUS_MODEL", "the placement (TORUS_RANKMAP, TORUS_DIMS)"]
    /// What makes each field the same on every rank.
    static let fixes = fields.indices.map { f -> String in
        switch f {
        case 9: return "`mpirun -x TORUS_RANKMAP -x TORUS_DIMS` and the same rank map file on every node"
        case 8: return "`mpirun -x TORUS_MODEL` and the same model file on every node"
        default: return "`mpirun -x \(fields[f])`"
        }
    }

    /// One integer per field: values as they are (-1 unset), `TORUS_ALGORITHM` as -2 auto, -1 mpi
    /// or the algorithm's index, `TORUS_TIMEOUT` as 0 (never) or 1, and fingerprints
    /// (`fingerprint`) of the model file's bytes (0 unset) and of the placement of the world ranks.
    public let record: [Int64]

    /// This rank's: from its environment, the bytes of its `TORUS_MODEL` file (nil: unset) and
    /// the machine torus and node of every world rank it placed the ranks on.
    public init(_ environment: TorusEnvironment, modelBytes: [UInt8]?, machine: TorusShape, nodes: [Int]) {
        let route: Int64
        switch environment.route {
        case nil: route = -2
        case .library: route = -1
        case let .schedule(a): route = Int64(Algorithm.allCases.firstIndex(of: a) ?? 0)
        }
        var placement = machine.dims.map { Int64($0) } + machine.periodic.map { $0 ? 1 : 0 }
        placement += nodes.map { Int64($0) }
        record = [route, Int64(environment.minBytes ?? -1), Int64(environment.segmentBytes ?? -1), Int64(environment.eagerBytes ?? -1),
                  environment.check ? 1 : 0, environment.nanCheck ? 1 : 0, Int64(environment.tuneCalls),
                  environment.stallSeconds == 0 ? 0 : 1, modelBytes.map { SharedSettings.fingerprint($0) } ?? 0,
                  SharedSettings.fingerprint(placement.flatMap { v in (0 ..< 8).map { UInt8(truncatingIfNeeded: v >> ($0 * 8)) } })]
    }

    /// A 64-bit FNV-1a hash of `bytes`, never 0 (the same on every rank and run, unlike `Hasher`).
    public static func fingerprint(_ bytes: [UInt8]) -> Int64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in bytes {
            h ^= UInt64(b)
            h = h &* 0x0000_0100_0000_01b3
        }
        return h == 0 ? 1 : Int64(bitPattern: h)
    }

    static func describe(field: Int, _ value: Int64) -> String {
        switch field {
        case 0:
            if value == -2 { return "auto (unset)" }
            if value == -1 { return "mpi" }
            return Algorithm.allCases.indices.contains(Int(value)) ? Algorithm.allCases[Int(value)].rawValue : "\(value)"
        case 1, 2, 3: return value == -1 ? "unset" : value == 1 ? "1 byte" : "\(value) bytes"
        case 4, 5: return value == 1 ? "1" : "0 (unset)"
        case 7: return value == 0 ? "0 (never)" : "a limit (unset or seconds)"
        case 8: return value == 0 ? "unset" : "a file with fingerprint " + String(UInt64(bitPattern: value), radix: 16)
        case 9: return "fingerprint " + String(UInt64(bitPattern: value), radix: 16)
        default: return "\(value)"
        }
    }

    /// Where the ranks' records differ, or nil when they agree ("TORUS_MIN_BYTES: ranks 0-2 have
    /// unset; rank 3 has 1048576 bytes").
    public static func disagreements(_ records: [[Int64]]) -> String? {
        CallArguments.disagreements(records, fields: fields, verbs: ("has", "have"), describe: describe(field:_:))
    }

    /// The error every rank reports when the records differ.
    public static func mismatchMessage(_ records: [[Int64]], rank: Int) -> String? {
        guard let what = disagreements(records) else { return nil }
        let differing = fields.indices.filter { f in records.contains { $0[f] != records[0][f] } }
        return "the \(records.count) ranks of a communicator have different library settings (this is rank \(rank)): \(what). "
            + "These decide which messages and collectives each rank takes part in, so ranks would wait for each other for ever; "
            + "give every rank the same values: " + differing.map { fixes[$0] }.joined(separator: ", ")
            + ". The library was not set up on this communicator"
    }
}
