import Testing
@testable import TorusCore

@Suite struct ElementTypeTests {
    @Test(arguments: [
        ("f32", ElementType.float32), ("float", .float32), ("float32", .float32), ("F64", .float64),
        ("double", .float64), ("f16", .float16), ("half", .float16), ("bf16", .bfloat16),
        ("bfloat16", .bfloat16), ("i8", .int8), ("int64", .int64), ("u8", .uint8), ("uint16", .uint16),
        ("u64", .uint64),
    ])
    func parsesNames(text: String, expected: ElementType) throws {
        #expect(try ElementType(parsing: text) == expected)
    }

    @Test func rejectsUnknownNamesNamingTheAccepted() {
        #expect(throws: TorusError.self) { try ElementType(parsing: "f128") }
        do {
            _ = try ElementType(parsing: "quad", name: "--type")
        } catch let error as TorusError {
            #expect(error.description.contains("--type"))
            #expect(error.description.contains("'quad'"))
            #expect(error.description.contains("bf16"))
        } catch { Issue.record("unexpected \(error)") }
    }

    @Test func sizes() {
        #expect(ElementType.allCases.map(\.size) == [4, 8, 2, 2, 1, 2, 4, 8, 1, 2, 4, 8])
    }

    @Test func opsFollowMPI() throws {
        for type in ElementType.allCases {
            let ops = ReduceOp.supported(by: type)
            #expect(ops.prefix(4) == [.sum, .prod, .min, .max])
            #expect(ops.count == (type.isFloatingPoint ? 4 : 10))
        }
        #expect(throws: TorusError.unsupportedOperation(op: "bxor", type: "f32")) {
            try ReductionKernel(type: .float32, op: .bxor)
        }
        #expect(try ReduceOp(parsing: "MPI_SUM") == .sum)
        #expect(throws: TorusError.self) { try ReduceOp(parsing: "avg") }
    }

    @Test func byteCounts() throws {
        #expect(try ByteCount.parse("4096") == 4096)
        #expect(try ByteCount.parse("64K") == 65536)
        #expect(try ByteCount.parse("64k") == 65536)
        #expect(try ByteCount.parse("16MiB") == 16 << 20)
        #expect(try ByteCount.parse("1G") == 1 << 30)
        #expect(try ByteCount.parse("8B") == 8)
        for bad in ["", "K", "-1", "1.5M", "12X", "99999999999G"] {
            #expect(throws: TorusError.self, "\(bad)") { try ByteCount.parse(bad) }
        }
        #expect(ByteCount.format(65536) == "64K")
        #expect(ByteCount.format(1000) == "1000")
    }

    @Test func bfloat16RoundsToNearestEven() {
        #expect(BFloat16(1.0).bitPattern == 0x3F80)
        // 1 + 2^-8 is halfway between 1 and 1 + 2^-7: ties to even (1.0).
        #expect(BFloat16(Float(bitPattern: 0x3F80_8000)).bitPattern == 0x3F80)
        // 1 + 3·2^-8 is halfway between 1 + 2^-7 (odd) and 1 + 2^-6: rounds up to even.
        #expect(BFloat16(Float(bitPattern: 0x3F81_8000)).bitPattern == 0x3F82)
        #expect(BFloat16(Float(bitPattern: 0x3F80_8001)).bitPattern == 0x3F81)
        #expect(BFloat16(.infinity).bitPattern == 0x7F80)
        #expect(BFloat16(.greatestFiniteMagnitude).bitPattern == 0x7F80)  // rounds up to Inf
        #expect(BFloat16(-Float.nan).bitPattern == 0x7FC0)
        #expect(BFloat16(bitPattern: 0x4040).floatValue == 3.0)
    }
}

/// The memory check the commands make before allocating.
@Suite struct MemoryBudgetTests {
    @Test func refusesWhatDoesNotFitNamingEstimateAvailableAndOverride() throws {
        try MemoryBudget.check(1e9, for: "a run", override: "--ignore-memory", available: 2_000_000_000)
        #expect { try MemoryBudget.check(3e9, for: "a run", override: "--ignore-memory", available: 2_000_000_000) } throws: {
            let text = "\($0)"
            return text.contains("about 2.8 GiB for a run") && text.contains("1.9 GiB") && text.contains("--ignore-memory")
        }
        #expect((MemoryBudget.available() ?? 0) > 0)
        #expect(MemoryBudget.format(512) == "512 bytes" && MemoryBudget.format(2.5 * 1024 * 1024 * 1024 * 1024) == "2.5 TiB")
    }
}

/// `TORUS_NAN_CHECK`'s scan: NaN and ±Inf of every float type, the first index and the count.
@Suite struct NonFiniteTests {
    @Test func findsNaNAndInfinityInEveryFloatType() {
        var f32 = [Float](repeating: 1, count: 100)
        f32[42] = .nan
        f32[77] = -.infinity
        f32.withUnsafeBytes { #expect(NonFinite.scan($0.baseAddress!, count: 100, type: .float32)! == (2, 42)) }
        var f64 = [Double](repeating: -0.0, count: 10)
        #expect(f64.withUnsafeBytes { NonFinite.scan($0.baseAddress!, count: 10, type: .float64) } == nil)
        f64[3] = .infinity
        f64.withUnsafeBytes { #expect(NonFinite.scan($0.baseAddress!, count: 10, type: .float64)! == (1, 3)) }
        let f16: [UInt16] = [0x3C00, 0x7C00, 0xFE00, 0x7BFF]   // 1, +Inf, -NaN, the largest finite
        f16.withUnsafeBytes { #expect(NonFinite.scan($0.baseAddress!, count: 4, type: .float16)! == (2, 1)) }
        let bf16: [UInt16] = [0x3F80, 0x7F7F, 0xFF81]          // 1, the largest finite, a NaN
        bf16.withUnsafeBytes { #expect(NonFinite.scan($0.baseAddress!, count: 3, type: .bfloat16)! == (1, 2)) }
        let ints = [Int32](repeating: -1, count: 8)
        #expect(ints.withUnsafeBytes { NonFinite.scan($0.baseAddress!, count: 8, type: .int32) } == nil)
        #expect(NonFinite.describe((3, 17)) == "3 NaN or Inf values, the first at index 17")
    }
}
