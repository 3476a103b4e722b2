/// A 16-bit brain float: the top half of a Float32 (1 sign, 8 exponent, 7 fraction bits).
///
/// A storage type: arithmetic happens in Float32 and is rounded back once, to nearest, ties to
/// even. NaNs become the canonical quiet NaN `0x7FC0` with the input's sign dropped.
public struct BFloat16: Hashable, Sendable, CustomStringConvertible {
    /// The raw 16 bits.
    public var bitPattern: UInt16

    public init(bitPattern: UInt16) { self.bitPattern = bitPattern }

    /// Rounds a Float32 to the nearest BFloat16, ties to even.
    public init(_ value: Float) { bitPattern = BFloat16.round(value.bitPattern) }

    /// The exact Float32 value.
    public var floatValue: Float { Float(bitPattern: UInt32(bitPattern) << 16) }

    public var isNaN: Bool { bitPattern & 0x7FFF > 0x7F80 }

    public var description: String { floatValue.description }

    /// Float32 bits → BFloat16 bits, round to nearest even; the scalar form of `HalfLanes`.
    @inline(__always)
    static func round(_ bits: UInt32) -> UInt16 {
        // Adding 0x7FFF plus the lowest kept bit rounds the dropped 16 bits to nearest even.
        let rounded = (bits &+ 0x7FFF &+ ((bits &>> 16) & 1)) &>> 16
        return UInt16(truncatingIfNeeded: bits & 0x7FFF_FFFF > 0x7F80_0000 ? 0x7FC0 : rounded)
    }
}
