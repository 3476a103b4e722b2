#if canImport(Glibc)
import Glibc
#endif

/// The project's one generator of inputs whose AllReduce result can be checked bit for bit on any
/// number of ranks (the nccl-tests idea), used by the tests, `torus-bench`, the MPI check, `torus
/// allreduce` and the predictor's payload mode.
///
/// Element i of rank r depends on (r, i mod `period`) only, so the result of element i depends on
/// i mod `period` only: with the default period of 16, 16 expected values — folded over the ranks
/// with the library's own kernel — check a buffer of any size (the benchmarks); tests pass
/// `period: .max`, so that every element differs and data moved to the wrong place shows. The values are chosen per op so that every order of reduction gives the same
/// bits: float sums of small integers within the type's exact range; float products of ±1 and a
/// single 2 per rank and period slot (powers of two, exact until they overflow); min and max over
/// halves and quarters, with NaN, ±0 and ±∞ among them unless `.mpiComparable` (MPI's min and max
/// treat those differently from ours, so a check against MPI leaves them out); any bits for integer
/// ops (wrap-around arithmetic is exact in any order), a third of them zero for the logical ops.
/// `inexact` says when even these cannot be exact.
public enum VerifiableInputs {
    /// Elements after which every rank's inputs repeat, by default.
    public static let period = 16

    /// Which values floating-point min and max see.
    public enum Values: Sendable {
        /// Including NaN, ±0 and ±∞ (the library's min/max rules are order-free for them).
        case full
        /// Without them, so that MPI's own AllReduce gives the same answer.
        case mpiComparable
    }

    /// A well-mixed 64-bit value of (rank, slot).
    public static func hash(rank: Int, slot: Int) -> UInt64 {
        var z = UInt64(truncatingIfNeeded: rank) &* 0x9E37_79B9_7F4A_7C15 &+ UInt64(slot) &* 0xD1B5_4A32_D192_ED03 &+ 0x1234_5678
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Half-width of the float sum inputs: integers in −b…b.
    static func sumBound(_ type: ElementType) -> Int { type == .bfloat16 ? 1 : 4 }

    /// The value of slot `slot` (element index mod `period`) of rank `rank`, as the little-endian bytes of one element.
    public static func element(type: ElementType, op: ReduceOp, rank: Int, slot: Int, values: Values = .full, period: Int = period) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: type.size)
        out.withUnsafeMutableBytes { store(type: type, op: op, rank: rank, slot: slot, values: values, period: period, at: $0.baseAddress!) }
        return out
    }

    /// Writes that element at `p`.
    @inline(__always)
    static func store(type: ElementType, op: ReduceOp, rank: Int, slot: Int, values: Values, period: Int, at p: UnsafeMutableRawPointer) {
        let h = hash(rank: rank, slot: slot)
        guard type.isFloatingPoint else {
            let bits = (op == .land || op == .lor || op == .lxor ? (h % 3 == 0 ? 0 : h) : h).littleEndian
            withUnsafeBytes(of: bits) { p.copyMemory(from: $0.baseAddress!, byteCount: type.size) }
            return
        }
        let v: Float
        switch op {
        case .sum:
            let b = sumBound(type)
            v = Float(Int(h % UInt64(2 * b + 1)) - b)
        case .prod:
            v = slot == rank % period ? 2 : (h % 2 == 0 ? 1 : -1)
        default:
            if values == .full && h % 7 == 0 {
                v = [Float.nan, 0, -0.0, .infinity, -.infinity][Int(h / 7 % 5)]
            } else {
                v = Float(Int(h % 999) - 499) / 2 + 0.25  // never zero
            }
        }
        switch type {
        case .float32: p.storeBytes(of: v, as: Float.self)
        case .float64: p.storeBytes(of: Double(v), as: Double.self)
        case .float16: p.storeBytes(of: Float16(v).bitPattern, as: UInt16.self)
        default: p.storeBytes(of: BFloat16(v).bitPattern, as: UInt16.self)
        }
    }

    /// Why a result could depend on the order of reduction, or nil when it cannot.
    public static func inexact(type: ElementType, op: ReduceOp, ranks: Int, period: Int = period) -> String? {
        guard type.isFloatingPoint else { return nil }
        switch op {
        case .sum:
            let exactUpTo: Int = [.float16: 2048, .bfloat16: 256, .float32: 1 << 24, .float64: 1 << 53][type]!
            return sumBound(type) * ranks <= exactUpTo ? nil : "a \(type.rawValue) sum over \(ranks) ranks leaves the range of exact integers"
        case .prod:
            // The product of element i holds 2 to the number of ranks r with r ≡ i (mod period).
            let largestExponent: Int = [.float16: 15, .bfloat16: 127, .float32: 127, .float64: 1023][type]!
            return (ranks + period - 1) / period <= largestExponent ? nil : "a \(type.rawValue) product over \(ranks) ranks overflows"
        default:
            return nil
        }
    }

    /// Rank `rank`'s inputs, `count` elements.
    public static func bytes(type: ElementType, op: ReduceOp, rank: Int, count: Int, values: Values = .full, period: Int = period) -> [UInt8] {
        let total = count * type.size
        return [UInt8](unsafeUninitializedCapacity: total) { buffer, initialized in
            fill(UnsafeMutableRawBufferPointer(buffer), type: type, op: op, rank: rank, values: values, period: period)
            initialized = total
        }
    }

    /// Writes rank `rank`'s inputs over the whole buffer (whole elements of `type`): one period,
    /// repeated by doubling copies.
    public static func fill(_ buffer: UnsafeMutableRawBufferPointer, type: ElementType, op: ReduceOp, rank: Int, values: Values = .full,
                            period: Int = period) {
        guard let base = buffer.baseAddress, buffer.count > 0 else { return }
        let slots = min(period, buffer.count / type.size)
        for slot in 0..<slots {
            store(type: type, op: op, rank: rank, slot: slot, values: values, period: period, at: base + slot * type.size)
        }
        let total = buffer.count
        var filled = slots * type.size
        while filled < total && filled > 0 {
            let n = min(filled, total - filled)
            (base + filled).copyMemory(from: base, byteCount: n)
            filled += n
        }
    }

    /// The distinct results (`period` of them, at most `count`), folded over ranks in order with
    /// the kernel (the inputs make the order irrelevant).
    public static func expectedPattern(kernel: ReductionKernel, ranks: Int, values: Values = .full, period: Int = period,
                                       count: Int = period) -> [UInt8] {
        let n = min(period, count)
        var acc = bytes(type: kernel.type, op: kernel.op, rank: 0, count: n, values: values, period: period)
        for r in 1..<max(ranks, 1) where n > 0 {
            let next = bytes(type: kernel.type, op: kernel.op, rank: r, count: n, values: values, period: period)
            acc.withUnsafeMutableBytes { a in next.withUnsafeBytes { kernel.accumulate(into: a.baseAddress!, $0.baseAddress!, count: n) } }
        }
        return acc
    }

    /// The whole expected result of `count` elements.
    public static func expected(kernel: ReductionKernel, ranks: Int, count: Int, values: Values = .full, period: Int = period) -> [UInt8] {
        let pattern = expectedPattern(kernel: kernel, ranks: ranks, values: values, period: period, count: count)
        let total = count * kernel.type.size
        guard pattern.count < total else { return pattern }
        return (0..<total).map { pattern[$0 % pattern.count] }
    }

    public static func countWrong(_ result: [UInt8], pattern: [UInt8], type: ElementType) -> Int {
        result.withUnsafeBytes { countWrong($0, pattern: pattern, type: type) }
    }

    /// Elements of `result` that differ from `pattern` repeated.
    public static func countWrong(_ result: UnsafeRawBufferPointer, pattern: [UInt8], type: ElementType) -> Int {
        let s = type.size
        let n = result.count / s
        let period = pattern.count / s
        guard n > 0, period > 0, let r = result.baseAddress else { return 0 }
        var wrong = 0
        pattern.withUnsafeBytes { p in
            var i = 0
            // Whole periods compare as one block; only a block that differs is counted element by element.
            while i < n {
                let m = min(period, n - i)
                if memcmp(r + i * s, p.baseAddress!, m * s) != 0 {
                    for k in 0..<m where memcmp(r + (i + k) * s, p.baseAddress! + k * s, s) != 0 { wrong += 1 }
                }
                i += m
            }
        }
        return wrong
    }
}
