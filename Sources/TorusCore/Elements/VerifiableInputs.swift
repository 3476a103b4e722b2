#if canImport(Glibc)
import Glibc
#endif

/// Inputs whose reduction can be checked bit for bit on any number of ranks, as nccl-tests does:
/// element i of rank r is `(31·r + i) mod 16` in the element type. The result of element i depends
/// only on i mod 16, so 16 expected values — folded over the ranks with the library's own kernel —
/// check a buffer of any size. Sums (within the type's exact integer range), min, max and every
/// integer op are exact in any order; `inexact` says when a check would not be.
public enum VerifiableInputs {
    public static func value(rank: Int, index: Int) -> Int { (31 * rank + index) % 16 }

    /// Why a result could depend on the order of reduction, or nil when it cannot.
    public static func inexact(type: ElementType, op: ReduceOp, ranks: Int) -> String? {
        guard type.isFloatingPoint else { return nil }
        switch op {
        case .min, .max: return nil
        case .sum:
            let exactUpTo: Int = [.float16: 2048, .bfloat16: 256, .float32: 1 << 24, .float64: 1 << 53][type]!
            return 15 * ranks <= exactUpTo ? nil : "a \(type.rawValue) sum over \(ranks) ranks leaves the range of exact integers"
        default:
            return "a floating-point \(op.rawValue) rounds differently in different orders"
        }
    }

    public static func bytes(type: ElementType, rank: Int, count: Int) -> [UInt8] {
        let total = count * type.size
        return [UInt8](unsafeUninitializedCapacity: total) { buffer, initialized in
            fill(UnsafeMutableRawBufferPointer(buffer), type: type, rank: rank)
            initialized = total
        }
    }

    /// Writes rank `rank`'s inputs over the whole buffer (whole elements of `type`).
    public static func fill(_ buffer: UnsafeMutableRawBufferPointer, type: ElementType, rank: Int) {
        // (31·rank + i) mod 16 depends on i only through i mod 16: one 16-element period, repeated
        // by doubling copies.
        guard let base = buffer.baseAddress, buffer.count > 0 else { return }
        let period = (0..<16).flatMap { encode(value(rank: rank, index: $0), type) }
        let total = buffer.count
        let first = min(total, period.count)
        period.withUnsafeBytes { base.copyMemory(from: $0.baseAddress!, byteCount: first) }
        var filled = first
        while filled < total {
            let n = min(filled, total - filled)
            (base + filled).copyMemory(from: base, byteCount: n)
            filled += n
        }
    }

    /// The little-endian bytes of the integer `v` as one element of `type`.
    public static func encode(_ v: Int, _ type: ElementType) -> [UInt8] {
        type.isFloatingPoint ? encodeFloat(Float(v), type) : withUnsafeBytes(of: UInt64(bitPattern: Int64(v)).littleEndian) { Array($0.prefix(type.size)) }
    }

    /// The bytes of `v` rounded to the floating-point `type`.
    public static func encodeFloat(_ v: Float, _ type: ElementType) -> [UInt8] {
        switch type {
        case .float32: return withUnsafeBytes(of: v) { Array($0) }
        case .float64: return withUnsafeBytes(of: Double(v)) { Array($0) }
        case .float16: return withUnsafeBytes(of: Float16(v).bitPattern) { Array($0) }
        case .bfloat16: return withUnsafeBytes(of: BFloat16(v).bitPattern) { Array($0) }
        default: preconditionFailure("\(type) is not a floating-point type")
        }
    }

    /// The 16 distinct results, folded over ranks in order with the kernel.
    public static func expectedPattern(kernel: ReductionKernel, ranks: Int) throws -> [UInt8] {
        var acc = bytes(type: kernel.type, rank: 0, count: 16)
        for r in 1..<max(ranks, 1) {
            let next = bytes(type: kernel.type, rank: r, count: 16)
            acc.withUnsafeMutableBytes { a in next.withUnsafeBytes { kernel.accumulate(into: a.baseAddress!, $0.baseAddress!, count: 16) } }
        }
        return acc
    }

    public static func countWrong(_ result: [UInt8], pattern: [UInt8], type: ElementType) -> Int {
        result.withUnsafeBytes { countWrong($0, pattern: pattern, type: type) }
    }

    /// Elements of `result` that differ from `pattern` repeated.
    public static func countWrong(_ result: UnsafeRawBufferPointer, pattern: [UInt8], type: ElementType) -> Int {
        let s = type.size
        let n = result.count / s
        guard n > 0, let r = result.baseAddress else { return 0 }
        var wrong = 0
        pattern.withUnsafeBytes { p in
            var i = 0
            // Whole periods compare as one block; only a block that differs is counted element by element.
            while i < n {
                let m = min(16, n - i)
                if memcmp(r + i * s, p.baseAddress!, m * s) != 0 {
                    for k in 0..<m where memcmp(r + (i + k) * s, p.baseAddress! + k * s, s) != 0 { wrong += 1 }
                }
                i += m
            }
        }
        return wrong
    }
}
