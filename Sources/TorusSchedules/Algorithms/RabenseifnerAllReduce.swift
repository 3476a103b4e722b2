import Foundation
import TorusCore

/// Rabenseifner: a reduce-scatter by recursive halving (each step swaps half of the current range
/// with the partner at distance 1, 2, 4, …, p'/2 and keeps the other half, reduced), then an
/// all-gather by recursive doubling that retraces the halvings (distance p'/2, …, 2, 1). Bandwidth
/// like the ring, latency 2·log2(p). Other group sizes fold onto a power of two first
/// (`PowerOfTwoFold`).
///
/// The order is MPICH's (`MPIR_Allreduce_intra_reduce_scatter_allgather`): the largest halves
/// (n/2, then n/4, …) go to the nearest partners. On a torus, where ranks fill the grid x first,
/// distance 1 is one hop along x while distance p'/2 is half-way along z: the order that starts
/// at p'/2 sends half the buffer over two-hop, contended paths. `torus sim --preset ideal` on
/// 4×4×4 at 256 MiB predicts this order faster, as SimGrid does for MPICH's (README, "Rabenseifner's order").
public enum RabenseifnerAllReduce: AllReduceAlgorithm {
    public static let name = "rabenseifner"
    public static let aliases = ["rab"]
    public static let summary = "recursive-halving reduce-scatter + recursive-doubling all-gather"

    /// DESIGN §3: 2·log2(p)·α + 2(p−1)/p·nβ + (p−1)/p·nγ, plus the fold.
    public static func estimate(_ m: CostModel, topology: GroupTopology, bytes: Int) -> Double {
        let p = Double(topology.size), n = Double(bytes), share = (p - 1) / p
        return 2 * ceil(log2(p)) * m.alpha + 2 * share * n * m.beta + share * n * m.gamma + m.foldCost(topology, bytes: bytes)
    }

    public static func streams(topology: GroupTopology, rank: Int, count: Int) -> (streams: [Stream], scratch: Int) {
        streams(size: topology.size, rank: rank, count: count)
    }

    /// The AllReduce, or one half alone (`collective`; the group then a power of two, so that the
    /// halvings of p·c elements cut exactly and no rank sits out).
    static func streams(size: Int, rank: Int, count: Int, collective: Collective = .allReduce) -> ([Stream], Int) {
        let fold = PowerOfTwoFold(size: size, rank: rank)
        let all = 0..<count
        var b = StreamBuilder(label: collective == .allReduce ? "rabenseifner" : "rabenseifner \(collective)", slots: 1)
        fold.foldIn(&b, all)
        if let me = fold.newRank {
            let ranges = halvings(active: fold.active, rank: me, count: count)
            func sibling(_ level: Int) -> Range<Int> {
                let parent = ranges[level - 1]
                return ranges[level] == Partition.piece(0, of: 2, in: parent) ? Partition.piece(1, of: 2, in: parent)
                                                                             : Partition.piece(0, of: 2, in: parent)
            }
            let levels = ranges.count - 1
            if collective != .allGather {
                for level in stride(from: 1, through: levels, by: 1) {
                    let partner = fold.realRank(me ^ (1 << (level - 1)))
                    b.send(sibling(level), to: partner)
                    b.recvReduce(ranges[level], from: partner)
                }
            }
            if collective != .reduceScatter {
                for level in stride(from: levels, to: 0, by: -1) {
                    let partner = fold.realRank(me ^ (1 << (level - 1)))
                    b.send(ranges[level], to: partner)
                    b.recv(sibling(level), from: partner)
                }
            }
        }
        fold.foldOut(&b, all)
        return placeStreams([b])
    }

    /// ranges[k]: the range rank `me` (of `active`, a power of two) holds before halving step k;
    /// at step k (distance 2^k) the lower half goes to the rank whose bit k is 0.
    static func halvings(active: Int, rank me: Int, count: Int) -> [Range<Int>] {
        var ranges = [0..<count]
        var distance = 1
        while distance < active {
            let lower = Partition.piece(0, of: 2, in: ranges.last!), upper = Partition.piece(1, of: 2, in: ranges.last!)
            ranges.append(me & distance == 0 ? lower : upper)
            distance *= 2
        }
        return ranges
    }
}

extension RabenseifnerAllReduce: ReduceScatterAllGather {
    public static func halvesUnavailable(topology: GroupTopology) -> String? {
        let p = topology.size
        return p & (p - 1) == 0 ? nil
            : "rabenseifner runs a reduce-scatter or all-gather alone only on a power-of-two group (this one has \(p) ranks); use sixring or ring"
    }

    public static func halfStreams(_ half: Collective, topology: GroupTopology, rank: Int, blockCount: Int) -> (streams: [Stream], scratch: Int) {
        streams(size: topology.size, rank: rank, count: topology.size * blockCount, collective: half)
    }

    /// The last halving's range: block bit-reverse(rank), not the rank's own.
    public static func blockRanges(topology: GroupTopology, rank: Int, blockCount: Int) -> [Range<Int>] {
        [halvings(active: topology.size, rank: rank, count: topology.size * blockCount).last!]
    }
}

extension Algorithm {
    public static let rabenseifner = Algorithm(RabenseifnerAllReduce.self)
}
