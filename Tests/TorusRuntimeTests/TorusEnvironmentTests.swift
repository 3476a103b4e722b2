import Foundation
import Testing
import TorusCore
import TorusSchedules
@testable import TorusRuntime

@Suite struct TorusEnvironmentTests {
    @Test func readsEveryVariable() throws {
        let e = try TorusEnvironment.read(["TORUS_ALGORITHM": "ring", "TORUS_DIMS": "2x2x2", "TORUS_VERBOSE": "1",
                                           "TORUS_MIN_BYTES": "64K", "TORUS_SEGMENT_BYTES": "1M"])
        #expect(e.route == .schedule(.ring))
        #expect(e.dims?.dims == [2, 2, 2])
        #expect(e.verbose == 1)
        #expect(e.minBytes == 65536)
        #expect(e.segmentBytes == 1 << 20)
        #expect(try TorusEnvironment.read(["TORUS_EAGER_BYTES": "4032"]).eagerBytes == 4032)
        #expect(try TorusEnvironment.read(["TORUS_EAGER_BYTES": "0"]).eagerBytes == 0)
        #expect(try TorusEnvironment.read([:]).eagerBytes == nil)
        #expect(try TorusEnvironment.read(["TORUS_SCRATCH_SEGMENTS": "2"]).scratchSegments == 2)
        #expect(try TorusEnvironment.read(["TORUS_SCRATCH_SEGMENTS": "0"]).scratchSegments == 0)
        #expect(try TorusEnvironment.read([:]).scratchSegments == nil)
        #expect(try TorusEnvironment.read(["TORUS_ALGORITHM": "mpi"]).route == .library)
        #expect(try TorusEnvironment.read(["TORUS_ALGORITHM": "auto"]).route == nil)
        #expect(try TorusEnvironment.read([:]).route == nil)
        let threads = try TorusEnvironment.read(["TORUS_REDUCTION_THREADS": "3", "TORUS_REDUCTION_CORES": "0,2-4"])
        #expect(threads.reductionThreads == 3 && threads.reductionCores == "0,2-4")
        #expect(try TorusEnvironment.read(["TORUS_PROGRESS_CORE": "1"]).progressCore == 1)
        #expect(try TorusEnvironment.read(["TORUS_MODEL": "m.json"]).modelPath == "m.json" && TorusEnvironment().modelPath == nil)
        #expect(try TorusEnvironment.read(["TORUS_CHECK": "1"]).check && !(try TorusEnvironment.read(["TORUS_CHECK": "0"]).check))
        #expect(!(try TorusEnvironment.read([:]).check))
        #expect(try TorusEnvironment.read(["TORUS_TUNE": "5", "TORUS_MODEL": "m.json"]).tuneCalls == 5)
        #expect(try TorusEnvironment.read(["TORUS_TUNE": "0"]).tuneCalls == 0 && TorusEnvironment().tuneCalls == 0)
        let watch = try TorusEnvironment.read(["TORUS_TIMEOUT": "2.5", "TORUS_ON_STALL": "warn", "TORUS_NAN_CHECK": "1"])
        #expect(watch.stallSeconds == 2.5 && !watch.abortOnStall && watch.nanCheck)
        #expect(try TorusEnvironment.read([:]).stallSeconds == TorusEnvironment.defaultStallSeconds)
        #expect(ProcessingUnitList.parse("0,2-4,9") == [0, 2, 3, 4, 9])
        #expect(ProcessingUnitList.parse("") == nil && ProcessingUnitList.parse("1,,2") == nil && ProcessingUnitList.parse("-3") == nil)
    }

    @Test(arguments: [
        ("TORUS_ALGORITHM", "fastest", "auto, mpi or one of"),
        ("TORUS_DIMS", "2x0x2", "TORUS_DIMS"),
        ("TORUS_VERBOSE", "yes", "0, 1 or 2"),
        ("TORUS_MIN_BYTES", "lots", "TORUS_MIN_BYTES"),
        ("TORUS_SEGMENT_BYTES", "8", "64 bytes to 1G"),
        ("TORUS_EAGER_BYTES", "8", "0 (off) or the transport's eager limit"),
        ("TORUS_EAGER_BYTES", "lots", "TORUS_EAGER_BYTES"),
        ("TORUS_SCRATCH_SEGMENTS", "-1", "0 (scratch for every segment) or a ring of 1 to 1024"),
        ("TORUS_SCRATCH_SEGMENTS", "4K", "TORUS_SCRATCH_SEGMENTS"),
        ("TORUS_REDUCTION_THREADS", "-1", "from 0 (reduce inline) to 256"),
        ("TORUS_REDUCTION_THREADS", "many", "TORUS_REDUCTION_THREADS"),
        ("TORUS_REDUCTION_CORES", "4-2", "hwloc's list syntax"),
        ("TORUS_REDUCTION_CORES", "x", "hwloc's list syntax"),
        ("TORUS_PROGRESS_CORE", "2-3", "one processing unit number"),
        ("TORUS_CHECK", "yes", "0 (off) or 1"),
        ("TORUS_NAN_CHECK", "on", "0 (off) or 1"),
        ("TORUS_TIMEOUT", "-5", "seconds without progress"),
        ("TORUS_ON_STALL", "retry", "abort (report, then end the job"),
        ("TORUS_TUNE", "-1", "0 (off) or the timed calls per candidate route"),
        ("TORUS_TUNE", "fast", "0 (off) or the timed calls per candidate route"),
        ("TORUS_TUNE", "5", "set TORUS_MODEL=FILE"),
    ])
    func invalidValuesNameTheVariableAndTheAcceptedValues(name: String, value: String, mentions: String) {
        do {
            _ = try TorusEnvironment.read([name: value])
            Issue.record("accepted \(name)=\(value)")
        } catch {
            #expect("\(error)".contains(mentions), "\(error)")
            #expect("\(error)".contains(value), "\(error)")
        }
    }

    @Test func placementFromDimsRankMapOrDefault() throws {
        #expect(try TorusEnvironment().placement(worldSize: 12).machine.dims == [3, 2, 2])
        let dims = try TorusEnvironment.read(["TORUS_DIMS": "4x2x1"]).placement(worldSize: 8)
        #expect(dims.machine.dims == [4, 2, 1] && dims.nodes == Array(0..<8))
        #expect(throws: TorusError.self) { try TorusEnvironment.read(["TORUS_DIMS": "4x2x1"]).placement(worldSize: 6) }
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("torus-env-\(getpid()).vcoord").path
        try "(1,0,0)\n(0,0,0)\n(1,1,0)\n(0,1,0)\n".write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let map = try TorusEnvironment.read(["TORUS_RANKMAP": path]).placement(worldSize: 4)
        #expect(map.machine.dims == [2, 2, 1])
        #expect(map.nodes == [1, 0, 3, 2])
        #expect(throws: TorusError.self) { try TorusEnvironment.read(["TORUS_RANKMAP": path]).placement(worldSize: 5) }
        #expect(throws: TorusError.self) { try TorusEnvironment.read(["TORUS_RANKMAP": "/nonexistent/map"]).placement(worldSize: 4) }
    }

    @Test func groupTopologyFindsBoxesWrappedAndStrided() throws {
        let machine = try TorusShape(8, 4, 1)
        // x in {6, 7, 0, 1}: a box that wraps round. Its ring cannot close in one hop, so it is
        // folded: 6, 0, 1, 7 — every step at most two hops (a plain 6, 7, 0, 1 closes with three).
        let wrapped = try GroupTopology.of(nodes: [6, 7, 0, 1], on: machine)
        #expect(wrapped.kind == .box && wrapped.grid.dims == [4, 1, 1])
        #expect(wrapped.rankAt == [0, 2, 3, 1] && wrapped.worstRingHops == 2)
        let rotated = try GroupTopology.of(nodes: [0, 1, 6, 7], on: machine)
        #expect(rotated.rankAt == [2, 0, 1, 3])
        // A mesh axis folds too: 0, 2, 3, 1 on a 4-node line.
        let line = try GroupTopology.of(nodes: [0, 1, 2, 3], on: TorusShape([4], periodic: [false]))
        #expect(line.rankAt == [0, 2, 3, 1] && line.worstRingHops == 2)
        // A whole axis closes with one hop.
        #expect(try GroupTopology.of(nodes: Array(0..<8), on: machine).worstRingHops == 1)
        // Every second node: a strided box, two hops per ring step.
        let strided = try GroupTopology.of(nodes: [0, 2, 4, 6], on: machine)
        #expect(strided.kind == .box && strided.worstRingHops == 2)
        // Scattered, and two ranks on one node: virtual grids.
        #expect(try GroupTopology.of(nodes: [0, 1, 9], on: machine).kind == .virtualGrid)
        #expect(try GroupTopology.of(nodes: [3, 3], on: machine).kind == .virtualGrid)
    }
}
