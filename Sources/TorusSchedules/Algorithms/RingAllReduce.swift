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

extension Algorithm {
    public static let ring = Algorithm(RingAllReduce.self)
}
