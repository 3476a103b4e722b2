/// Folding a group of any size onto a power of two, for the recursive algorithms (as MPICH does):
/// with p' the largest power of two ≤ p and rem = p − p', among the first 2·rem ranks each even rank
/// hands its buffer to the odd rank after it and sits out; the p' remaining ranks run the
/// algorithm with new ranks 0..<p'; at the end each odd rank hands the result back.
struct PowerOfTwoFold {
    let size: Int
    let rank: Int
    /// p', the ranks taking part.
    let active: Int
    let remainder: Int

    init(size: Int, rank: Int) {
        self.size = size
        self.rank = rank
        var p = 1
        while p * 2 <= size { p *= 2 }
        active = p
        remainder = size - p
    }

    /// This rank's rank among the p' taking part, or nil if it sits out.
    var newRank: Int? {
        if rank < 2 * remainder { return rank % 2 == 1 ? rank / 2 : nil }
        return rank - remainder
    }

    /// The real rank of a new rank.
    func realRank(_ newRank: Int) -> Int { newRank < remainder ? 2 * newRank + 1 : newRank + remainder }

    /// Steps that fold the extra ranks in.
    func foldIn(_ b: inout StreamBuilder, _ range: Range<Int>) {
        guard rank < 2 * remainder else { return }
        if rank % 2 == 0 { b.send(range, to: rank + 1) } else { b.recvReduce(range, from: rank - 1) }
    }

    /// Steps that hand the result back to the ranks that sat out.
    func foldOut(_ b: inout StreamBuilder, _ range: Range<Int>) {
        guard rank < 2 * remainder else { return }
        if rank % 2 == 0 { b.recv(range, from: rank + 1) } else { b.send(range, to: rank - 1) }
    }
}
