import Foundation
import TorusCore
import TorusSchedules

/// How a call is carried out: by the backend's own library AllReduce (`mpi`) or by a schedule.
public enum AllReduceRoute: Hashable, Sendable, CustomStringConvertible {
    case library
    case schedule(Algorithm)

    /// `mpi` or an algorithm name.
    public init(parsing text: String, name: String) throws {
        if text.lowercased() == "mpi" || text.lowercased() == "library" { self = .library; return }
        do {
            self = .schedule(try Algorithm(parsing: text, name: name))
        } catch {
            throw TorusError.invalidValue(name: name, value: text,
                                          expected: "auto, mpi or one of " + Algorithm.allCases.map(\.rawValue).joined(separator: ", "))
        }
    }

    public var description: String {
        switch self {
        case .library: return "mpi"
        case let .schedule(a): return a.rawValue
        }
    }
}

/// The `TORUS_*` environment variables, read once and checked: an invalid value is an error that
/// names the variable, the value and what is accepted.
public struct TorusEnvironment: Sendable {
    /// `TORUS_ALGORITHM`: `auto` (nil), `mpi`, or an algorithm name.
    public var route: AllReduceRoute?
    /// `TORUS_DIMS=XxYxZ`: the machine torus.
    public var dims: TorusShape?
    /// `TORUS_RANKMAP=FILE`: a rank map of the world ranks (vcoord, Open MPI rankfile or JSON).
    public var rankMapPath: String?
    /// `TORUS_VERBOSE`: 0 quiet, 1 one line per communicator, 2 also one per call.
    public var verbose: Int
    /// `TORUS_MIN_BYTES`: calls smaller than this go to the library AllReduce (K/M/G suffixes).
    public var minBytes: Int?
    /// `TORUS_SEGMENT_BYTES`: the executor's segment size.
    public var segmentBytes: Int?
    /// `TORUS_EAGER_BYTES`: the transport's eager limit, for the executor's eager halves
    /// (`IssueRules.eagerSplitBytes`); 0 turns them off. Unset: a calibrated model's, else off.
    public var eagerBytes: Int?
    /// `TORUS_SCRATCH_SEGMENTS`: segments of a receive-and-reduce step with scratch of their own
    /// (`IssueRules.scratchSegments`); 0: every segment. Unset: a ring of
    /// `IssueRules.sharedMemoryScratchSegments` where every rank shares a host, else 0.
    public var scratchSegments: Int?
    /// `TORUS_MODEL=FILE`: a calibrated model (`torus-bench --calibrate FILE`); automatic
    /// selection then picks the route its estimates favour, the library's AllReduce among them.
    public var modelPath: String?
    /// `TORUS_REDUCTION_THREADS`: reduction worker threads per process (0 = reduce inline); nil
    /// lets the backend choose from the free cores.
    public var reductionThreads: Int?
    /// `TORUS_REDUCTION_CORES`: the processing units (hwloc list syntax, `4-7,12`) the workers
    /// are pinned to, shared out among the ranks of a node.
    public var reductionCores: String?
    /// `TORUS_PROGRESS_CORE`: the processing unit the nonblocking requests' progress thread is
    /// pinned to (an assistant core).
    public var progressCore: Int?
    /// `TORUS_TUNE=N`: with `TORUS_MODEL`, each AllReduce size's first calls time the routes whose
    /// estimates are close, `N` calls each, and the rest take the fastest (0: off, the default).
    public var tuneCalls = 0
    /// `TORUS_CHECK=1`: the ranks agree on each call's arguments before any data moves.
    public var check = false
    /// `TORUS_NAN_CHECK=1`: inputs and results of float calls are scanned for NaN and Inf.
    public var nanCheck = false
    /// `TORUS_TIMEOUT`: seconds without progress before a waiting call reports a stall (0: never).
    public var stallSeconds: Double = TorusEnvironment.defaultStallSeconds
    /// `TORUS_ON_STALL`: `abort` ends the job after the report, `warn` keeps waiting and reports again.
    public var abortOnStall = true
    /// Five minutes: longer than any step of a healthy AllReduce, short enough to matter in a job.
    public static let defaultStallSeconds = 300.0

    public init(route: AllReduceRoute? = nil, dims: TorusShape? = nil, rankMapPath: String? = nil, verbose: Int = 0,
                minBytes: Int? = nil, segmentBytes: Int? = nil) {
        self.route = route
        self.dims = dims
        self.rankMapPath = rankMapPath
        self.verbose = verbose
        self.minBytes = minBytes
        self.segmentBytes = segmentBytes
    }

    /// Reads and checks the variables.
    public static func read(_ env: [String: String] = ProcessInfo.processInfo.environment) throws -> TorusEnvironment {
        var e = TorusEnvironment()
        if let v = env["TORUS_ALGORITHM"], !v.isEmpty, v.lowercased() != "auto" {
            e.route = try AllReduceRoute(parsing: v, name: "TORUS_ALGORITHM")
        }
        if let v = env["TORUS_DIMS"], !v.isEmpty {
            e.dims = try TorusShape(parsing: v, name: "TORUS_DIMS")
        }
        if let v = env["TORUS_RANKMAP"], !v.isEmpty { e.rankMapPath = v }
        if let v = env["TORUS_MODEL"], !v.isEmpty { e.modelPath = v }
        if let v = env["TORUS_VERBOSE"], !v.isEmpty {
            guard let n = Int(v), (0...2).contains(n) else {
                throw TorusError.invalidValue(name: "TORUS_VERBOSE", value: v, expected: "0, 1 or 2")
            }
            e.verbose = n
        }
        if let v = env["TORUS_MIN_BYTES"], !v.isEmpty { e.minBytes = try ByteCount.parse(v, name: "TORUS_MIN_BYTES") }
        if let v = env["TORUS_SEGMENT_BYTES"], !v.isEmpty {
            let n = try ByteCount.parse(v, name: "TORUS_SEGMENT_BYTES")
            guard n >= 64 && n <= 1 << 30 else {
                throw TorusError.invalidValue(name: "TORUS_SEGMENT_BYTES", value: v, expected: "a size from 64 bytes to 1G")
            }
            e.segmentBytes = n
        }
        if let v = env["TORUS_EAGER_BYTES"], !v.isEmpty {
            let n = v == "0" ? 0 : try ByteCount.parse(v, name: "TORUS_EAGER_BYTES")
            guard n == 0 || (n >= 64 && n <= 1 << 30) else {
                throw TorusError.invalidValue(name: "TORUS_EAGER_BYTES", value: v, expected: "0 (off) or the transport's eager limit, from 64 bytes to 1G")
            }
            e.eagerBytes = n
        }
        if let v = env["TORUS_SCRATCH_SEGMENTS"], !v.isEmpty {
            guard let n = Int(v), (0...1024).contains(n) else {
                throw TorusError.invalidValue(name: "TORUS_SCRATCH_SEGMENTS", value: v,
                                              expected: "0 (scratch for every segment) or a ring of 1 to 1024 segments per receive-and-reduce step")
            }
            e.scratchSegments = n
        }
        if let v = env["TORUS_REDUCTION_THREADS"], !v.isEmpty {
            guard let n = Int(v), (0...256).contains(n) else {
                throw TorusError.invalidValue(name: "TORUS_REDUCTION_THREADS", value: v, expected: "a number of threads from 0 (reduce inline) to 256")
            }
            e.reductionThreads = n
        }
        if let v = env["TORUS_REDUCTION_CORES"], !v.isEmpty {
            guard ProcessingUnitList.parse(v) != nil else {
                throw TorusError.invalidValue(name: "TORUS_REDUCTION_CORES", value: v,
                                              expected: "processing unit numbers in hwloc's list syntax, such as 2,3 or 4-7,12")
            }
            e.reductionCores = v
        }
        if let v = env["TORUS_TIMEOUT"], !v.isEmpty {
            guard let seconds = Double(v), seconds.isFinite, seconds >= 0, seconds <= 1e6 else {
                throw TorusError.invalidValue(name: "TORUS_TIMEOUT", value: v,
                                              expected: "seconds without progress before a stall is reported, from 0 (never) to 1000000; the default is 300")
            }
            e.stallSeconds = seconds
        }
        if let v = env["TORUS_ON_STALL"], !v.isEmpty {
            guard v == "abort" || v == "warn" else {
                throw TorusError.invalidValue(name: "TORUS_ON_STALL", value: v,
                                              expected: "abort (report, then end the job: the default) or warn (report and keep waiting)")
            }
            e.abortOnStall = v == "abort"
        }
        if let v = env["TORUS_NAN_CHECK"], !v.isEmpty {
            guard v == "0" || v == "1" else {
                throw TorusError.invalidValue(name: "TORUS_NAN_CHECK", value: v, expected: "0 (off) or 1 (report NaN and Inf in every float call's input and result)")
            }
            e.nanCheck = v == "1"
        }
        if let v = env["TORUS_CHECK"], !v.isEmpty {
            guard v == "0" || v == "1" else {
                throw TorusError.invalidValue(name: "TORUS_CHECK", value: v, expected: "0 (off) or 1 (the ranks agree on every call's arguments first)")
            }
            e.check = v == "1"
        }
        if let v = env["TORUS_TUNE"], !v.isEmpty {
            guard let n = Int(v), (0...1000).contains(n) else {
                throw TorusError.invalidValue(name: "TORUS_TUNE", value: v,
                                              expected: "0 (off) or the timed calls per candidate route of each AllReduce size, up to 1000 (5 is plenty)")
            }
            e.tuneCalls = n
            guard n == 0 || e.modelPath != nil else {
                throw TorusError.invalidValue(name: "TORUS_TUNE", value: v,
                                              expected: "0 without TORUS_MODEL: it times the routes a calibrated model finds close (set TORUS_MODEL=FILE, made by torus-bench --calibrate)")
            }
        }
        if let v = env["TORUS_PROGRESS_CORE"], !v.isEmpty {
            guard let n = Int(v), (0..<4096).contains(n) else {
                throw TorusError.invalidValue(name: "TORUS_PROGRESS_CORE", value: v, expected: "one processing unit number, such as 2")
            }
            e.progressCore = n
        }
        return e
    }

    /// The machine torus and the node of every world rank: from the rank map (on `TORUS_DIMS` if
    /// given, else on the torus the map names, else on its bounding box), else world ranks laid on `TORUS_DIMS` X fastest,
    /// else on a near-cubic factorisation of the world size.
    public func placement(worldSize: Int) throws -> (machine: TorusShape, nodes: [Int]) {
        if let path = rankMapPath {
            let map = try RankMap.load(path: path, maxBytes: RankMap.maxBytes(ranks: worldSize))
            guard map.coordinates.count == worldSize else {
                throw TorusError.invalidValue(name: "TORUS_RANKMAP", value: path,
                                              expected: "one entry per rank: the job has \(worldSize) ranks, the file has \(map.coordinates.count)")
            }
            let machine = try dims ?? map.torus ?? map.boundingShape
            return (machine, try map.nodes(on: machine))
        }
        if let dims {
            guard dims.nodeCount == worldSize else {
                throw TorusError.invalidValue(name: "TORUS_DIMS", value: dims.description,
                                              expected: "a shape with one node per rank: the job has \(worldSize) ranks, \(dims) has \(dims.nodeCount) nodes")
            }
            return (dims, Array(0..<worldSize))
        }
        return (try TorusShape.nearCubic(worldSize), Array(0..<worldSize))
    }
}

/// A list of processing unit numbers in hwloc's list syntax: `3`, `4-7`, `0,2-3,8`.
public enum ProcessingUnitList {
    /// The numbers in order of appearance, or nil if the text is not such a list (at most 4096 units).
    public static func parse(_ text: String) -> [Int]? {
        var units: [Int] = []
        for part in text.split(separator: ",", omittingEmptySubsequences: false) {
            let bounds = part.split(separator: "-", omittingEmptySubsequences: false)
            guard (1...2).contains(bounds.count), let low = Int(bounds[0]), low >= 0,
                  let high = bounds.count == 2 ? Int(bounds[1]) : low, high >= low, high < 4096 else { return nil }
            units += Array(low...high)
        }
        return units.isEmpty || units.count > 4096 ? nil : units
    }
}
