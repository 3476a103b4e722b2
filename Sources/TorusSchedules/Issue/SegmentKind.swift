/// What a segment of a step does (the step kinds of the schedule IR, DESIGN §5).
public enum SegmentKind: UInt8, Sendable, CaseIterable {
    case send, recv, recvReduce, reduce, copy
    /// A receive-and-reduce whose received operand comes first (`target = received op target`).
    case recvReduceReceivedFirst

    /// Whether the segment posts a receive (and so takes a slot of the receive window).
    @inlinable @inline(__always) public var isReceive: Bool { self == .recv || reducesReceived }

    /// Whether the segment receives into scratch and reduces what arrived into its target.
    @inlinable @inline(__always) public var reducesReceived: Bool { self == .recvReduce || self == .recvReduceReceivedFirst }
}
