import Foundation
import TorusCore

/// Recursive doubling: in step k every rank exchanges its whole buffer with the rank 2^k away and
/// reduces, the lower rank's buffer as the first operand on both; after log2(p) steps all hold the
/// same result. Latency-optimal for small messages. Other
/// group sizes fold onto a power of two first (`PowerOfTwoFold`).
public enum RecursiveDoublingAllReduce: AllReduceAlgorithm {
    public static let name = "recursive-doubling"
    public static let aliases = ["rd", "recursivedoubling"]
    public static let summary = "log2 p whole-buffer exchanges (other sizes fold onto a power of two)"

    /// DESIGN §3: log2(p)·(α + nβ + nγ), plus the fold.
    public static func estimate(_ m: CostModel, topology: GroupTopology, bytes: Int) -> Double {
        let n = Double(bytes)
        return ceil(log2(Double(topology.size))) * (m.alpha + n * m.beta + n * m.gamma) + m.foldCost(topology, bytes: bytes)
    }

    public static func streams(topology: GroupTopology, rank: Int, count: Int) -> (streams: [Stream], scratch: Int) {
        streams(size: topology.size, rank: rank, count: count)
    }

    static func streams(size: Int, rank: Int, count: Int) -> ([Stream], Int) {
        let fold = PowerOfTwoFold(size: size, rank: rank)
        let all = 0..<count
        var b = StreamBuilder(label: "recursive doubling", slots: 1)
        fold.foldIn(&b, all)
        if let me = fold.newRank {
            var distance = 1
            while distance < fold.active {
                let partner = fold.realRank(me ^ distance)
                b.send(all, to: partner)
                // Both compute (lower rank's op higher rank's): the same bits on both (NaN payloads too).
                b.recvReduce(all, from: partner, receivedFirst: partner < rank)
                distance *= 2
            }
        }
        fold.foldOut(&b, all)
        return placeStreams([b])
    }
}

extension Algorithm {
    public static let recursiveDoubling = Algorithm(RecursiveDoublingAllReduce.self)
}
