/// What a segment of a step does (the step kinds of the schedule IR, DESIGN §5).
public enum SegmentKind: UInt8, Sendable, CaseIterable {
    case send, recv, recvReduce, reduce, copy

    /// Whether the segment posts a receive (and so takes a slot of the receive window).
    @inlinable public var isReceive: Bool { self == .recv || self == .recvReduce }
}
