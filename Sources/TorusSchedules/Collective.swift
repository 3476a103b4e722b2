import Synchronization
import TorusCore

/// The collectives the library runs, as MPI names them: MPI_Allreduce, MPI_Reduce_scatter_block,
/// MPI_Allgather.
///
/// ReduceScatter and AllGather are the two halves of the algorithms that do an AllReduce as a
/// reduce-scatter followed by an all-gather (`ReduceScatterAllGather`). An algorithm writes each
/// half for a buffer of p·c elements (c: the elements of one rank's block) in its own layout: after
/// its reduce-scatter rank r holds the reduced values of the ranges `BlockLayout.ranges[r]`, which
/// for sixring are six ranges, one per part, not the user's block r·c ..< (r+1)·c. The schedule
/// the library runs is that half rewritten to the user's layout (`BlockLayout.rewrite`): every
/// range a step names is mapped, piece by piece, to where those elements lie in rank order, so a
/// message over the blocks of several ranks becomes one message per block. No data is copied to
/// or from a layout of the algorithm's own; messages get smaller and more numerous instead
/// (sixring's first phase on 4×4×4 sends 16 pieces where the AllReduce sends one), which costs
/// little where the halves pay, on large buffers.
public enum Collective: String, CaseIterable, Codable, Sendable, CustomStringConvertible {
    case allReduce = "all-reduce"
    case reduceScatter = "reduce-scatter"
    case allGather = "all-gather"

    public var description: String { rawValue }

    /// "AllReduce", "ReduceScatter", "AllGather" (headers and messages).
    public var title: String {
        switch self {
        case .allReduce: return "AllReduce"
        case .reduceScatter: return "ReduceScatter"
        case .allGather: return "AllGather"
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

/// Where each rank's block lies in an algorithm's own layout of a ReduceScatter's or AllGather's
/// buffer: rank r's c elements are `ranges[r]`, in order (their concatenation is the user's block r).
public struct BlockLayout: Hashable, Sendable {
    public let blockCount: Int
    public let ranges: [[Range<Int>]]

    public init(blockCount: Int, ranges: [[Range<Int>]]) {
        self.blockCount = blockCount
        self.ranges = ranges
    }

    /// Rank r's block is elements r·c ..< (r+1)·c, the user's layout.
    public static func rankOrder(ranks: Int, blockCount c: Int) -> BlockLayout {
        BlockLayout(blockCount: c, ranges: (0..<ranks).map { [$0 * c ..< ($0 + 1) * c] })
    }

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

    /// Streams written for this layout, rewritten for rank order: each data range a step names is
    /// cut where it crosses from one piece of a block to another, and each cut moved to where the
    /// piece lies in rank order (adjacent cuts merged). A send and its receive name the same range,
    /// so both sides cut alike. Scratch regions stay; a receive-and-reduce's scratch is cut with
    /// its target.
    public func rewrite(_ streams: [Stream]) -> [Stream] {
        if isRankOrder { return streams }
        // (start here, length, start in rank order), sorted by start here.
        var pieces: [(from: Int, count: Int, to: Int)] = []
        for (r, list) in ranges.enumerated() {
            var at = r * blockCount
            for range in list where !range.isEmpty {
                pieces.append((range.lowerBound, range.count, at))
                at += range.count
            }
        }
        pieces.sort { $0.from < $1.from }
        let starts = pieces.map(\.from)
        /// (offset into the region, count, offset in rank order) of each cut of a data range.
        func cuts(_ region: Region) -> [(Int, Int, Int)] {
            guard region.buffer == .data, region.count > 0 else { return [(0, region.count, region.offset)] }
            var lo = 0, hi = starts.count
            while lo + 1 < hi {   // the last piece starting at or before the region
                let mid = (lo + hi) / 2
                if starts[mid] <= region.offset { lo = mid } else { hi = mid }
            }
            var out: [(Int, Int, Int)] = []
            var e = region.offset, i = lo
            while e < region.end {
                let piece = pieces[i], n = Swift.min(region.end, piece.from + piece.count) - e
                let to = piece.to + (e - piece.from)
                if let last = out.last, last.2 + last.1 == to { out[out.count - 1].1 += n } else { out.append((e - region.offset, n, to)) }
                e += n
                i += 1
            }
            return out
        }
        func moved(_ region: Region, _ cut: (Int, Int, Int)) -> Region {
            region.buffer == .data ? Region(.data, cut.2, cut.1) : region.slice(cut.0, cut.1)
        }
        return streams.map { stream in
            var steps: [Step] = []
            for step in stream.steps {
                switch step {
                case let .send(peer, r): steps += cuts(r).map { .send(peer: peer, region: moved(r, $0)) }
                case let .recv(peer, r): steps += cuts(r).map { .recv(peer: peer, region: moved(r, $0)) }
                case let .recvReduce(peer, scratch, target):
                    steps += cuts(target).map { .recvReduce(peer: peer, scratch: scratch.slice($0.0, $0.1), target: moved(target, $0)) }
                case let .recvReduceReceivedFirst(peer, scratch, target):
                    steps += cuts(target).map {
                        .recvReduceReceivedFirst(peer: peer, scratch: scratch.slice($0.0, $0.1), target: moved(target, $0))
                    }
                case let .reduce(source, target):
                    // One of the two is scratch in every algorithm with halves: cut by the data one.
                    precondition(source.buffer != target.buffer, "rewrite: a reduce between two data ranges")
                    let data = source.buffer == .data ? source : target
                    steps += cuts(data).map { .reduce(source: moved(source, $0), target: moved(target, $0)) }
                case let .copy(source, target):
                    precondition(source.buffer != target.buffer, "rewrite: a copy between two data ranges")
                    let data = source.buffer == .data ? source : target
                    steps += cuts(data).map { .copy(source: moved(source, $0), target: moved(target, $0)) }
                }
            }
            return Stream(label: stream.label, steps: steps)
        }
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
    /// Messages a rank sends in one half once rewritten to rank order, as α steps for the cost model.
    static func halfSteps(topology: GroupTopology) -> Double
}

extension CostModel {
    /// Estimated seconds for a ReduceScatter or AllGather of a buffer of `bytes` (p blocks) with
    /// `algorithm`'s half: its messages (`halfSteps`), half its AllReduce's link time, and for a
    /// ReduceScatter all of its reductions (an AllGather reduces nothing).
    public func estimate(_ algorithm: Algorithm, _ collective: Collective, topology: GroupTopology, bytes: Int) -> Double {
        guard collective != .allReduce else { return estimate(algorithm, topology: topology, bytes: bytes) }
        guard topology.size > 1, let halves = algorithm.implementation as? any ReduceScatterAllGather.Type else { return 0 }
        let links = CostModel(alpha: 0, beta: beta, gamma: 0).estimate(algorithm, topology: topology, bytes: bytes)
        let reductions = CostModel(alpha: 0, beta: 0, gamma: gamma).estimate(algorithm, topology: topology, bytes: bytes)
        return alpha * halves.halfSteps(topology: topology) + 0.5 * links + (collective == .reduceScatter ? reductions : 0)
    }
}

extension ReduceScatterAllGather {
    public static func halvesUnavailable(topology: GroupTopology) -> String? { nil }

    /// Message steps of one half in rank order, for the cost model: half the AllReduce's.
    public static func halfSteps(topology: GroupTopology) -> Double {
        0.5 * estimate(CostModel(alpha: 1, beta: 0, gamma: 0), topology: topology, bytes: 1)
    }
}

extension Algorithm {
    /// Why this algorithm cannot run `collective` on the group, or nil.
    public func unavailable(_ collective: Collective, topology: GroupTopology) -> String? {
        guard collective != .allReduce else { return nil }
        guard let halves = implementation as? any ReduceScatterAllGather.Type else {
            let able = Algorithm.allCases.filter { $0.implementation is any ReduceScatterAllGather.Type }.map(\.rawValue)
            return "\(rawValue) has no \(collective) (the library runs the halves of \(able.joined(separator: ", ")) alone); use one of "
                + able.joined(separator: ", ")
        }
        return halves.halvesUnavailable(topology: topology)
    }

    /// The layout in which the algorithm writes its halves (`BlockLayout`), made once per group
    /// and block size (a few are kept: building it walks every rank's blocks).
    func ownLayout(topology: GroupTopology, blockCount: Int) -> BlockLayout {
        guard let halves = implementation as? any ReduceScatterAllGather.Type else {
            return .rankOrder(ranks: topology.size, blockCount: blockCount)
        }
        let key = LayoutKey(algorithm: self, topology: topology, blockCount: blockCount)
        if let known = layoutCache.withLock({ $0[key] }) { return known }
        let layout = BlockLayout(blockCount: blockCount,
                                 ranges: (0..<topology.size).map { halves.blockRanges(topology: topology, rank: $0, blockCount: blockCount) })
        layoutCache.withLock { cache in
            if cache.count >= 64 { cache.removeAll() }
            cache[key] = layout
        }
        return layout
    }

    /// The schedule of `rank` for `collective`: for an AllReduce of `count` elements, for a
    /// ReduceScatter or AllGather of blocks of `count` elements (a data buffer of p·count, block r
    /// at r·count).
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
                        scratchCount: scratch, streams: ownLayout(topology: topology, blockCount: count).rewrite(streams),
                        segmentLimitElements: implementation.segmentLimitElements(topology: topology, count: topology.size * count))
    }
}

private struct LayoutKey: Hashable {
    var algorithm: Algorithm
    var topology: GroupTopology
    var blockCount: Int
}

private let layoutCache = Mutex<[LayoutKey: BlockLayout]>([:])
