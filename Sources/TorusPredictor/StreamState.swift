import TorusSchedules

/// One stream of one simulated rank: the issue rules' state plus what the network model keeps.
struct StreamState {
    var issue: StreamIssue
    /// When its last segment finished so far.
    var finish = 0.0
    var rank: Int32
    /// Position among its rank's streams.
    var index: Int32
    /// Sends issued but not yet handed to the network; one event at a time walks through them.
    var sendsWaiting: Int32 = 0
    /// Posted receives not yet matched: `waiters[window·stream ..< window·stream + waiting]`, in
    /// posting order (at most `window`). Messages that arrived first: `early[stream]` (`earlyCount`).
    var waiting: Int16 = 0
    var earlyCount: Int16 = 0
    var sendEventPending = false

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

/// A message that arrived before its receive was posted.
struct Early {
    var src: Int32
    var arrival: Double
    var payload: [UInt8]?
}
