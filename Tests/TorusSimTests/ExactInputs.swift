import TorusCore

/// Inputs whose reduction is exact in any order (the nccl-tests "verifiable" idea), generated from
/// (rank, element) so every rank can build everyone's: float sums of small integers that stay within
/// the type's exact range, float products of ±1 with a single 2, min/max over values that include
/// NaNs and signed zeros (whose rules are order-free), and raw bits for integers (wrap-around
/// arithmetic is exact in any order).
enum ExactInputs {
    static func bytes(_ type: ElementType, _ op: ReduceOp, rank: Int, ranks: Int, count: Int) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: count * type.size)
        out.withUnsafeMutableBytes { raw in
            for i in 0..<count {
                let h = hash(rank, i)
                let p = raw.baseAddress! + i * type.size
                if type.isFloatingPoint {
                    store(float(type, op, rank: rank, ranks: ranks, i: i, h: h), type, p)
                } else {
                    var bits = h
                    if op == .land || op == .lor || op == .lxor { bits = h % 3 == 0 ? 0 : bits }
                    withUnsafeBytes(of: bits.littleEndian) { p.copyMemory(from: $0.baseAddress!, byteCount: type.size) }
                }
            }
        }
        return out
    }

    static func float(_ type: ElementType, _ op: ReduceOp, rank: Int, ranks: Int, i: Int, h: UInt64) -> Float {
        switch op {
        case .sum:
            // |sum| ≤ ranks·bound stays exactly representable (bf16 holds integers to 256).
            let bound: UInt64 = type == .bfloat16 ? 1 : 4
            return Float(Int(h % (2 * bound + 1)) - Int(bound))
        case .prod:
            if i % ranks == rank { return 2 }
            return h % 2 == 0 ? 1 : -1
        default:
            let specials: [Float] = [.nan, 0, -0.0, .infinity, -.infinity]
            if h % 17 == 0 { return specials[Int(h / 17 % UInt64(specials.count))] }
            return Float(Int(h % 2001) - 1000) / 8
        }
    }

    static func store(_ f: Float, _ type: ElementType, _ p: UnsafeMutableRawPointer) {
        switch type {
        case .float32: p.storeBytes(of: f, as: Float.self)
        case .float64: p.storeBytes(of: Double(f), as: Double.self)
        case .float16: p.storeBytes(of: Float16(f).bitPattern, as: UInt16.self)
        case .bfloat16: p.storeBytes(of: BFloat16(f).bitPattern, as: UInt16.self)
        default: fatalError("not a float type")
        }
    }

    static func hash(_ rank: Int, _ i: Int) -> UInt64 {
        var z = UInt64(rank) &* 0x9E37_79B9_7F4A_7C15 &+ UInt64(i) &* 0xD1B5_4A32_D192_ED03 &+ 0x1234_5678
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// The reduction of all ranks' inputs, folded in rank order with the library's kernel (the
    /// inputs make the order irrelevant).
    static func expected(_ type: ElementType, _ op: ReduceOp, ranks: Int, count: Int) throws -> [UInt8] {
        let kernel = try ReductionKernel(type: type, op: op)
        var acc = bytes(type, op, rank: 0, ranks: ranks, count: count)
        for r in 1..<max(ranks, 1) {
            let next = bytes(type, op, rank: r, ranks: ranks, count: count)
            acc.withUnsafeMutableBytes { a in
                next.withUnsafeBytes { b in
                    if count > 0 { kernel.accumulate(into: a.baseAddress!, b.baseAddress!, count: count) }
                }
            }
        }
        return acc
    }
}
