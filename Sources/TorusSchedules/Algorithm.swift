import TorusCore

/// One AllReduce algorithm: a schedule builder in a file of its own, with everything the rest of the
/// project learns about it — its names, its cost, what the verifier proves of it. Adding an
/// algorithm is its file plus one line in `Algorithm.registry`; the CLI, `torus-bench`, selection,
/// the verifier and the predictor take it from there.
public protocol AllReduceAlgorithm: Sendable {
    /// The name `--algorithm` and `TORUS_ALGORITHM` take.
    static var name: String { get }
    /// Other spellings accepted (matched case-insensitively, `_` as `-`).
    static var aliases: [String] { get }
    /// One line on what it does, for `--help`.
    static var summary: String { get }
    /// The streams of `rank` for `count` elements, and the scratch elements they use.
    static func streams(topology: GroupTopology, rank: Int, count: Int) -> (streams: [Stream], scratch: Int)
    /// The most elements one segment of its schedule for a data buffer of `count` elements may carry,
    /// below the issue rules' `segmentBytes` (`Schedule.segmentLimitElements`); nil: the rules decide.
    /// The same on every rank of the group: sender and receiver cut a message alike.
    static func segmentLimitElements(topology: GroupTopology, count: Int) -> Int?
    /// Estimated seconds for `bytes` bytes on the group under the α-β-γ model.
    static func estimate(_ model: CostModel, topology: GroupTopology, bytes: Int) -> Double
    /// What the verifier proves of it beyond a correct result.
    static var proofs: Set<AlgorithmProof> { get }
}

extension AllReduceAlgorithm {
    public static var aliases: [String] { [] }
    public static var proofs: Set<AlgorithmProof> { [] }
    public static func segmentLimitElements(topology: GroupTopology, count: Int) -> Int? { nil }
}

/// Properties the verifier proves for the algorithms that claim them.
public enum AlgorithmProof: String, Sendable {
    /// On a box, every message crosses one hop and no two streams share a directed link within a
    /// phase (`VerificationReport.linkConflicts`).
    case distinctLinksPerPhase
}

/// An AllReduce algorithm, by name: a plain value (printable, `Codable` as its name) for the
/// registered `AllReduceAlgorithm`s.
public struct Algorithm: RawRepresentable, Hashable, Codable, Sendable, CustomStringConvertible {
    /// Its place in `registry`: an integer, so that copying an algorithm (in every call's route,
    /// options and cache key) costs no reference counting, as a name would.
    private let index: Int

    public var rawValue: String { Algorithm.registry[index].name }

    // By index: the defaults a RawRepresentable type gets compare and hash the names.
    public static func == (a: Algorithm, b: Algorithm) -> Bool { a.index == b.index }
    public func hash(into hasher: inout Hasher) { hasher.combine(index) }

    /// Every algorithm, in the order `--help` lists them.
    public static let registry: [any AllReduceAlgorithm.Type] = [
        SixRingAllReduce.self, RingAllReduce.self, BidirectionalRingAllReduce.self, RecursiveDoublingAllReduce.self,
        RabenseifnerAllReduce.self, ReduceBroadcastAllReduce.self, SwingAllReduce.self,
        SwingLatencyAllReduce.self,
    ]

    public static var allCases: [Algorithm] { registry.map(Algorithm.init) }

    public init?(rawValue: String) {
        guard let i = Algorithm.registry.firstIndex(where: { $0.name == rawValue }) else { return nil }
        index = i
    }

    init(_ implementation: any AllReduceAlgorithm.Type) {
        index = Algorithm.registry.firstIndex { $0.name == implementation.name }!
    }

    public var implementation: any AllReduceAlgorithm.Type { Algorithm.registry[index] }
    public var description: String { rawValue }

    /// Accepts the names and aliases of the registry, case-insensitively, also with `_` for `-`.
    public init(parsing text: String, name: String = "algorithm") throws {
        let key = text.lowercased().replacingOccurrences(of: "_", with: "-")
        guard let a = Algorithm.registry.first(where: { $0.name == key || $0.aliases.contains(key) }) else {
            throw TorusError.invalidValue(name: name, value: text,
                                          expected: "one of " + Algorithm.allCases.map(\.rawValue).joined(separator: ", "))
        }
        self.init(a)
    }

    /// The schedule of `rank` for an AllReduce of `count` elements over the group.
    public func schedule(topology: GroupTopology, rank: Int, count: Int) throws -> Schedule {
        guard (0..<topology.size).contains(rank) else {
            throw TorusError.invalidValue(name: "rank", value: "\(rank)", expected: "a rank in 0..<\(topology.size)")
        }
        guard count >= 0 else {
            throw TorusError.invalidValue(name: "count", value: "\(count)", expected: "a non-negative element count")
        }
        let (streams, scratch) = implementation.streams(topology: topology, rank: rank, count: count)
        return Schedule(algorithm: self, rank: rank, size: topology.size, count: count, scratchCount: scratch, streams: streams,
                        segmentLimitElements: implementation.segmentLimitElements(topology: topology, count: count))
    }
}

extension String {
    func replacingOccurrences(of a: String, with b: String) -> String {
        split(separator: Character(a), omittingEmptySubsequences: false).joined(separator: b)
    }
}
