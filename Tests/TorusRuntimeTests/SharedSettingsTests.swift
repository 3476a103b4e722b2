import Testing
import TorusCore
@testable import TorusRuntime

/// The settings the ranks of a communicator compare before their first call (`SharedSettings`):
/// which variables count, and the error that names them.
@Suite struct SharedSettingsTests {
    let machine = try! TorusShape(2, 2, 1)
    let nodes = [0, 1, 2, 3]

    func settings(_ variables: [String: String], model: [UInt8]? = nil, nodes: [Int]? = nil) throws -> SharedSettings {
        SharedSettings(try TorusEnvironment.read(variables), modelBytes: model, machine: machine, nodes: nodes ?? self.nodes)
    }

    @Test func fingerprintIsFNV1a() {
        // FNV-1a 64 of "abc", as published; the same in every process (Swift's Hasher is seeded per process).
        #expect(SharedSettings.fingerprint(Array("abc".utf8)) == Int64(bitPattern: 0xe71f_a219_0541_574b))
        #expect(SharedSettings.fingerprint([]) != 0)
    }

    @Test func settingsLocalToARankAreNotCompared() throws {
        let plain = try settings([:])
        #expect(try settings(["TORUS_VERBOSE": "2", "TORUS_REDUCTION_THREADS": "1", "TORUS_ON_STALL": "warn",
                              "TORUS_SCRATCH_SEGMENTS": "4", "TORUS_TIMEOUT": "30"]) == plain)
        #expect(SharedSettings.mismatchMessage([plain.record, plain.record, plain.record], rank: 1) == nil)
    }

    @Test(arguments: [
        (["TORUS_MIN_BYTES": "1M"], "TORUS_MIN_BYTES: ranks 0-1 have unset; rank 2 has 1048576 bytes"),
        (["TORUS_ALGORITHM": "ring"], "TORUS_ALGORITHM: ranks 0-1 have auto (unset); rank 2 has ring"),
        (["TORUS_ALGORITHM": "mpi"], "TORUS_ALGORITHM: ranks 0-1 have auto (unset); rank 2 has mpi"),
        (["TORUS_SEGMENT_BYTES": "64K"], "TORUS_SEGMENT_BYTES: ranks 0-1 have unset; rank 2 has 65536 bytes"),
        (["TORUS_EAGER_BYTES": "0"], "TORUS_EAGER_BYTES: ranks 0-1 have unset; rank 2 has 0 bytes"),
        (["TORUS_CHECK": "1"], "TORUS_CHECK: ranks 0-1 have 0 (unset); rank 2 has 1"),
        (["TORUS_NAN_CHECK": "1"], "TORUS_NAN_CHECK: ranks 0-1 have 0 (unset); rank 2 has 1"),
        (["TORUS_TIMEOUT": "0"], "TORUS_TIMEOUT: ranks 0-1 have a limit (unset or seconds); rank 2 has 0 (never)"),
        (["TORUS_TUNE": "3", "TORUS_MODEL": "m.json"], "TORUS_TUNE: ranks 0-1 have 0; rank 2 has 3 | TORUS_MODEL: ranks 0-1 have unset; rank 2 has a file"),
    ])
    func oneRankDiffers(variables: [String: String], expected: String) throws {
        let plain = try settings([:]).record
        let odd = try settings(variables, model: variables["TORUS_MODEL"] == nil ? nil : [1]).record
        let message = try #require(SharedSettings.mismatchMessage([plain, plain, odd], rank: 0))
        #expect(message.contains(expected), "\(message)")
        #expect(message.contains("this is rank 0"))
        for name in variables.keys { #expect(message.contains(name), "\(message)") }
        #expect(message.contains("`mpirun -x "))
    }

    @Test func modelFilesAndPlacementsAreComparedByContents() throws {
        let a = try settings(["TORUS_MODEL": "a.json"], model: Array("{\"calibrations\": []}".utf8)).record
        let samePath = try settings(["TORUS_MODEL": "a.json"], model: Array("{\"calibrations\": [1]}".utf8)).record
        let otherPath = try settings(["TORUS_MODEL": "elsewhere/a.json"], model: Array("{\"calibrations\": []}".utf8)).record
        #expect(a == otherPath)
        let message = try #require(SharedSettings.mismatchMessage([a, samePath], rank: 1))
        #expect(message.contains("TORUS_MODEL: rank 0 has a file with fingerprint") && message.contains("the same model file on every node"))
        let moved = try settings([:], nodes: [1, 0, 2, 3]).record
        let placement = try #require(SharedSettings.mismatchMessage([try settings([:]).record, moved], rank: 0))
        #expect(placement.contains("the placement (TORUS_RANKMAP, TORUS_DIMS)") && placement.contains("-x TORUS_RANKMAP -x TORUS_DIMS` and the same rank map"))
        let otherMachine = SharedSettings(try TorusEnvironment.read([:]), modelBytes: nil, machine: try TorusShape(4, 1, 1), nodes: nodes)
        #expect(otherMachine.record != (try settings([:]).record))
    }

    @Test func everyDifferingVariableIsNamed() throws {
        let plain = try settings([:]).record
        let odd = try settings(["TORUS_MIN_BYTES": "1", "TORUS_CHECK": "1"]).record
        let message = try #require(SharedSettings.mismatchMessage([plain, odd, odd, plain], rank: 3))
        #expect(message.contains("TORUS_MIN_BYTES: ranks 0, 3 have unset; ranks 1-2 have 1 byte | TORUS_CHECK: ranks 0, 3 have 0 (unset); ranks 1-2 have 1"),
                "\(message)")
        #expect(message.contains("give every rank the same values: `mpirun -x TORUS_MIN_BYTES`, `mpirun -x TORUS_CHECK`."))
    }
}
