import CHwloc
import Foundation
import CMPI
import Glibc
import Testing

/// The two system libraries link and answer: Open MPI initialises as a singleton (one process
/// started without mpirun), hwloc sees this machine's processors.
///
/// MPI runs in a child process (`torus-mpi-check`, started without mpirun, which makes it a
/// singleton): initialising it in the test process would fork Open MPI's `orted` while other tests
/// run — it inherits their open pipes — and `MPI_Finalize` unloads libraries while other threads
/// may be unwinding through them.
@Suite struct SystemLibraryTests {
    /// A built product of this package, found beside the test bundle.
    static func product(_ name: String) -> URL {
        var dir = Bundle.main.bundleURL
        while !FileManager.default.fileExists(atPath: dir.appendingPathComponent(name).path), dir.path != "/" {
            dir.deleteLastPathComponent()
        }
        return dir.appendingPathComponent(name)
    }

    @Test func mpiInitialisesAsSingleton() throws {
        // The shim's accessors answer without MPI initialised.
        #expect(torus_MPI_IN_PLACE() != nil && torus_MPI_SUCCESS() == 0)
        var flag: Int32 = -1
        #expect(MPI_Initialized(&flag) == torus_MPI_SUCCESS() && flag == 0)
        let log = FileManager.default.temporaryDirectory.appendingPathComponent("singleton-\(UUID().uuidString).log")
        FileManager.default.createFile(atPath: log.path, contents: nil)
        defer { try? FileManager.default.removeItem(at: log) }
        let output = try FileHandle(forWritingTo: log)
        let process = Process()
        process.executableURL = Self.product("torus-mpi-check")
        process.standardOutput = output
        process.standardError = output
        try process.run()
        process.waitUntilExit()
        try output.close()
        let text = try String(contentsOf: log, encoding: .utf8)
        #expect(process.terminationStatus == 0, "\(text.suffix(500))")
        #expect(text.contains("np=1"), "\(text.suffix(500))")
    }

    @Test func hwlocCountsThisMachinesProcessors() throws {
        var topology: hwloc_topology_t?
        #expect(hwloc_topology_init(&topology) == 0)
        // Never destroyed: destroying unloads hwloc's plugins (dlclose), which races with threads of
        // other tests unwinding their stacks (Swift Testing takes a backtrace at every throw).
        #expect(hwloc_topology_load(topology) == 0)
        let cores = hwloc_get_nbobjs_by_type(topology, HWLOC_OBJ_CORE)
        let processors = hwloc_get_nbobjs_by_type(topology, HWLOC_OBJ_PU)
        #expect(cores >= 1)
        #expect(processors >= cores)
        #expect(Int(processors) == sysconf(Int32(_SC_NPROCESSORS_ONLN)))
    }
}
