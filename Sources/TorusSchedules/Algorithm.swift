import TorusCore

/// The AllReduce algorithms, each a schedule builder in its own file.
public enum Algorithm: String, CaseIterable, Codable, Sendable {
    /// Six parts, three axes, both directions: all six links of a node busy (DESIGN §2).
    case sixRing = "sixring"
    /// One ring over a one-hop (Hamiltonian) order of the group.
    case ring
    /// Two rings in opposite directions, half the data each.
    case bidirectionalRing = "bidirectional-ring"
    /// log2(p) exchanges of the whole buffer.
    case recursiveDoubling = "recursive-doubling"
    /// Recursive-halving reduce-scatter, then recursive-doubling all-gather.
    case rabenseifner
    /// Per-axis pipelined reduce to a root, then broadcast back (the Trinary style).
    case reduceBroadcast = "reduce-broadcast"

    /// Accepts the names above, case-insensitively, also with `_` for `-` and `six-ring`.
    public init(parsing text: String, name: String = "algorithm") throws {
        let key = text.lowercased().replacingOccurrences(of: "_", with: "-")
        let aliases: [String: Algorithm] = ["six-ring": .sixRing, "bidirectionalring": .bidirectionalRing,
                                            "bidir-ring": .bidirectionalRing, "rd": .recursiveDoubling,
                                            "recursivedoubling": .recursiveDoubling, "rab": .rabenseifner,
                                            "reducebroadcast": .reduceBroadcast, "trinary": .reduceBroadcast]
        guard let a = Algorithm(rawValue: key) ?? aliases[key] else {
            throw TorusError.invalidValue(name: name, value: text,
                                          expected: "one of " + Algorithm.allCases.map(\.rawValue).joined(separator: ", "))
        }
        self = a
    }

    /// The schedule of `rank` for an AllReduce of `count` elements over the group.
    public func schedule(topology: GroupTopology, rank: Int, count: Int) throws -> Schedule {
        guard (0..<topology.size).contains(rank) else {
            throw TorusError.invalidValue(name: "rank", value: "\(rank)", expected: "a rank in 0..<\(topology.size)")
        }
        guard count >= 0 else {
            throw TorusError.invalidValue(name: "count", value: "\(count)", expected: "a non-negative element count")
        }
        let streams: [Stream]
        let scratch: Int
        switch self {
        case .sixRing: (streams, scratch) = SixRingAllReduce.streams(topology: topology, rank: rank, count: count)
        case .ring: (streams, scratch) = RingAllReduce.streams(topology: topology, rank: rank, count: count)
        case .bidirectionalRing: (streams, scratch) = BidirectionalRingAllReduce.streams(topology: topology, rank: rank, count: count)
        case .recursiveDoubling: (streams, scratch) = RecursiveDoublingAllReduce.streams(size: topology.size, rank: rank, count: count)
        case .rabenseifner: (streams, scratch) = RabenseifnerAllReduce.streams(size: topology.size, rank: rank, count: count)
        case .reduceBroadcast: (streams, scratch) = ReduceBroadcastAllReduce.streams(topology: topology, rank: rank, count: count)
        }
        return Schedule(algorithm: self, rank: rank, size: topology.size, count: count, scratchCount: scratch, streams: streams)
    }
}

extension String {
    func replacingOccurrences(of a: String, with b: String) -> String {
        split(separator: Character(a), omittingEmptySubsequences: false).joined(separator: b)
    }
}
