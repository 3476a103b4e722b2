import TorusCore

/// The collective part of `split(color:key:)` for backends without one of their own: every rank
/// tells every other its (color, key); each learns the members of its new group, ordered by key
/// then by rank (as MPI_Comm_split orders them).
public enum GroupSplit {
    /// The ranks (of `transport`'s group) in this rank's new group, or nil when `color` is nil.
    public static func members(transport: Transport, color: Int?, key: Int, tag: Int) throws -> [Int]? {
        let p = transport.size, me = transport.rank
        var mine: (Int, Int) = (color ?? Int.min, key)
        var all = [(Int, Int)](repeating: (0, 0), count: p)
        all[me] = mine
        var requests: [TransportRequest] = []
        try withUnsafeBytes(of: &mine) { out in
            try all.withUnsafeMutableBytes { table in
                let stride = MemoryLayout<(Int, Int)>.stride
                for peer in 0..<p where peer != me {
                    requests.append(try transport.irecv(UnsafeMutableRawBufferPointer(rebasing: table[peer * stride ..< (peer + 1) * stride]),
                                                        from: peer, tag: tag))
                    requests.append(try transport.isend(out, to: peer, tag: tag))
                }
                do {
                    while !requests.isEmpty {
                        requests.remove(at: try transport.waitAny(requests))
                    }
                } catch {
                    for r in requests { transport.cancel(r) }
                    throw error
                }
            }
        }
        guard color != nil else { return nil }
        return (0..<p).filter { all[$0].0 == mine.0 }.sorted { (all[$0].1, $0) < (all[$1].1, $1) }
    }
}
