/// A segment a stream has issued, kept in its stream's request table while it may still hold back
/// later segments. Times are in the consumer's clock: the predictor's virtual seconds; the
/// executor, which has no clock, marks a finished segment 0. 64 bytes, one cache line: the spans
/// are stored as their first elements and one count (a segment's two spans are equally long).
public struct IssuedSegment: Sendable {
    /// Completion time, NaN while unknown.
    public var done: Double
    /// When it was issued; a receive-and-reduce whose receive is over: when the receive completed.
    public var issue: Double
    /// recvReduce: when its target is free, as far as known (the finished earlier segments touching it).
    public var targetReady: Double
    @usableFromInline var aLo: Int
    @usableFromInline var bLo: Int
    /// Elements of the segment (of each of its spans).
    public var count: Int32
    /// Its position in the stream: segments are numbered in issue order from 0.
    public var serial: Int32
    /// Its step, an index into the consumer's step table.
    public var step: Int32
    public var peer: Int32
    /// Its slot in the receive window while its receive is pending, else -1.
    public var recvSlot: Int16
    /// recvReduce: earlier segments touching the target that were unfinished when it was issued
    /// and still are. Its reduction may start once this is 0 and its receive is over.
    public var targetPending: UInt16
    public var kind: SegmentKind
    /// `aWrites`, a span `b`, and the consumer's `started`.
    @usableFromInline var flags: UInt8

    @inlinable public init(access: SegmentAccess, done: Double, issue: Double, targetReady: Double, serial: Int32, step: Int32,
                           peer: Int32, recvSlot: Int16, kind: SegmentKind, targetPending: UInt16) {
        self.done = done
        self.issue = issue
        self.targetReady = targetReady
        aLo = access.a.lo
        bLo = access.b.lo
        count = Int32(access.a.count)
        self.serial = serial
        self.step = step
        self.peer = peer
        self.recvSlot = recvSlot
        self.kind = kind
        self.targetPending = targetPending
        flags = (access.aWrites ? 1 : 0) | (access.b.count > 0 ? 2 : 0)
    }

    /// The memory it touches.
    @inlinable public var access: SegmentAccess {
        let n = Int(count)
        return SegmentAccess(a: ElementSpan(lo: aLo, hi: aLo + n), aWrites: flags & 1 != 0,
                             b: flags & 2 != 0 ? ElementSpan(lo: bLo, hi: bLo + n) : .empty)
    }

    /// Free for the consumer (the predictor: a send handed to the network).
    @inlinable public var started: Bool {
        get { flags & 4 != 0 }
        set { flags = newValue ? flags | 4 : flags & ~4 }
    }

    public static let blank = IssuedSegment(access: SegmentAccess(a: .empty, aWrites: false, b: .empty), done: 0, issue: 0,
                                            targetReady: 0, serial: 0, step: 0, peer: 0, recvSlot: -1, kind: .send, targetPending: 0)
}
