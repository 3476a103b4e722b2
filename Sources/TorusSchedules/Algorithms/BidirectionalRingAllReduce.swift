import TorusCore

/// Two rings in opposite directions over the same one-hop order, each carrying half the buffer,
/// so both directed links of the ring are busy.
enum BidirectionalRingAllReduce {
    static func streams(topology: GroupTopology, rank: Int, count: Int) -> ([Stream], Int) {
        let order = RingAllReduce.ringOrder(topology)
        var forward = StreamBuilder(label: "ring +")
        var backward = StreamBuilder(label: "ring -")
        RingAllReduce.appendRing(to: &forward, order: order, rank: rank, range: Partition.piece(0, of: 2, in: 0..<count))
        RingAllReduce.appendRing(to: &backward, order: order.reversed(), rank: rank, range: Partition.piece(1, of: 2, in: 0..<count))
        return placeStreams([forward, backward])
    }
}
