import Foundation
import TorusCore

/// Ring AllReduce: reduce-scatter then all-gather around one ring through every rank, in p − 1
/// steps each. On a box the ring follows a Hamiltonian (snake) order of the grid, so every step is
/// one hop; on a virtual grid it follows rank order.
public enum RingAllReduce: AllReduceAlgorithm {
    public static let name = "ring"
    public static let summary = "one ring over a one-hop snake (Hamiltonian) order of the group"

    /// DESIGN §3: 2(p−1)α + 2(p−1)/p·nβ + (p−1)/p·nγ.
    public static func estimate(_ m: CostModel, topology: GroupTopology, bytes: Int) -> Double {
        let p = Double(topology.size), n = Double(bytes), share = (p - 1) / p
        return 2 * (p - 1) * m.alpha + 2 * share * n * m.beta + share * n * m.gamma
    }

    public static func streams(topology: GroupTopology, rank: Int, count: Int) -> (streams: [Stream], scratch: Int) {
        let order = ringOrder(topology)
        var b = StreamBuilder(label: "ring")
        appendRing(to: &b, order: order, rank: rank, range: 0..<count)
        return placeStreams([b])
    }

    /// Ranks in ring order.
    static func ringOrder(_ topology: GroupTopology) -> [Int] {
        guard topology.kind == .box, let nodes = try? topology.grid.hamiltonianRing() else {
            return Array(0..<topology.size)
        }
        return nodes.map { topology.rankAt[$0] }
    }

    /// A full ring AllReduce of `range` over `order` (reduce-scatter, then all-gather).
    static func appendRing(to b: inout StreamBuilder, order: [Int], rank: Int, range: Range<Int>) {
        let p = order.count
        let position = order.firstIndex(of: rank)!
        let pieces = (0..<p).map { Partition.piece($0, of: p, in: range) }
        let next = order[(position + 1) % p], previous = order[(position + p - 1) % p]
        b.ringReduceScatter(pieces, position: position, next: next, previous: previous)
        b.ringAllGather(pieces, position: position, next: next, previous: previous)
    }
}

extension RingAllReduce: ReduceScatterAllGather {
    /// Ring position j works on block order[j], so that each rank's block is its own: the layout is
    /// rank order already (`BlockLayout.isRankOrder`, nothing to rewrite).
    public static func halfStreams(_ half: Collective, topology: GroupTopology, rank: Int, blockCount: Int) -> (streams: [Stream], scratch: Int) {
        let order = ringOrder(topology), p = order.count
        let position = order.firstIndex(of: rank)!
        let pieces = order.map { $0 * blockCount ..< ($0 + 1) * blockCount }
        let next = order[(position + 1) % p], previous = order[(position + p - 1) % p]
        var b = StreamBuilder(label: "ring \(half)")
        if half == .allGather {
            b.ringAllGather(pieces, position: position, next: next, previous: previous)
        } else {
            b.ringReduceScatter(pieces, position: position, next: next, previous: previous)
        }
        return placeStreams([b])
    }

    public static func blockRanges(topology: GroupTopology, rank: Int, blockCount: Int) -> [Range<Int>] {
        [rank * blockCount ..< (rank + 1) * blockCount]
    }
}

extension Algorithm {
    public static let ring = Algorithm(RingAllReduce.self)
}
