/// Where one stream stands in issuing its segments: the cursor over its steps and the counters the
/// issue rules keep. Its request table and receive window live in `StreamTables`.
public struct StreamIssue: Sendable {
    /// When the last segment was issued (segments issue in order, at non-decreasing times).
    public var lastIssue = 0.0
    /// The next step, an index into the consumer's step table; the stream's steps end at `stepEnd`.
    public var step: Int32
    public var stepEnd: Int32
    /// Elements of the current step already issued.
    public var at = 0
    /// The serial the next segment gets.
    public var serial: Int32 = 0
    /// Receives issued so far (the k-th takes window slot k mod window).
    public var recvCount: Int32 = 0
    /// What the stream waits for: the serial of an unfinished segment, `IssueRules.blockedOnWindow`,
    /// `IssueRules.needsRoom`, or `IssueRules.notBlocked`.
    public var blockedOn: Int32 = IssueRules.notBlocked
    /// Records in the request table (`StreamTables.ops[0 ..< opCount]`), in serial order (at most
    /// the table's capacity).
    public var opCount: Int32 = 0
    /// Records whose `targetPending` is not 0.
    public var targetWaiters: Int32 = 0

    public init(step: Int32, stepEnd: Int32) {
        self.step = step
        self.stepEnd = stepEnd
    }

    /// Every step issued (segments may still be running).
    @inlinable public var isAtEnd: Bool { step >= stepEnd }
}

/// The storage of one stream's issue state: its request table (`capacity` records, grown by the
/// consumer when `issueNext` reports `needsRoom`) and its receive window (`window` completion times,
/// NaN while pending). Owned by the consumer, which keeps it alive while the stream runs.
public struct StreamTables {
    public let ops: UnsafeMutablePointer<IssuedSegment>
    public let capacity: Int
    public let recvRing: UnsafeMutablePointer<Double>

    @inlinable public init(ops: UnsafeMutablePointer<IssuedSegment>, capacity: Int, recvRing: UnsafeMutablePointer<Double>) {
        self.ops = ops
        self.capacity = capacity
        self.recvRing = recvRing
    }

    /// The table index of the record with this serial, if it is still kept (records are in serial order).
    @inlinable public func find(_ serial: Int32, count: Int32) -> Int? {
        var lo = 0, hi = Int(count)
        while lo < hi {
            let mid = (lo + hi) / 2
            if ops[mid].serial < serial { lo = mid + 1 } else { hi = mid }
        }
        return lo < Int(count) && ops[lo].serial == serial ? lo : nil
    }
}
