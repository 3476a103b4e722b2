import TorusCore

/// The collectives the library runs, as MPI names them: MPI_Allreduce, MPI_Reduce_scatter_block,
/// MPI_Allgather.
///
/// ReduceScatter and AllGather are the two halves of the algorithms that do an AllReduce as a
/// reduce-scatter followed by an all-gather (`ReduceScatterAllGather`). Their schedules work on a
/// data buffer of p·c elements (c: the elements of one rank's block). After the reduce-scatter half
/// rank r holds the reduced values of the ranges `BlockLayout.ranges[r]`; the all-gather half
/// starts from each rank holding its contribution in those ranges. The layout is the algorithm's:
/// sixring's six parts leave each rank six ranges, one per part, not the user's block r. The
/// runtime therefore copies between the user's buffers (blocks in rank order) and the schedule's
/// buffer through the layout, which every message then finds contiguous — one pass over memory,
/// skipped where the layout is the blocks in rank order (ring).
public enum Collective: String, CaseIterable, Codable, Sendable, CustomStringConvertible {
    case allReduce = "all-reduce"
    case reduceScatter = "reduce-scatter"
    case allGather = "all-gather"

    public var description: String { rawValue }

    /// The MPI function it stands for (for messages).
    public var mpiName: String {
        switch self {
        case .allReduce: return "MPI_Allreduce"
        case .reduceScatter: return "MPI_Reduce_scatter_block"
        case .allGather: return "MPI_Allgather"
        }
    }

    /// nccl-tests' bus-bandwidth factor: 2(p−1)/p for AllReduce, (p−1)/p for the halves.
    public func busFactor(ranks p: Int) -> Double {
        let share = p > 0 ? Double(p - 1) / Double(p) : 0
        return self == .allReduce ? 2 * share : share
    }

    /// Accepts the names, also with `_` or without the dash ("allgather", "reduce_scatter").
    public init(parsing text: String, name: String = "collective") throws {
        let key = text.lowercased().replacingOccurrences(of: "_", with: "-")
        guard let c = Collective.allCases.first(where: { $0.rawValue == key || $0.rawValue.replacingOccurrences(of: "-", with: "") == key }) else {
            throw TorusError.invalidValue(name: name, value: text,
                                          expected: "one of " + Collective.allCases.map(\.rawValue).joined(separator: ", "))
        }
        self = c
    }
}

/// Where each rank's block lies in a reduce-scatter or all-gather schedule's data buffer: rank r's
/// c elements are `ranges[r]`, in order (their concatenation is the user's block r).
public struct BlockLayout: Hashable, Sendable {
    public let blockCount: Int
    public let ranges: [[Range<Int>]]

    public init(blockCount: Int, ranges: [[Range<Int>]]) {
        self.blockCount = blockCount
        self.ranges = ranges
    }

    /// Rank r's block is elements r·c ..< (r+1)·c: the user's buffer is the schedule's.
    public var isRankOrder: Bool {
        ranges.enumerated().allSatisfy { r, list in
            list.filter { !$0.isEmpty } == (blockCount == 0 ? [] : [r * blockCount ..< (r + 1) * blockCount])
        }
    }

    /// Why the layout is not a partition of the buffer into blocks of c, or nil.
    public var problem: String? {
        let total = ranges.count * blockCount
        var owner = [Int](repeating: -1, count: total)
        for (r, list) in ranges.enumerated() {
            let n = list.reduce(0) { $0 + $1.count }
            guard n == blockCount else { return "rank \(r)'s ranges hold \(n) elements, not its block's \(blockCount)" }
            for range in list {
                guard range.lowerBound >= 0, range.upperBound <= total else { return "rank \(r)'s range \(range) lies outside 0..<\(total)" }
                for e in range {
                    guard owner[e] < 0 else { return "element \(e) lies in the blocks of ranks \(owner[e]) and \(r)" }
                    owner[e] = r
                }
            }
        }
        return nil
    }
}

/// An AllReduce algorithm that is a reduce-scatter followed by an all-gather, and runs either half
/// alone as a ReduceScatter or an AllGather.
public protocol ReduceScatterAllGather: AllReduceAlgorithm {
    /// Why it cannot run the halves on this group (Rabenseifner: not a power of two), or nil.
    static func halvesUnavailable(topology: GroupTopology) -> String?
    /// The streams of one half (`.reduceScatter` or `.allGather`) on a data buffer of
    /// p·`blockCount` elements.
    static func halfStreams(_ half: Collective, topology: GroupTopology, rank: Int, blockCount: Int) -> (streams: [Stream], scratch: Int)
    /// The ranges of the data buffer where `rank`'s block lies (`BlockLayout`).
    static func blockRanges(topology: GroupTopology, rank: Int, blockCount: Int) -> [Range<Int>]
}

extension ReduceScatterAllGather {
    public static func halvesUnavailable(topology: GroupTopology) -> String? { nil }
}

extension Algorithm {
    /// Why this algorithm cannot run `collective` on the group, or nil.
    public func unavailable(_ collective: Collective, topology: GroupTopology) -> String? {
        guard collective != .allReduce else { return nil }
        guard let halves = implementation as? any ReduceScatterAllGather.Type else {
            let able = Algorithm.allCases.filter { $0.implementation is any ReduceScatterAllGather.Type }.map(\.rawValue)
            return "\(rawValue) has no \(collective) (it is not a reduce-scatter followed by an all-gather); use one of "
                + able.joined(separator: ", ")
        }
        return halves.halvesUnavailable(topology: topology)
    }

    /// The layout of the blocks in `collective`'s data buffer (rank order for an AllReduce, where
    /// it does not matter).
    public func layout(topology: GroupTopology, blockCount: Int) -> BlockLayout {
        guard let halves = implementation as? any ReduceScatterAllGather.Type else {
            return BlockLayout(blockCount: blockCount, ranges: (0..<topology.size).map { [$0 * blockCount ..< ($0 + 1) * blockCount] })
        }
        return BlockLayout(blockCount: blockCount,
                           ranges: (0..<topology.size).map { halves.blockRanges(topology: topology, rank: $0, blockCount: blockCount) })
    }

    /// The schedule of `rank` for `collective`: for an AllReduce of `count` elements, for a
    /// ReduceScatter or AllGather of blocks of `count` elements (a data buffer of p·count).
    public func schedule(_ collective: Collective, topology: GroupTopology, rank: Int, count: Int) throws -> Schedule {
        guard collective != .allReduce else { return try schedule(topology: topology, rank: rank, count: count) }
        if let why = unavailable(collective, topology: topology) {
            throw TorusError.invalidValue(name: "algorithm", value: rawValue, expected: why)
        }
        guard (0..<topology.size).contains(rank) else {
            throw TorusError.invalidValue(name: "rank", value: "\(rank)", expected: "a rank in 0..<\(topology.size)")
        }
        guard count >= 0 else {
            throw TorusError.invalidValue(name: "count", value: "\(count)", expected: "a non-negative element count per rank")
        }
        let halves = implementation as! any ReduceScatterAllGather.Type
        let (streams, scratch) = halves.halfStreams(collective, topology: topology, rank: rank, blockCount: count)
        return Schedule(algorithm: self, collective: collective, rank: rank, size: topology.size, count: topology.size * count,
                        scratchCount: scratch, streams: streams)
    }
}
