import CTorusMPI
import Testing
import TorusCore
import TorusMPI
import TorusRuntime
@testable import TorusDropIn

/// The drop-in's Swift half without MPI: its settings from the environment, the (type, op) pairs
/// it takes, the codes it shares with the C side, and its C strings. The C side and the whole
/// library run on real mpirun in scripts/test-dropin.sh.
@Suite struct DropInTests {
    @Test func thresholdAndPassThroughFromTheEnvironment() throws {
        let defaults = DropInSettings(try TorusEnvironment.read([:]))
        #expect(defaults.minBytes == MPICommunicator.defaultLibraryBelowBytes && !defaults.passThrough)
        #expect(DropInSettings(try TorusEnvironment.read(["TORUS_MIN_BYTES": "1M"])).minBytes == 1 << 20)
        #expect(DropInSettings(try TorusEnvironment.read(["TORUS_MIN_BYTES": "64M"])).reduceScatterMinBytes == 64 << 20)
        let forced = DropInSettings(try TorusEnvironment.read(["TORUS_ALGORITHM": "ring"]))
        #expect(defaults.reduceScatterMinBytes == 1 << 20 && forced.reduceScatterMinBytes == 0)
        // A named algorithm takes every size unless a threshold is given too.
        #expect(DropInSettings(try TorusEnvironment.read(["TORUS_ALGORITHM": "ring"])).minBytes == 0)
        #expect(DropInSettings(try TorusEnvironment.read(["TORUS_ALGORITHM": "ring", "TORUS_MIN_BYTES": "64K"])).minBytes == 64 << 10)
        #expect(DropInSettings(try TorusEnvironment.read(["TORUS_ALGORITHM": "mpi"])).passThrough)
        #expect(!DropInSettings(try TorusEnvironment.read(["TORUS_ALGORITHM": "auto"])).passThrough)
        // A calibrated model decides at every size, unless a threshold is given too.
        #expect(DropInSettings(try TorusEnvironment.read(["TORUS_MODEL": "m.json"])).minBytes == 0)
        #expect(DropInSettings(try TorusEnvironment.read(["TORUS_MODEL": "m.json", "TORUS_MIN_BYTES": "4K"])).minBytes == 4096)
        #expect(throws: TorusError.self) { try TorusEnvironment.read(["TORUS_MIN_BYTES": "lots"]) }
    }

    @Test func takesOnlyWhereItsAnswerIsMPIs() {
        #expect(DropInSettings.takes(.float32, .sum) && DropInSettings.takes(.float64, .prod))
        #expect(!DropInSettings.takes(.float32, .max) && !DropInSettings.takes(.float64, .min))   // NaN and ±0 rules differ
        #expect(!DropInSettings.takes(.int8, .sum) && !DropInSettings.takes(.uint16, .prod))      // Open MPI saturates
        #expect(DropInSettings.takes(.int8, .max) && DropInSettings.takes(.uint8, .band) && DropInSettings.takes(.uint8, .land))
        #expect(DropInSettings.takes(.int32, .sum) && DropInSettings.takes(.uint64, .bxor))
        #expect(!DropInSettings.takes(.float16, .sum) && !DropInSettings.takes(.bfloat16, .sum))  // no MPI type
        #expect(!DropInSettings.takes(.float32, .band))                                           // not defined for floats
    }

    @Test func codesMatchTheCSide() {
        let types: [ElementType: Int] = [.float32: TORUS_F32, .float64: TORUS_F64, .float16: TORUS_F16, .bfloat16: TORUS_BF16,
                                         .int8: TORUS_I8, .int16: TORUS_I16, .int32: TORUS_I32, .int64: TORUS_I64,
                                         .uint8: TORUS_U8, .uint16: TORUS_U16, .uint32: TORUS_U32, .uint64: TORUS_U64]
        for (i, type) in ElementType.allCases.enumerated() { #expect(types[type] == i, "\(type)") }
        #expect(ElementType.allCases.count == TORUS_TYPE_CODES)
        let ops: [ReduceOp: Int] = [.sum: TORUS_SUM, .prod: TORUS_PROD, .min: TORUS_MIN, .max: TORUS_MAX, .band: TORUS_BAND,
                                    .bor: TORUS_BOR, .bxor: TORUS_BXOR, .land: TORUS_LAND, .lor: TORUS_LOR, .lxor: TORUS_LXOR]
        for (i, op) in ReduceOp.allCases.enumerated() { #expect(ops[op] == i, "\(op)") }
        #expect(ReduceOp.allCases.count == TORUS_OP_CODES)
    }

    /// The C string in a buffer.
    func text(_ buffer: [CChar]) -> String {
        String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    @Test func cStringsAreCutAtACharacterAndTerminated() {
        var buffer = [CChar](repeating: 0x7F, count: 8)
        write("sixring (a)", to: &buffer, length: 8)
        #expect(text(buffer) == "sixring")
        write("ab→cd", to: &buffer, length: 5)        // → is 3 bytes: "ab" and the NUL fit, the arrow does not
        #expect(text(buffer) == "ab")
        write("ok", to: &buffer, length: 8)
        #expect(text(buffer) == "ok")
    }
}

/// Where an MPI process's reduction threads go (`ReductionThreads.plan`), from its binding and settings.
@Suite struct ReductionThreadsPlanTests {
    let eight = Array(0..<8)

    @Test func freeUnitsBesideRanksBoundToCores() {
        // Two ranks bound to one core each on an 8-unit node: 6 free, 3 each, in local-rank order.
        let zero = ReductionThreads.plan(threads: nil, cores: nil, localRank: 0, localSize: 2, allowed: eight, own: [0])
        let one = ReductionThreads.plan(threads: nil, cores: nil, localRank: 1, localSize: 2, allowed: eight, own: [1])
        #expect(zero.threads == 3 && zero.units == [2, 3, 4])
        #expect(one.threads == 3 && one.units == [5, 6, 7])
    }

    @Test func noFreeUnitMeansInlineUnlessAsked() {
        let full = ReductionThreads.plan(threads: nil, cores: nil, localRank: 1, localSize: 2, allowed: [0, 1], own: [1])
        #expect(full.threads == 0 && full.units.isEmpty)
        let asked = ReductionThreads.plan(threads: 1, cores: nil, localRank: 1, localSize: 2, allowed: [0, 1], own: [1])
        #expect(asked.threads == 1 && asked.units.isEmpty && asked.reason.contains("TORUS_REDUCTION_THREADS=1"))
        // Not bound at all: nothing is known to be free.
        let unbound = ReductionThreads.plan(threads: nil, cores: nil, localRank: 0, localSize: 1, allowed: eight, own: eight)
        #expect(unbound.threads == 0 && unbound.reason.contains("not bound"))
        // A binding that is not this rank's block in local-rank order: nothing is known either.
        let odd = ReductionThreads.plan(threads: nil, cores: nil, localRank: 0, localSize: 2, allowed: eight, own: [5])
        #expect(odd.threads == 0)
    }

    @Test func namedCoresAreSharedOutByLocalRank() {
        let zero = ReductionThreads.plan(threads: nil, cores: [4, 5, 6, 7], localRank: 0, localSize: 2, allowed: eight, own: [0])
        let one = ReductionThreads.plan(threads: nil, cores: [4, 5, 6, 7], localRank: 1, localSize: 2, allowed: eight, own: [1])
        #expect(zero.units == [4, 5] && one.units == [6, 7])
        let three = ReductionThreads.plan(threads: 3, cores: [4, 5], localRank: 0, localSize: 1, allowed: eight, own: [0])
        #expect(three.units == [4, 5, 4])
    }
}
