/// A range of elements of one rank's memory: the data buffer at `[0, count)`, scratch space from
/// `ElementSpan.scratchBase` on, so one comparison tells whether two spans share an element.
public struct ElementSpan: Hashable, Sendable, CustomStringConvertible {
    public var lo: Int
    public var hi: Int

    /// Scratch elements are numbered from here (a buffer holds fewer than 2^61 elements).
    /// (Computed: as stored statics they were read through an accessor and a once-check, three
    /// times per segment issued.)
    @inlinable public static var scratchBase: Int { 1 << 61 }
    @inlinable public static var empty: ElementSpan { ElementSpan(lo: 0, hi: 0) }

    @inlinable public init(lo: Int, hi: Int) {
        self.lo = lo
        self.hi = hi
    }

    /// `count` elements from element `offset` of `region`'s buffer.
    @inlinable public init(_ region: Region, at offset: Int = 0, count: Int) {
        lo = region.offset + offset + (region.buffer == .scratch ? ElementSpan.scratchBase : 0)
        hi = lo + count
    }

    /// Whether both are non-empty and share an element.
    @inlinable public func overlaps(_ o: ElementSpan) -> Bool { lo < o.hi && o.lo < hi && lo < hi && o.lo < o.hi }
    @inlinable public var count: Int { hi - lo }
    /// The first element within its buffer, and whether that buffer is scratch.
    @inlinable public var offset: Int { isScratch ? lo - ElementSpan.scratchBase : lo }
    @inlinable public var isScratch: Bool { lo >= ElementSpan.scratchBase }

    public var description: String { "\(isScratch ? "scratch" : "data")[\(offset)..<\(offset + count)]" }
}
