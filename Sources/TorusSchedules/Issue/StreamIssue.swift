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
    /// Segments finished since the table was last pruned.
    public var finishedSincePrune: Int32 = 0

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

    /// Visits, in serial order, the records of `ops[from ..< to]` that may conflict with `query` —
    /// a superset: the caller checks each — until `body` returns false. A step's records are
    /// consecutive, in offset order, and their spans `a` and `b` move together, so a long run of one
    /// step is searched (binary) for the few records at the offsets the query touches: the cost
    /// grows with the steps in the table and the records that do conflict, not with the records.
    /// (Not a receive-and-reduce step whose scratch is a ring: see below.)
    @inlinable public func visit(_ from: Int, _ to: Int, near query: SegmentAccess, _ body: (Int) -> Bool) {
        var k = from
        while k < to {
            let step = ops[k].step
            var end = k + 1
            if to - k > 8 && ops[end].step == step {
                var lo = end, hi = to
                while lo < hi {
                    let mid = (lo + hi) / 2
                    if ops[mid].step == step { lo = mid + 1 } else { hi = mid }
                }
                end = lo
            } else {
                while end < to && ops[end].step == step { end += 1 }
            }
            // A receive-and-reduce step whose scratch is a ring (`IssueRules.scratchSegments`):
            // its spans `a` wrap around while `b` moves on, so its records are looked at one by one
            // (the ring holds back all but a few unfinished ones).
            if end - k <= 8 || (ops[k].flags & 2 != 0 && ops[end - 1].aLo - ops[k].aLo != ops[end - 1].bLo - ops[k].bLo) {
                for j in k ..< end where !body(j) { return }
                k = end
                continue
            }
            // Offsets (from the run's first record) whose records can touch the query.
            let first = ops[k].access
            let extent = ops[end - 1].aLo + Int(ops[end - 1].count) - first.a.lo
            var lo = Int.max, hi = Int.min
            func widen(_ base: Int, _ span: ElementSpan) {
                // Only what falls within the run (a span in the other buffer lies 2^61 away).
                guard span.lo < span.hi, span.hi - base > 0, span.lo - base < extent else { return }
                lo = min(lo, span.lo - base)
                hi = max(hi, span.hi - base)
            }
            widen(first.a.lo, query.a)
            widen(first.a.lo, query.b)
            if first.b.count > 0 {
                widen(first.b.lo, query.a)
                widen(first.b.lo, query.b)
            }
            // The first record ending after `lo`, then every one starting before `hi`.
            var a = k, b = end
            while a < b {
                let mid = (a + b) / 2
                if ops[mid].aLo + Int(ops[mid].count) - first.a.lo > lo { b = mid } else { a = mid + 1 }
            }
            while a < end && ops[a].aLo - first.a.lo < hi {
                if !body(a) { return }
                a += 1
            }
            k = end
        }
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
