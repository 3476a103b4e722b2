import CTorusKernels

// Element-wise reduction operators. Kernels apply them in plain loops over typed buffers that the
// compiler specialises per type and vectorises to the target's full vector width (AVX-512 where
// the build targets it). Every operator here is branch-free in effect (selects, not jumps), so the
// vector body and the scalar remainder of a loop compute bit-identical results: where a buffer is
// cut into segments never changes an element's value.

/// Float32 and Float64, with access to their bits.
protocol KernelFloat: BinaryFloatingPoint {
    associatedtype Bits: FixedWidthInteger
    var bitPattern: Bits { get }
    init(bitPattern: Bits)
    /// The canonical quiet NaN (positive, top fraction bit set), a constant the optimiser can fold
    /// (the generic `.nan` is not folded and would keep min/max loops from vectorising).
    static var canonicalNaN: Self { get }
}

extension Float: KernelFloat {
    @inline(__always) static var canonicalNaN: Float { Float(bitPattern: 0x7FC0_0000) }
}

extension Double: KernelFloat {
    @inline(__always) static var canonicalNaN: Double { Double(bitPattern: 0x7FF8_0000_0000_0000) }
}

enum FloatOps {
    /// min with NaN winning (the canonical quiet NaN) and −0 below +0, the same in either order.
    @inline(__always)
    static func min<T: KernelFloat>(_ x: T, _ y: T) -> T {
        // Equal operands (including −0 == +0): OR of the bits is −0 if either is −0, else x itself.
        let m = y < x ? y : (x == y ? T(bitPattern: x.bitPattern | y.bitPattern) : x)
        return nanWins(x, y, m)
    }

    /// max with NaN winning (the canonical quiet NaN) and +0 above −0, the same in either order.
    @inline(__always)
    static func max<T: KernelFloat>(_ x: T, _ y: T) -> T {
        // Equal operands: AND of the bits is +0 unless both are −0, else x itself.
        let m = y > x ? y : (x == y ? T(bitPattern: x.bitPattern & y.bitPattern) : x)
        return nanWins(x, y, m)
    }

    /// `result`, or the canonical NaN if either operand is NaN.
    @inline(__always)
    static func nanWins<T: KernelFloat>(_ x: T, _ y: T, _ result: T) -> T {
        (x != x) || (y != y) ? T.canonicalNaN : result
    }
}

enum IntegerOps {
    @inline(__always) static func min<T: FixedWidthInteger>(_ x: T, _ y: T) -> T { y < x ? y : x }
    @inline(__always) static func max<T: FixedWidthInteger>(_ x: T, _ y: T) -> T { y > x ? y : x }
    /// 1 for non-zero, 0 for zero: MPI's logical value of an integer.
    @inline(__always) static func truth<T: FixedWidthInteger>(_ x: T) -> T { x != 0 ? 1 : 0 }
}

/// A 16-bit float storage format, converted exactly to Float32 and rounded back to nearest even.
protocol HalfFormat {
    static func widen(_ h: UInt16) -> Float
    static func narrow(_ f: Float) -> UInt16
    /// The format's number in CTorusKernels.
    static var vectorFormat: Int32 { get }
}

/// IEEE binary16 (`f16`). Branch-free conversions after Maratyszcza's FP16 library: the portable
/// path, and the reference the vector kernels (`CTorusKernels`) are tested against.
enum Float16Format: HalfFormat {
    static var vectorFormat: Int32 { Int32(TORUS_HALF_BINARY16) }
    @inline(__always) static func widen(_ h: UInt16) -> Float { portableWiden(h) }
    @inline(__always) static func narrow(_ f: Float) -> UInt16 { portableNarrow(f) }

    /// binary16 → Float32, exact. The exponent and fraction are moved into Float32 position and
    /// rebased by multiplying with 2^112, which also normalises subnormals; values that land at
    /// ≥ 2^16 were Inf or NaN and get the all-ones exponent. The sign-extended input puts the
    /// sign in bit 31.
    @inline(__always)
    static func portableWiden(_ h: UInt16) -> Float {
        let w = Int32(Int16(bitPattern: h))
        let scaled = Float(bitPattern: UInt32(bitPattern: (w & 0x7FFF) &<< 13)) * 0x1p112
        let infNaN: Int32 = scaled >= 65536 ? 0x7F80_0000 : 0
        let sign = w & Int32(bitPattern: 0x8000_0000)
        return Float(bitPattern: UInt32(bitPattern: Int32(bitPattern: scaled.bitPattern) | infNaN | sign))
    }

    /// Float32 → binary16, round to nearest even; overflow → ±Inf; any NaN → 0x7E00.
    /// |f|·2^112·2^−110 overflows to Inf exactly when binary16 would; adding 2^(e+13) for the
    /// operand's exponent e (at least 2^−1, the subnormal case) makes the FPU round away the 13
    /// fraction bits binary16 cannot hold, ties to even; the result's bits are then read off.
    @inline(__always)
    static func portableNarrow(_ f: Float) -> UInt16 {
        let w = Int32(bitPattern: f.bitPattern)
        let magnitude = w & 0x7FFF_FFFF
        var base = (Float(bitPattern: UInt32(bitPattern: magnitude)) * 0x1p112) * 0x1p-110
        var bias = w & 0x7F80_0000
        bias = bias < 0x3880_0000 ? 0x3880_0000 : bias
        base = Float(bitPattern: UInt32(bitPattern: bias &+ 0x0780_0000)) + base
        let bits = Int32(bitPattern: base.bitPattern)
        let value = ((bits &>> 13) & 0x7C00) &+ (bits & 0x0FFF)
        let signed = value | ((w &>> 16) & Int32(bitPattern: 0xFFFF_8000))
        return UInt16(truncatingIfNeeded: magnitude > 0x7F80_0000 ? 0x7E00 : signed)
    }
}

/// bfloat16 (`bf16`): the top half of a Float32.
enum BFloat16Format: HalfFormat {
    static var vectorFormat: Int32 { Int32(TORUS_HALF_BFLOAT16) }
    @inline(__always)
    static func widen(_ h: UInt16) -> Float { Float(bitPattern: UInt32(h) &<< 16) }

    @inline(__always)
    static func narrow(_ f: Float) -> UInt16 { BFloat16.round(f.bitPattern) }
}
