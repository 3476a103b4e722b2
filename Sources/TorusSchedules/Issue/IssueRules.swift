/// The rules that decide when a stream's segments start (DESIGN §6), in one place: the executor
/// and the predictor both run every stream through these functions and keep no copy of them.
///
/// 1. **Cutting.** A step is cut into segments of `segmentBytes` (rounded down to whole elements,
///    at least one), or of the schedule's `segmentLimitElements` where that is fewer;
///    `segmentBytes == 0` cuts only what one message cannot carry (2^31 − 1 bytes, an MPI
///    count). A step larger than `eagerSplitBytes` (when set) and at most twice that size
///    goes as two halves, each within it: two eager messages, where one would wait for a
///    rendezvous handshake. Empty steps issue nothing: a part whose range is empty sends no message.
/// 2. **Order.** A stream issues its segments in order. A segment starts once it conflicts with no
///    unfinished earlier segment of its stream (`SegmentAccess.conflicts`: a common element that
///    one of them writes), so receives are posted ahead and a reduction of one segment overlaps
///    the transfer of the next.
/// 3. **Receive-and-reduce.** Its receive is posted as soon as its scratch is free; its reduction
///    starts once the receive is over and no unfinished earlier segment touches its target. Holding
///    the receive back until the target is free would deadlock against an MPI rendezvous send.
///    **Scratch ring.** With `scratchSegments` = R > 0, segment j of a receive-and-reduce step
///    receives into the step's scratch at segment j mod R, so a step's scratch is R segments —
///    which stay in cache for its reductions — instead of the whole step; by rule 2 the receive
///    of segment j waits until segment j − R's reduction is over (a receive that waits for a
///    reduction, as one did before for the reduction of the step before last, whose scratch slot
///    it takes).
/// 4. **Receive window.** The k-th receive of a stream waits until the receive of the
///    (k − `window`)-th is over. Sends are not limited: holding a send behind receives that wait
///    for the peer's sends could deadlock against a peer doing the same.
/// 5. **No limit on sends.** A stream's segments in flight are not capped: a step's send segments
///    all come before the next step's receives in stream order, and an MPI send of more than the
///    eager limit completes only when the peer posts its receive — a cap on unfinished segments
///    would hold both ranks' receives back behind their own sends (a deadlock at 4 KiB segments).
///    The request table therefore grows: `issueNext` reports `needsRoom` when it is full.
///
/// Every rule depends only on which earlier segments of the same stream have finished (and, in
/// the predictor, on their completion times), so the two consumers issue the same segments after
/// the same completions (tested in `IssueRulesAgreementTests`).
public struct IssueRules: Sendable, Hashable, Codable {
    /// Steps larger than this are cut into segments of this many bytes (0: never cut).
    public var segmentBytes: Int
    /// Receives of one stream posted at once.
    public var window: Int
    /// The transport's eager limit, in payload bytes, or 0: a step of more than this and at most
    /// twice this goes as two halves that are both sent eagerly (`TORUS_EAGER_BYTES`, or the
    /// eager limit of a calibrated model). On Open MPI's shared memory here recursive doubling of
    /// 4 KiB took 6.4 µs as one rendezvous message and 3.7 µs as two eager halves; at four times
    /// the limit the extra messages cost more than the handshake they save (README, "Eager halves").
    public var eagerSplitBytes: Int
    /// Segments of a receive-and-reduce step that have scratch of their own (rule 3's scratch
    /// ring; 0: every segment, the whole step). On one host a message is a memory copy into the
    /// scratch, and the reduction reads it back: in a ring of a few segments both stay in cache
    /// (`TORUS_SCRATCH_SEGMENTS`; `sharedMemoryScratchSegments` where all ranks share a host).
    public var scratchSegments: Int

    /// Records a request table starts with.
    public static let requestTable = 64
    /// `StreamIssue.blockedOn` values that are not serials: nothing, the receive window, a full
    /// request table (grow it and call `issueNext` again).
    public static let notBlocked: Int32 = -1, blockedOnWindow: Int32 = -2, needsRoom: Int32 = -3

    /// The defaults of the executor, of `TORUS_SEGMENT_BYTES` and of the predictor's presets:
    /// 1 MiB segments (measured on MPI: see the README), 16 receives posted ahead.
    public init(segmentBytes: Int = 1 << 20, window: Int = 16, eagerSplitBytes: Int = 0, scratchSegments: Int = 0) {
        self.segmentBytes = segmentBytes
        self.window = window
        self.eagerSplitBytes = eagerSplitBytes
        self.scratchSegments = scratchSegments
    }

    /// The executor's scratch ring where every rank of a group shares one host: 2 segments (2 MiB
    /// at the default 1 MiB segments). On this project's 2-core VM it took sixring, ring and
    /// Rabenseifner of 64 MiB about 10–25% faster at np 2 and 4, rings of 2 and 4 alike within the
    /// noise; the smaller leaves more cache to other ranks (README, "The large-message path against
    /// memory's limit"). Not the predictor presets' default: over a network it only holds receives
    /// back (48×6 in 256 KiB segments, `ideal`: 0.908 → 0.883 of the bound with 4).
    public static let sharedMemoryScratchSegments = 2

    /// The most bytes one segment carries, whatever `segmentBytes` says: one message's worth.
    public static let largestSegmentBytes = Int(Int32.max)

    /// The cutting of steps of elements of `elementSize` bytes (rule 1), in segments of at most
    /// `limitElements` when the schedule sets one (`Schedule.segmentLimitElements`).
    @inlinable public func cut(elementSize: Int, limitElements: Int? = nil) -> SegmentCut {
        let bytes = segmentBytes == 0 ? IssueRules.largestSegmentBytes : min(segmentBytes, IssueRules.largestSegmentBytes)
        var elements = max(1, bytes / elementSize)
        if let limitElements, limitElements > 0 { elements = min(elements, limitElements) }
        return SegmentCut(segmentElements: elements, eagerElements: max(0, eagerSplitBytes) / elementSize)
    }

    /// Issues the stream's next segment if the rules allow: records it in the request table and
    /// returns its table index. Returns nil when every step is issued or the stream must wait
    /// (`blockedOn` says for what: call again after `finish` or `receiveDone` returns true, or, for
    /// `needsRoom`, after giving the table more room).
    /// The record's `issue` is the time it starts: the latest completion it waited for.
    @inlinable
    public func issueNext<Steps: IssueStepTable>(_ s: inout StreamIssue, _ t: StreamTables, steps: Steps, cut: SegmentCut) -> Int? {
        while s.step < s.stepEnd {
            let stepIndex = s.step
            let step = steps.issueStep(Int(stepIndex))
            if step.count == 0 {
                s.step += 1
                continue
            }
            let at = s.at
            let piece = cut.pieceElements(step.count)
            let n = min(piece, step.count - at)
            let reduces = step.kind.reducesReceived
            // Its scratch: the ring's segment (at / piece) mod R (rule 3), else where `at` lies.
            let aAt = reduces && scratchSegments > 0 ? at / piece % scratchSegments * piece : at
            let aSpan = ElementSpan(lo: step.a + aAt, hi: step.a + aAt + n)
            let bSpan = ElementSpan(lo: step.b + at, hi: step.b + at + n)
            // What the segment touches to start: a receive-and-reduce only its scratch (rule 3).
            var access = SegmentAccess(a: aSpan, aWrites: step.kind.isReceive,
                                       b: step.kind == .reduce || step.kind == .copy ? bSpan : .empty)
            let target = SegmentAccess(a: .empty, aWrites: false, b: bSpan)
            var ready = s.lastIssue
            var recvSlot: Int16 = -1
            if step.kind.isReceive {
                let count = Int(s.recvCount)
                recvSlot = Int16(count % window)
                if count >= window {
                    let previous = t.recvRing[Int(recvSlot)]
                    if previous.isNaN { s.blockedOn = IssueRules.blockedOnWindow; return nil }
                    ready = max(ready, previous)
                }
            }
            var targetReady = 0.0, targetPending: UInt16 = 0
            let live = Int(s.opCount)
            var blocker: Int32?
            let near = SegmentAccess(a: access.a, aWrites: access.aWrites, b: reduces ? bSpan : access.b)
            t.visit(0, live, near: near) { k in
                let r = t.ops[k]
                if access.conflicts(r.access) {
                    if r.done.isNaN { blocker = r.serial; return false }
                    ready = max(ready, r.done)
                }
                if reduces, target.conflicts(r.access) {
                    // Not a reason to wait: the receive may be posted, its reduction waits.
                    if r.done.isNaN { targetPending += 1 } else { targetReady = max(targetReady, r.done) }
                }
                return true
            }
            if let blocker { s.blockedOn = blocker; return nil }
            // The table drops the segments finished by the last issue (no later segment can start
            // before it, so they hold nothing back): a small table at every issue, a large one once
            // half of it has finished since the last time or it is full — so pruning costs O(1)
            // per segment — and a full one asks for room unless that frees half of it. Not by
            // `ready`: after `needsRoom` this segment is looked at again, and must still see what
            // set its `ready`.
            var kept = live
            if live == t.capacity || (live > 4 && (live <= 32 || 2 * Int(s.finishedSincePrune) >= live)) {
                kept = prune(&s, t, upTo: s.lastIssue)
                s.finishedSincePrune = 0
                guard kept * 2 <= t.capacity || live < t.capacity else { s.blockedOn = IssueRules.needsRoom; return nil }
            }
            s.blockedOn = IssueRules.notBlocked
            if reduces { access.b = bSpan }
            s.lastIssue = ready
            let serial = s.serial
            s.serial &+= 1
            t.ops[kept] = IssuedSegment(access: access, done: .nan, issue: ready, targetReady: targetReady, serial: serial,
                                        step: stepIndex, peer: step.peer, recvSlot: recvSlot, kind: step.kind, targetPending: targetPending)
            if targetPending > 0 { s.targetWaiters += 1 }
            s.opCount = Int32(kept + 1)
            if at + n >= step.count {
                s.step += 1
                s.at = 0
            } else {
                s.at = at + n
            }
            if recvSlot >= 0 {
                t.recvRing[Int(recvSlot)] = .nan
                s.recvCount += 1
            }
            return kept
        }
        return nil
    }

    /// Drops the records finished by `time`; returns how many remain.
    @inlinable func prune(_ s: inout StreamIssue, _ t: StreamTables, upTo time: Double) -> Int {
        var w = 0
        for k in 0 ..< Int(s.opCount) where !(t.ops[k].done <= time) {
            if w != k { t.ops[w] = t.ops[k] }
            w += 1
        }
        s.opCount = Int32(w)
        return w
    }

    /// The receive of the receive-and-reduce at table index `i` is over at `time`: its window slot
    /// frees. Returns when its reduction may start (nil: its target is still held; the `finish` of
    /// the last segment holding it releases it), and whether the stream may issue more.
    @inlinable
    public func receiveDone(_ s: inout StreamIssue, _ t: StreamTables, index i: Int, at time: Double) -> (reduceAt: Double?, mayIssue: Bool) {
        t.recvRing[Int(t.ops[i].recvSlot)] = time
        t.ops[i].recvSlot = -1
        t.ops[i].issue = time
        let op = t.ops[i]
        return (op.targetPending == 0 ? max(time, op.targetReady) : nil, s.blockedOn == IssueRules.blockedOnWindow)
    }

    /// The segment at table index `i` finished at `time` (a receive-and-reduce: its reduction).
    /// Frees its window slot (a receive) and its hold on the targets of later receive-and-reduce
    /// segments; `release(index, time)` is called for each whose reduction may now start. Returns
    /// whether the stream may issue more (it was waiting for this segment).
    @inlinable
    public func finish(_ s: inout StreamIssue, _ t: StreamTables, index i: Int, at time: Double,
                       release: (_ index: Int, _ at: Double) -> Void) -> Bool {
        t.ops[i].done = time
        s.finishedSincePrune += 1
        let op = t.ops[i]
        if s.targetWaiters > 0 {
            let finished = op.access
            var waiters = s.targetWaiters
            t.visit(i + 1, Int(s.opCount), near: finished) { k in
                guard t.ops[k].targetPending > 0,
                      SegmentAccess(a: .empty, aWrites: false, b: t.ops[k].access.b).conflicts(finished) else { return true }
                t.ops[k].targetReady = max(t.ops[k].targetReady, time)
                t.ops[k].targetPending -= 1
                if t.ops[k].targetPending == 0 {
                    waiters -= 1
                    if t.ops[k].recvSlot == -1 { release(k, max(t.ops[k].issue, t.ops[k].targetReady)) }
                }
                return true
            }
            s.targetWaiters = waiters
        }
        if op.recvSlot >= 0 { t.recvRing[Int(op.recvSlot)] = time }
        let blocked = s.blockedOn
        return blocked == IssueRules.notBlocked || blocked == op.serial || (blocked == IssueRules.blockedOnWindow && op.recvSlot >= 0)
    }
}

/// How a run cuts its steps into segments (`IssueRules` rule 1), for one element size.
public struct SegmentCut: Sendable, Equatable {
    /// Elements per segment.
    public let segmentElements: Int
    /// Elements within the eager limit (`IssueRules.eagerSplitBytes`); 0: steps are not halved.
    public let eagerElements: Int

    @inlinable public init(segmentElements: Int, eagerElements: Int = 0) {
        self.segmentElements = segmentElements
        self.eagerElements = eagerElements
    }

    /// Elements per segment of a step of `count` (its last segment may be shorter).
    @inlinable public func pieceElements(_ count: Int) -> Int {
        if eagerElements > 0 && count > eagerElements && count <= 2 * eagerElements {
            return min(segmentElements, (count + 1) / 2)
        }
        return segmentElements
    }

    /// Segments a step of `count` elements is cut into.
    @inlinable public func segmentCount(_ count: Int) -> Int {
        let n = pieceElements(count)
        return (count + n - 1) / n
    }
}
