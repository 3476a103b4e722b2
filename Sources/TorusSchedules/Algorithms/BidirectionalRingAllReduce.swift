import Foundation
import TorusCore

/// Two rings in opposite directions over the same one-hop order, each carrying half the buffer,
/// so both directed links of the ring are busy.
public enum BidirectionalRingAllReduce: AllReduceAlgorithm {
    public static let name = "bidirectional-ring"
    public static let aliases = ["bidirectionalring", "bidir-ring"]
    public static let summary = "two rings in opposite directions, half the data each"

    /// The ring's steps with the bytes over two links (one when the two neighbours are one rank).
    public static func estimate(_ m: CostModel, topology: GroupTopology, bytes: Int) -> Double {
        let p = Double(topology.size), n = Double(bytes), share = (p - 1) / p
        let links: Double = topology.size > 2 ? 2 : 1
        return 2 * (p - 1) * m.alpha + 2 * share * n / links * m.beta + share * n * m.gamma
    }

    public static func streams(topology: GroupTopology, rank: Int, count: Int) -> (streams: [Stream], scratch: Int) {
        let order = RingAllReduce.ringOrder(topology)
        var forward = StreamBuilder(label: "ring +")
        var backward = StreamBuilder(label: "ring -")
        RingAllReduce.appendRing(to: &forward, order: order, rank: rank, range: Partition.piece(0, of: 2, in: 0..<count))
        RingAllReduce.appendRing(to: &backward, order: order.reversed(), rank: rank, range: Partition.piece(1, of: 2, in: 0..<count))
        return placeStreams([forward, backward])
    }
}

extension Algorithm {
    public static let bidirectionalRing = Algorithm(BidirectionalRingAllReduce.self)
}
