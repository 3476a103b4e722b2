import Testing
@testable import TorusCore

/// The reduction rules written out element by element, independently of the kernels: Swift's own
/// Float16 conversions, a nearest-even search for bfloat16, plain if/else for the min/max rules.
enum KernelReference {
    /// `a op b` over little-endian element bytes.
    static func apply(_ type: ElementType, _ op: ReduceOp, _ a: [UInt8], _ b: [UInt8]) -> [UInt8] {
        let n = a.count / type.size
        var out = [UInt8](repeating: 0, count: a.count)
        for i in 0..<n {
            let range = i * type.size ..< (i + 1) * type.size
            let r = element(type, op, Array(a[range]), Array(b[range]))
            out.replaceSubrange(range, with: r)
        }
        return out
    }

    static func element(_ type: ElementType, _ op: ReduceOp, _ a: [UInt8], _ b: [UInt8]) -> [UInt8] {
        switch type {
        case .float32:
            let r = float(op, Float(bitPattern: load(a)), Float(bitPattern: load(b)))
            return bytes(r.bitPattern)
        case .float64:
            let r = float(op, Double(bitPattern: load(a)), Double(bitPattern: load(b)))
            return bytes(r.bitPattern)
        case .float16:
            let x = Float(Float16(bitPattern: load(a))), y = Float(Float16(bitPattern: load(b)))
            let r = float(op, x, y)
            return bytes(r.isNaN ? UInt16(0x7E00) : Float16(r).bitPattern)
        case .bfloat16:
            let x = Float(bitPattern: UInt32(load(a) as UInt16) << 16)
            let y = Float(bitPattern: UInt32(load(b) as UInt16) << 16)
            return bytes(roundToBFloat16(float(op, x, y)))
        case .int8: return bytes(integer(op, load(a) as Int8, load(b)))
        case .int16: return bytes(integer(op, load(a) as Int16, load(b)))
        case .int32: return bytes(integer(op, load(a) as Int32, load(b)))
        case .int64: return bytes(integer(op, load(a) as Int64, load(b)))
        case .uint8: return bytes(integer(op, load(a) as UInt8, load(b)))
        case .uint16: return bytes(integer(op, load(a) as UInt16, load(b)))
        case .uint32: return bytes(integer(op, load(a) as UInt32, load(b)))
        case .uint64: return bytes(integer(op, load(a) as UInt64, load(b)))
        }
    }

    static func float<T: BinaryFloatingPoint>(_ op: ReduceOp, _ x: T, _ y: T) -> T {
        switch op {
        case .sum: return x + y
        case .prod: return x * y
        case .min, .max:
            if x.isNaN || y.isNaN { return T.nan }
            if x == 0 && y == 0 {
                let negative = op == .min ? (x.sign == .minus || y.sign == .minus) : (x.sign == .minus && y.sign == .minus)
                return negative ? -T.zero : T.zero
            }
            return op == .min ? (y < x ? y : x) : (y > x ? y : x)
        default: fatalError("not a float op")
        }
    }

    static func integer<T: FixedWidthInteger>(_ op: ReduceOp, _ x: T, _ y: T) -> T {
        switch op {
        case .sum: return x &+ y
        case .prod: return x &* y
        case .min: return Swift.min(x, y)
        case .max: return Swift.max(x, y)
        case .band: return x & y
        case .bor: return x | y
        case .bxor: return x ^ y
        case .land: return (x != 0 && y != 0) ? 1 : 0
        case .lor: return (x != 0 || y != 0) ? 1 : 0
        case .lxor: return ((x != 0) != (y != 0)) ? 1 : 0
        }
    }

    /// Nearest bfloat16 by comparing the two candidates' distances in Double; ties to even;
    /// past the largest finite value by half an ulp or more, Inf; NaN → 0x7FC0.
    static func roundToBFloat16(_ f: Float) -> UInt16 {
        if f.isNaN { return 0x7FC0 }
        let bits = f.bitPattern
        let low = UInt16(bits >> 16)
        if bits & 0xFFFF == 0 { return low }
        let high = low &+ 1
        let value = Double(f).magnitude
        let lowValue = Double(Float(bitPattern: UInt32(low & 0x7FFF) << 16))
        let highBits = UInt32(high & 0x7FFF) << 16
        // Above the largest finite bfloat16 the next candidate is Inf; it counts as 2^128 here.
        let highValue = highBits == 0x7F80_0000 ? 0x1p128 : Double(Float(bitPattern: highBits))
        let dLow = value - lowValue, dHigh = highValue - value
        if dLow < dHigh { return low }
        if dHigh < dLow { return high }
        return low & 1 == 0 ? low : high
    }

    static func load<T: FixedWidthInteger>(_ bytes: [UInt8]) -> T {
        bytes.withUnsafeBytes { $0.loadUnaligned(as: T.self) }
    }

    static func bytes<T: FixedWidthInteger>(_ value: T) -> [UInt8] {
        withUnsafeBytes(of: value) { Array($0) }
    }
}

/// Element values that exercise every rule: signed zeros, NaNs with payloads, infinities,
/// subnormals, extremes, wrap-around; and then random bit patterns.
enum EdgeValues {
    static func bits(for type: ElementType) -> [UInt64] {
        switch type {
        case .float32:
            let floats: [Float] = [0, -0.0, 1, -1, 1.5, 3, .leastNonzeroMagnitude, -.leastNonzeroMagnitude,
                                   .leastNormalMagnitude, 3.0e-39, .greatestFiniteMagnitude, -.greatestFiniteMagnitude,
                                   .infinity, -.infinity, 65504, 1e-8, 0.1]
            return floats.map { UInt64($0.bitPattern) } + [0x7FC0_0000, 0xFFC0_0000, 0x7F80_0001, 0x7FC1_2345]
        case .float64:
            let doubles: [Double] = [0, -0.0, 1, -1, 1.5, 3, .leastNonzeroMagnitude, -.leastNonzeroMagnitude,
                                     .leastNormalMagnitude, 3.0e-310, .greatestFiniteMagnitude, -.greatestFiniteMagnitude,
                                     .infinity, -.infinity, 1e-300, 0.1]
            return doubles.map { $0.bitPattern } + [0x7FF8_0000_0000_0000, 0xFFF8_0000_0000_0000, 0x7FF0_0000_0000_0001]
        case .float16:
            return [0, 0x8000, 0x3C00, 0xBC00, 0x3E00, 0x0001, 0x8001, 0x03FF, 0x0400, 0x7BFF, 0xFBFF, 0x7BFE,
                    0x7C00, 0xFC00, 0x7E00, 0xFE00, 0x7C01, 0x7E55, 0x3555, 0x1400, 0x0200]
        case .bfloat16:
            return [0, 0x8000, 0x3F80, 0xBF80, 0x3FC0, 0x0001, 0x8001, 0x007F, 0x0080, 0x7F7F, 0xFF7F, 0x7F7E,
                    0x7F80, 0xFF80, 0x7FC0, 0xFFC0, 0x7F81, 0x4049, 0x3DCD, 0x0040]
        default:
            let bitsPerElement = UInt64(type.size * 8)
            let mask: UInt64 = bitsPerElement == 64 ? ~0 : (1 << bitsPerElement) - 1
            let signBit: UInt64 = 1 << (bitsPerElement - 1)
            return [0, 1, 2, 3, 100, mask, signBit, signBit - 1, signBit + 1, mask - 1, 0x5555_5555_5555_5555 & mask,
                    0xAAAA_AAAA_AAAA_AAAA & mask, 127, 128, 255]
        }
    }

    /// `count` elements of a and b: first every pair of edge values, then random bits.
    static func operands(_ type: ElementType, count: Int, seed: UInt64) -> ([UInt8], [UInt8]) {
        let edges = bits(for: type)
        var rng = SplitMix64(seed: seed)
        var a: [UInt8] = [], b: [UInt8] = []
        for i in 0..<count {
            let pair = i < edges.count * edges.count
            let x = pair ? edges[i % edges.count] : rng.next()
            let y = pair ? edges[i / edges.count] : rng.next()
            a += withUnsafeBytes(of: x.littleEndian) { Array($0.prefix(type.size)) }
            b += withUnsafeBytes(of: y.littleEndian) { Array($0.prefix(type.size)) }
        }
        return (a, b)
    }
}
