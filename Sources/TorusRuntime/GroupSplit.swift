import TorusCore

/// The collective part of `split(color:key:)` for backends without one of their own: every rank
/// tells every other its (color, key); each learns the members of its new group, ordered by key
/// then by rank (as MPI_Comm_split orders them).
public enum GroupSplit {
    /// The ranks (of `transport`'s group) in this rank's new group, or nil when `color` is nil.
    public static func members(transport: Transport, color: Int?, key: Int, tag: Int) throws -> [Int]? {
        let mine = (color ?? Int.min, key)
        let all = try RecordExchange.allGather([Int64(mine.0), Int64(mine.1)], transport: transport, tag: tag).map { (Int($0[0]), Int($0[1])) }
        guard color != nil else { return nil }
        return (0..<transport.size).filter { all[$0].0 == mine.0 }.sorted { (all[$0].1, $0) < (all[$1].1, $1) }
    }
}
