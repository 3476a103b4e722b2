/// The memory a segment touches: span `a` (read, or written when `aWrites`) and span `b`
/// (written: a reduction target or a copy's destination).
///
/// | kind        | a                   | b                  |
/// |-------------|---------------------|--------------------|
/// | send        | the source (read)   | —                  |
/// | recv        | the destination     | —                  |
/// | recvReduce, recvReduceReceivedFirst | the scratch | the target |
/// | reduce      | the source (read)   | the target         |
/// | copy        | the source (read)   | the destination    |
///
/// A receive-and-reduce reads its target too, but a written span conflicts with every access, so
/// recording it as written is the same rule.
public struct SegmentAccess: Hashable, Sendable {
    public var a: ElementSpan
    public var b: ElementSpan
    public var aWrites: Bool

    @inlinable public init(a: ElementSpan, aWrites: Bool, b: ElementSpan) {
        self.a = a
        self.aWrites = aWrites
        self.b = b
    }

    /// Whether the two touch a common element and one of them writes it: the conflict predicate.
    @inlinable public func conflicts(_ o: SegmentAccess) -> Bool {
        (a.overlaps(o.a) && (aWrites || o.aWrites)) || a.overlaps(o.b) || b.overlaps(o.a) || b.overlaps(o.b)
    }
}
