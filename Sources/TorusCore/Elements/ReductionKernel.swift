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
        try op.check(type)
        self.type = type
        self.op = op
        self.body = KernelTable.body(type: type, op: op)
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
            UnsafeMutableRawPointer(x).copyMemory(from: a + offset, byteCount: bytes)
            UnsafeMutableRawPointer(y).copyMemory(from: b + offset, byteCount: bytes)
            for i in 0..<n { x[i] = f(x[i], y[i]) }
            (dst + offset).copyMemory(from: x, byteCount: bytes)
            start += n
        }
    }
}

/// The table from (type, op) to a specialised loop: dispatch happens here, once per kernel.
enum KernelTable {
    static func body(type: ElementType, op: ReduceOp) -> ReductionKernel.Body {
        switch type {
        case .float32: return float(Float.self, op)
        case .float64: return float(Double.self, op)
        case .float16: return half(Float16Format.self, op)
        case .bfloat16: return half(BFloat16Format.self, op)
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
