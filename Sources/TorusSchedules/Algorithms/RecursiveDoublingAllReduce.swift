/// Recursive doubling: in step k every rank exchanges its whole buffer with the rank 2^k away and
/// reduces; after log2(p) steps all hold the result. Latency-optimal for small messages. Other
/// group sizes fold onto a power of two first (`PowerOfTwoFold`).
enum RecursiveDoublingAllReduce {
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
                b.recvReduce(all, from: partner)
                distance *= 2
            }
        }
        fold.foldOut(&b, all)
        return placeStreams([b])
    }
}
