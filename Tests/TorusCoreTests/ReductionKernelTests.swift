import CTorusKernels
import Testing
@testable import TorusCore

@Suite struct ReductionKernelTests {
    /// Runs a kernel on byte arrays placed at the given misalignments; `mode` picks out of place,
    /// in place into a, or in place into b.
    enum Mode: CaseIterable { case outOfPlace, intoA, intoB }

    static func run(_ kernel: ReductionKernel, _ a: [UInt8], _ b: [UInt8], offset: Int, mode: Mode) -> [UInt8] {
        let n = a.count
        let count = n / kernel.type.size
        let block = UnsafeMutableRawPointer.allocate(byteCount: 3 * (n + 64), alignment: 64)
        defer { block.deallocate() }
        let pa = block + offset, pb = block + (n + 64) + 2 * offset % 7, pd = block + 2 * (n + 64) + offset
        pa.copyMemory(from: a, byteCount: n)
        pb.copyMemory(from: b, byteCount: n)
        switch mode {
        case .outOfPlace:
            kernel.combine(into: pd, pa, pb, count: count)
            return Array(UnsafeRawBufferPointer(start: pd, count: n))
        case .intoA:
            kernel.accumulate(into: pa, pb, count: count)
            return Array(UnsafeRawBufferPointer(start: pa, count: n))
        case .intoB:
            kernel.combine(into: pb, pa, pb, count: count)
            return Array(UnsafeRawBufferPointer(start: pb, count: n))
        }
    }

    /// Bit-exact comparison, except that float sum and prod only promise *a* NaN (the hardware
    /// picks the payload); every other NaN is canonical and compared exactly.
    static func same(_ type: ElementType, _ op: ReduceOp, _ got: [UInt8], _ want: [UInt8]) -> Int? {
        for i in 0..<(got.count / type.size) {
            let g = Array(got[i * type.size ..< (i + 1) * type.size]), w = Array(want[i * type.size ..< (i + 1) * type.size])
            if g == w { continue }
            if op == .sum || op == .prod {
                if type == .float32, Float(bitPattern: KernelReference.load(g)).isNaN, Float(bitPattern: KernelReference.load(w)).isNaN { continue }
                if type == .float64, Double(bitPattern: KernelReference.load(g)).isNaN, Double(bitPattern: KernelReference.load(w)).isNaN { continue }
            }
            return i
        }
        return nil
    }

    @Test(arguments: allTypeOpPairs)
    func matchesReference(type: ElementType, op: ReduceOp) throws {
        let kernel = try ReductionKernel(type: type, op: op)
        for count in [0, 1, 7, 4097] {
            let (a, b) = EdgeValues.operands(type, count: count, seed: UInt64(count) &* 31 &+ UInt64(type.size))
            let want = KernelReference.apply(type, op, a, b)
            for offset in [0, 1, 3] {
                for mode in Mode.allCases {
                    let got = Self.run(kernel, a, b, offset: offset, mode: mode)
                    let bad = Self.same(type, op, got, want)
                    #expect(bad == nil, "\(type) \(op) count \(count) offset \(offset) \(mode): first difference at element \(bad ?? -1)")
                }
            }
        }
    }

    /// Where a buffer is cut (segments of the executor) never changes an element's bits.
    @Test(arguments: allTypeOpPairs)
    func resultDoesNotDependOnCuts(type: ElementType, op: ReduceOp) throws {
        let kernel = try ReductionKernel(type: type, op: op)
        let count = 1000
        let (a, b) = EdgeValues.operands(type, count: count, seed: 7)
        let whole = Self.run(kernel, a, b, offset: 0, mode: .outOfPlace)
        var pieces = [UInt8](repeating: 0, count: a.count)
        let cuts = [0, 1, 13, 64, 65, 500, 999, count]
        a.withUnsafeBytes { pa in
            b.withUnsafeBytes { pb in
                pieces.withUnsafeMutableBytes { pd in
                    for (lo, hi) in zip(cuts, cuts.dropFirst()) {
                        let o = lo * type.size
                        kernel.combine(into: pd.baseAddress! + o, pa.baseAddress! + o, pb.baseAddress! + o, count: hi - lo)
                    }
                }
            }
        }
        #expect(pieces == whole)
    }

    /// min and max give the same bits whatever the operand order, NaNs and signed zeros included.
    @Test(arguments: ElementType.allCases.filter(\.isFloatingPoint), [ReduceOp.min, .max])
    func minMaxIgnoreOperandOrder(type: ElementType, op: ReduceOp) throws {
        let kernel = try ReductionKernel(type: type, op: op)
        let (a, b) = EdgeValues.operands(type, count: 600, seed: 11)
        #expect(Self.run(kernel, a, b, offset: 0, mode: .outOfPlace) == Self.run(kernel, b, a, offset: 0, mode: .outOfPlace))
    }

    @Test func integersWrapAround() throws {
        let kernel = try ReductionKernel(type: .int8, op: .sum)
        var x: [Int8] = [100, 127, -128], y: [Int8] = [100, 1, -1]
        x.withUnsafeMutableBytes { px in y.withUnsafeBytes { kernel.accumulate(into: px.baseAddress!, $0.baseAddress!, count: 3) } }
        #expect(x == [-56, -128, 127])
        _ = y
    }

    @Test func float16ConversionsMatchSwiftFloat16() {
        for h in 0...0xFFFF {
            let got = Float16Format.widen(UInt16(h)), want = Float(Float16(bitPattern: UInt16(h)))
            #expect(got.bitPattern == want.bitPattern || (got.isNaN && want.isNaN), "widen \(h)")
            if got.isNaN {
                #expect(Float16Format.narrow(got) == 0x7E00, "NaN \(h) narrows to the canonical NaN")
                continue
            }
            #expect(Float16Format.narrow(got) == UInt16(h), "round trip \(h)")
        }
        var rng = SplitMix64(seed: 3)
        var mismatches = 0
        for i in 0..<300_000 {
            // Half random bit patterns, half values near the binary16 range where rounding is busy.
            let bits = i % 2 == 0 ? UInt32(truncatingIfNeeded: rng.next())
                                  : 0x3300_0000 &+ UInt32(truncatingIfNeeded: rng.next() % 0x1500_0000) | (i % 4 == 1 ? 0x8000_0000 : 0)
            let f = Float(bitPattern: bits)
            let want = f.isNaN ? 0x7E00 : Float16(f).bitPattern
            if Float16Format.narrow(f) != want { mismatches += 1 }
        }
        #expect(mismatches == 0)
    }

    @Test func bfloat16RoundingMatchesNearestEvenSearch() {
        var rng = SplitMix64(seed: 5)
        var mismatches = 0
        for _ in 0..<300_000 {
            let f = Float(bitPattern: UInt32(truncatingIfNeeded: rng.next()))
            if BFloat16Format.narrow(f) != KernelReference.roundToBFloat16(f) { mismatches += 1 }
        }
        #expect(mismatches == 0)
    }

    /// The AVX2/F16C kernels of the 16-bit floats against the portable Swift loop, bit for bit:
    /// random bits (NaNs, infinities, subnormals, signed zeros among them) and values whose sums
    /// and products round, every op, in place and out of place, at every misalignment, with tails.
    @Test(arguments: [ElementType.float16, .bfloat16])
    func vectorHalfKernelsMatchThePortableLoop(type: ElementType) throws {
        guard KernelTable.halfVectorAvailable else { return }   // the portable loop is all there is
        var rng = SplitMix64(seed: 11)
        let specials: [UInt16] = type == .float16
            ? [0x0000, 0x8000, 0x7C00, 0xFC00, 0x7E00, 0x7C01, 0xFE00, 0x0001, 0x8001, 0x03FF, 0x7BFF, 0xFBFF, 0x3C00, 0xBC00]
            : [0x0000, 0x8000, 0x7F80, 0xFF80, 0x7FC0, 0x7F81, 0xFFC0, 0x0001, 0x8001, 0x007F, 0x7F7F, 0xFF7F, 0x3F80, 0xBF80]
        for op in [ReduceOp.sum, .prod, .min, .max] {
            let vector = try ReductionKernel(type: type, op: op), portable = try ReductionKernel(type: type, op: op, vectorHalf: false)
            for count in [7, 8, 9, 64, 1001, 4099] {
                func values() -> [UInt8] {
                    (0..<count).flatMap { i -> [UInt8] in
                        let r = rng.next()
                        let h = r % 5 == 0 ? specials[Int(r >> 8) % specials.count]
                            : r % 5 == 1 ? UInt16(truncatingIfNeeded: r >> 16)                       // any bits
                            : (type == .float16 ? 0x3800 : 0x3F00) &+ UInt16(truncatingIfNeeded: r >> 20) % 0x0C00   // ordinary values
                        _ = i
                        return [UInt8(h & 0xFF), UInt8(h >> 8)]
                    }
                }
                let a = values(), b = values()
                for mode in Mode.allCases {
                    for offset in [0, 2, 6] {
                        let want = Self.run(portable, a, b, offset: offset, mode: mode)
                        let got = Self.run(vector, a, b, offset: offset, mode: mode)
                        #expect(got == want, "\(type) \(op) count \(count) \(mode) offset \(offset)")
                    }
                }
            }
        }
    }
}
