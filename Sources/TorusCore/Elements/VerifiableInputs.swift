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
        let patterns = (0..<16).map { encode(value(rank: rank, index: $0), type) }
        var out = [UInt8]()
        out.reserveCapacity(count * type.size)
        // (31·rank + i) mod 16 depends on i only through i mod 16.
        for i in 0..<count { out += patterns[i % 16] }
        return out
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
        let s = type.size
        var wrong = 0
        for i in 0..<(result.count / s) where result[i * s ..< (i + 1) * s].elementsEqual(pattern[(i % 16) * s ..< (i % 16 + 1) * s]) == false {
            wrong += 1
        }
        return wrong
    }
}

