import TorusSchedules

/// One stream of one simulated rank: the issue rules' state plus what the network model keeps
/// (72 bytes, in a 64-byte aligned table).
struct StreamState {
    var issue: StreamIssue
    var rank: Int32
    /// Position among its rank's streams.
    var index: Int32
    /// Sends issued but not yet handed to the network; one event at a time walks through them.
    var sendsWaiting: Int32 = 0
    /// Posted receives not yet matched: `waiters[window·stream ..< window·stream + waiting]`, in
    /// posting order (at most `window`). Messages that arrived first: `early[stream]` (`earlyCount`).
    var waiting: Int16 = 0
    var earlyCount: Int16 = 0
    /// A send event of this stream is in the heap.
    var sendEventPending = false
    /// When its last segment finished so far.
    var finish = 0.0

    init(rank: Int32, index: Int32, stepEnd: Int32, step: Int32) {
        issue = StreamIssue(step: step, stepEnd: stepEnd)
        self.rank = rank
        self.index = index
    }
}

/// A posted receive waiting for its message: the sending rank and the segment.
struct Waiter {
    var src: Int32
    var serial: Int32
}

/// A message that arrived before its receive was posted (a rendezvous message: its request).
struct Early {
    var src: Int32
    var arrival: Double
    /// A rendezvous message's data arrives no sooner than this long after its receive is posted
    /// (0 for an eager message).
    var afterPosting: Double
    var payload: [UInt8]?
}

/// A step as the predictor stores it, for millions of steps: 20 bytes, offsets and counts in
/// 32 bits (the predictor refuses buffers of 2^31 elements or more).
struct CompactStep {
    var kind: SegmentKind
    var aScratch: Bool
    var bScratch: Bool
    var peer: Int32
    var a: Int32
    var b: Int32
    var count: Int32

    init(_ step: IssueStep) {
        kind = step.kind
        peer = step.peer
        aScratch = step.a >= ElementSpan.scratchBase
        bScratch = step.b >= ElementSpan.scratchBase
        a = Int32(aScratch ? step.a - ElementSpan.scratchBase : step.a)
        b = Int32(bScratch ? step.b - ElementSpan.scratchBase : step.b)
        count = Int32(step.count)
    }

    @inline(__always) var issueStep: IssueStep {
        IssueStep(kind: kind, peer: peer, a: Int(a) + (aScratch ? ElementSpan.scratchBase : 0),
                  b: Int(b) + (bScratch ? ElementSpan.scratchBase : 0), count: Int(count))
    }
}

/// The predictor's step table, as the issue rules read it.
struct CompactSteps: IssueStepTable {
    let base: UnsafeMutablePointer<CompactStep>
    @inline(__always) func issueStep(_ index: Int) -> IssueStep { base[index].issueStep }
}
