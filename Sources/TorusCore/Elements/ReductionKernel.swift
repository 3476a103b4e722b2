import CTorusKernels

/// A reduction kernel for one (element type, op) pair, chosen once per call and then applied to
/// whole buffers: `dst[i] = a[i] op b[i]` for i in 0..<count.
///
/// Buffers may have any alignment; `dst` may be the same address as `a` or `b` (in place), but must
/// not otherwise overlap them. The kernel never allocates on the heap. Results do not depend on
/// where a buffer is cut or how it is aligned.
public struct ReductionKernel: Sendable {
    typealias Body = @Sendable (UnsafeMutableRawPointer, UnsafeRawPointer, UnsafeRawPointer, Int) -> Void

    public let type: ElementType
    public let op: ReduceOp
    private let body: Body

    /// The kernel for `op` on `type`; throws `TorusError.unsupportedOperation` for pairs MPI lacks.
    public init(type: ElementType, op: ReduceOp) throws {
        try self.init(type: type, op: op, vectorHalf: true)
    }

    /// `vectorHalf` false keeps the 16-bit floats on the portable Swift loop (tests compare the two).
    init(type: ElementType, op: ReduceOp, vectorHalf: Bool) throws {
        try op.check(type)
        self.type = type
        self.op = op
        self.body = KernelTable.body(type: type, op: op, vectorHalf: vectorHalf)
    }

    /// `dst = a op b`, elementwise over `count` elements.
    @inline(__always)
    public func combine(into dst: UnsafeMutableRawPointer, _ a: UnsafeRawPointer, _ b: UnsafeRawPointer, count: Int) {
        body(dst, a, b, count)
    }

    /// `dst = dst op src`, elementwise over `count` elements.
    @inline(__always)
    public func accumulate(into dst: UnsafeMutableRawPointer, _ src: UnsafeRawPointer, count: Int) {
        body(dst, UnsafeRawPointer(dst), src, count)
    }
}

/// Elements per bounce-buffer chunk when a buffer is not aligned to its element type.
private let unalignedChunkBytes = 4096

/// `dst[i] = f(a[i], b[i])` over typed elements. Misaligned buffers (legal for raw bytes, not for
/// typed access) go through aligned stack chunks, so the same loop serves every alignment.
@inline(__always)
func applyElements<T>(
    _ dst: UnsafeMutableRawPointer, _ a: UnsafeRawPointer, _ b: UnsafeRawPointer, _ count: Int,
    _ f: (T, T) -> T
) {
    let mask = MemoryLayout<T>.alignment - 1
    if (Int(bitPattern: dst) | Int(bitPattern: a) | Int(bitPattern: b)) & mask == 0 {
        let d = dst.assumingMemoryBound(to: T.self)
        let x = a.assumingMemoryBound(to: T.self)
        let y = b.assumingMemoryBound(to: T.self)
        // The compiler's overlap check treats dst == a as a conflict and would run the in-place case
        // (the common one) unvectorised; naming the shared pointer once lets it vectorise.
        if UnsafeRawPointer(dst) == a {
            for i in 0..<count { d[i] = f(d[i], y[i]) }
        } else if UnsafeRawPointer(dst) == b {
            for i in 0..<count { d[i] = f(x[i], d[i]) }
        } else {
            for i in 0..<count { d[i] = f(x[i], y[i]) }
        }
        return
    }
    let chunk = unalignedChunkBytes / MemoryLayout<T>.stride
    withUnsafeTemporaryAllocation(of: T.self, capacity: 2 * chunk) { scratch in
        let x = scratch.baseAddress!, y = x + chunk
        var start = 0
        while start < count {
            let n = Swift.min(chunk, count - start)
            let bytes = n * MemoryLayout<T>.stride, offset = start * MemoryLayout<T>.stride
            ByteCopy.copy(to: x, from: a + offset, count: bytes)
            ByteCopy.copy(to: y, from: b + offset, count: bytes)
            for i in 0..<n { x[i] = f(x[i], y[i]) }
            ByteCopy.copy(to: dst + offset, from: x, count: bytes)
            start += n
        }
    }
}

/// The table from (type, op) to a specialised loop: dispatch happens here, once per kernel.
enum KernelTable {
    /// Whether this CPU runs the AVX2/F16C kernels of the 16-bit floats (CTorusKernels).
    static let halfVectorAvailable = torus_half_vector_available() != 0

    static func body(type: ElementType, op: ReduceOp, vectorHalf: Bool = true) -> ReductionKernel.Body {
        switch type {
        case .float32: return float(Float.self, op)
        case .float64: return float(Double.self, op)
        case .float16: return vectorHalf ? halfVector(Float16Format.self, op) : half(Float16Format.self, op)
        case .bfloat16: return vectorHalf ? halfVector(BFloat16Format.self, op) : half(BFloat16Format.self, op)
        case .int8: return integer(Int8.self, op)
        case .int16: return integer(Int16.self, op)
        case .int32: return integer(Int32.self, op)
        case .int64: return integer(Int64.self, op)
        case .uint8: return integer(UInt8.self, op)
        case .uint16: return integer(UInt16.self, op)
        case .uint32: return integer(UInt32.self, op)
        case .uint64: return integer(UInt64.self, op)
        }
    }

    private static func float<T: KernelFloat & SendableMetatype>(_: T.Type, _ op: ReduceOp) -> ReductionKernel.Body {
        switch op {
        case .sum: return { applyElements($0, $1, $2, $3) { (x: T, y: T) in x + y } }
        case .prod: return { applyElements($0, $1, $2, $3) { (x: T, y: T) in x * y } }
        case .min: return { applyElements($0, $1, $2, $3) { (x: T, y: T) in FloatOps.min(x, y) } }
        case .max: return { applyElements($0, $1, $2, $3) { (x: T, y: T) in FloatOps.max(x, y) } }
        default: preconditionFailure("\(op) on floats is rejected by ReduceOp.check")
        }
    }

    /// 16-bit floats: widen to Float32, apply the Float32 operation, round once on the way back.
    private static func half<H: HalfFormat & SendableMetatype>(_: H.Type, _ op: ReduceOp) -> ReductionKernel.Body {
        switch op {
        case .sum: return { applyElements($0, $1, $2, $3) { (x: UInt16, y: UInt16) in H.narrow(H.widen(x) + H.widen(y)) } }
        case .prod: return { applyElements($0, $1, $2, $3) { (x: UInt16, y: UInt16) in H.narrow(H.widen(x) * H.widen(y)) } }
        case .min:
            return { applyElements($0, $1, $2, $3) { (x: UInt16, y: UInt16) in H.narrow(FloatOps.min(H.widen(x), H.widen(y))) } }
        case .max:
            return { applyElements($0, $1, $2, $3) { (x: UInt16, y: UInt16) in H.narrow(FloatOps.max(H.widen(x), H.widen(y))) } }
        default: preconditionFailure("\(op) on floats is rejected by ReduceOp.check")
        }
    }

    /// The vector kernel for whole groups of 8 elements where the CPU has AVX2 and F16C, the
    /// portable loop for the rest (and everywhere else); both give the same bits.
    private static func halfVector<H: HalfFormat & SendableMetatype>(_ format: H.Type, _ op: ReduceOp) -> ReductionKernel.Body {
        let portable = half(format, op)
        guard halfVectorAvailable else { return portable }
        let code: Int32
        switch op {
        case .sum: code = Int32(TORUS_HALF_SUM)
        case .prod: code = Int32(TORUS_HALF_PROD)
        case .min: code = Int32(TORUS_HALF_MIN)
        case .max: code = Int32(TORUS_HALF_MAX)
        default: return portable
        }
        let vectorFormat = H.vectorFormat
        return { dst, a, b, count in
            let done = torus_half_combine(vectorFormat, code, dst, a, b, count)
            if done < count { portable(dst + 2 * done, a + 2 * done, b + 2 * done, count - done) }
        }
    }

    private static func integer<T: FixedWidthInteger & SendableMetatype>(_: T.Type, _ op: ReduceOp) -> ReductionKernel.Body {
        switch op {
        case .sum: return { applyElements($0, $1, $2, $3) { (x: T, y: T) in x &+ y } }
        case .prod: return { applyElements($0, $1, $2, $3) { (x: T, y: T) in x &* y } }
        case .min: return { applyElements($0, $1, $2, $3) { (x: T, y: T) in IntegerOps.min(x, y) } }
        case .max: return { applyElements($0, $1, $2, $3) { (x: T, y: T) in IntegerOps.max(x, y) } }
        case .band: return { applyElements($0, $1, $2, $3) { (x: T, y: T) in x & y } }
        case .bor: return { applyElements($0, $1, $2, $3) { (x: T, y: T) in x | y } }
        case .bxor: return { applyElements($0, $1, $2, $3) { (x: T, y: T) in x ^ y } }
        case .land: return { applyElements($0, $1, $2, $3) { (x: T, y: T) in IntegerOps.truth(x) & IntegerOps.truth(y) } }
        case .lor: return { applyElements($0, $1, $2, $3) { (x: T, y: T) in IntegerOps.truth(x) | IntegerOps.truth(y) } }
        case .lxor: return { applyElements($0, $1, $2, $3) { (x: T, y: T) in IntegerOps.truth(x) ^ IntegerOps.truth(y) } }
        }
    }
}
