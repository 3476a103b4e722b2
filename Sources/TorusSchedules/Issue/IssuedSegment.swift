/// A segment a stream has issued, kept in its stream's request table while it may still hold back
/// later segments. Times are in the consumer's clock: the predictor's virtual seconds; the
/// executor, which has no clock, marks a finished segment 0.
public struct IssuedSegment: Sendable {
    public var access: SegmentAccess
    /// Completion time, NaN while unknown.
    public var done: Double
    /// When it was issued; a receive-and-reduce whose receive is over: when the receive completed.
    public var issue: Double
    /// recvReduce: when its target is free, as far as known (the finished earlier segments touching it).
    public var targetReady: Double
    /// Its position in the stream: segments are numbered in issue order from 0.
    public var serial: Int32
    /// Its step, an index into the consumer's step table.
    public var step: Int32
    public var peer: Int32
    /// Its slot in the receive window while its receive is pending, else -1.
    public var recvSlot: Int16
    public var kind: SegmentKind
    /// recvReduce: earlier segments touching the target that were unfinished when it was issued
    /// and still are. Its reduction may start once this is 0 and its receive is over.
    public var targetPending: UInt8
    /// Free for the consumer (the predictor: a send handed to the network).
    public var started: Bool

    @inlinable public init(access: SegmentAccess, done: Double, issue: Double, targetReady: Double, serial: Int32, step: Int32,
                           peer: Int32, recvSlot: Int16, kind: SegmentKind, targetPending: UInt8, started: Bool = false) {
        self.access = access
        self.done = done
        self.issue = issue
        self.targetReady = targetReady
        self.serial = serial
        self.step = step
        self.peer = peer
        self.recvSlot = recvSlot
        self.kind = kind
        self.targetPending = targetPending
        self.started = started
    }

    public static let blank = IssuedSegment(access: SegmentAccess(a: .empty, aWrites: false, b: .empty), done: 0, issue: 0,
                                            targetReady: 0, serial: 0, step: 0, peer: 0, recvSlot: -1, kind: .send, targetPending: 0)
}
