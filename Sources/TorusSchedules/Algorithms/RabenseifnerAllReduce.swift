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

    static func streams(size: Int, rank: Int, count: Int) -> ([Stream], Int) {
        let fold = PowerOfTwoFold(size: size, rank: rank)
        let all = 0..<count
        var b = StreamBuilder(label: "rabenseifner", slots: 1)
        fold.foldIn(&b, all)
        if let me = fold.newRank {
            // ranges[k] is the range held before halving step k; the lower half goes to the rank whose bit is 0.
            var ranges = [all]
            var distance = 1
            while distance < fold.active {
                let partner = fold.realRank(me ^ distance)
                let lower = Partition.piece(0, of: 2, in: ranges.last!), upper = Partition.piece(1, of: 2, in: ranges.last!)
                let (keep, give) = me & distance == 0 ? (lower, upper) : (upper, lower)
                b.send(give, to: partner)
                b.recvReduce(keep, from: partner)
                ranges.append(keep)
                distance *= 2
            }
            for level in stride(from: ranges.count - 1, to: 0, by: -1) {
                distance /= 2
                let partner = fold.realRank(me ^ distance)
                let parent = ranges[level - 1], mine = ranges[level]
                let sibling = mine == Partition.piece(0, of: 2, in: parent) ? Partition.piece(1, of: 2, in: parent)
                                                                            : Partition.piece(0, of: 2, in: parent)
                b.send(mine, to: partner)
                b.recv(sibling, from: partner)
            }
        }
        fold.foldOut(&b, all)
        return placeStreams([b])
    }
}

extension Algorithm {
    public static let rabenseifner = Algorithm(RabenseifnerAllReduce.self)
}
