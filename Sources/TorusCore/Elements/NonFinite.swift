/// `TORUS_NAN_CHECK`: where a buffer of floats holds NaN or ±Inf.
public enum NonFinite {
    /// The number of NaN and infinite elements of `count` elements of `type` at `base`, and the
    /// index of the first; nil when every element is finite (or the type is an integer type).
    /// One pass over the bits: an all-ones exponent field.
    public static func scan(_ base: UnsafeRawPointer, count: Int, type: ElementType) -> (count: Int, first: Int)? {
        switch type {
        case .float32: return scan(base, count, UInt32.self, mask: 0x7F80_0000)
        case .float64: return scan(base, count, UInt64.self, mask: 0x7FF0_0000_0000_0000)
        case .float16: return scan(base, count, UInt16.self, mask: 0x7C00)
        case .bfloat16: return scan(base, count, UInt16.self, mask: 0x7F80)
        default: return nil
        }
    }

    private static func scan<T: FixedWidthInteger>(_ base: UnsafeRawPointer, _ count: Int, _: T.Type, mask: T) -> (count: Int, first: Int)? {
        let found: Int
        if Int(bitPattern: base) % MemoryLayout<T>.alignment == 0 {
            // Concrete counting loops (the generic one ran at half the speed): memory speed on the
            // common, aligned buffer.
            switch mask {
            case let m as UInt16: found = count16(base.assumingMemoryBound(to: UInt16.self), count, m)
            case let m as UInt32: found = count32(base.assumingMemoryBound(to: UInt32.self), count, m)
            case let m as UInt64: found = count64(base.assumingMemoryBound(to: UInt64.self), count, m)
            default: found = countUnaligned(base, count, mask)
            }
        } else {
            found = countUnaligned(base, count, mask)
        }
        guard found > 0 else { return nil }
        let first = (0..<count).first { base.loadUnaligned(fromByteOffset: $0 * MemoryLayout<T>.size, as: T.self) & mask == mask }!
        return (found, first)
    }

    private static func count16(_ p: UnsafePointer<UInt16>, _ n: Int, _ mask: UInt16) -> Int {
        var found = 0
        for i in 0..<n where p[i] & mask == mask { found &+= 1 }
        return found
    }

    private static func count32(_ p: UnsafePointer<UInt32>, _ n: Int, _ mask: UInt32) -> Int {
        var found = 0
        for i in 0..<n where p[i] & mask == mask { found &+= 1 }
        return found
    }

    private static func count64(_ p: UnsafePointer<UInt64>, _ n: Int, _ mask: UInt64) -> Int {
        var found = 0
        for i in 0..<n where p[i] & mask == mask { found &+= 1 }
        return found
    }

    private static func countUnaligned<T: FixedWidthInteger>(_ base: UnsafeRawPointer, _ n: Int, _ mask: T) -> Int {
        var found = 0
        for i in 0..<n where base.loadUnaligned(fromByteOffset: i * MemoryLayout<T>.size, as: T.self) & mask == mask { found &+= 1 }
        return found
    }

    /// "3 NaN or Inf values, the first at index 17".
    public static func describe(_ found: (count: Int, first: Int)) -> String {
        "\(found.count) NaN or Inf value\(found.count == 1 ? "" : "s"), the first at index \(found.first)"
    }
}
