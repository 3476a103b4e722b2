import CHwloc
import CMPI
import Glibc
import Testing

/// The two system libraries link and answer: Open MPI initialises as a singleton (one process
/// started without mpirun), hwloc sees this machine's processors.
@Suite struct SystemLibraryTests {
    @Test func mpiInitialisesAsSingleton() throws {
        var provided: Int32 = 0
        #expect(MPI_Init_thread(nil, nil, torus_MPI_THREAD_FUNNELED(), &provided) == torus_MPI_SUCCESS())
        #expect(provided >= torus_MPI_THREAD_FUNNELED())
        var size: Int32 = -1, rank: Int32 = -1
        #expect(MPI_Comm_size(torus_MPI_COMM_WORLD(), &size) == torus_MPI_SUCCESS())
        #expect(MPI_Comm_rank(torus_MPI_COMM_WORLD(), &rank) == torus_MPI_SUCCESS())
        #expect(size == 1)
        #expect(rank == 0)
        // A predefined handle through the shim works in a real call: 3 + 0 on one rank is 3.
        var input: Float = 3, output: Float = 0
        #expect(PMPI_Allreduce(&input, &output, 1, torus_MPI_FLOAT(), torus_MPI_SUM(), torus_MPI_COMM_WORLD()) == torus_MPI_SUCCESS())
        #expect(output == 3)
        var typeSize: Int32 = 0
        MPI_Type_size(torus_MPI_UINT16_T(), &typeSize)
        #expect(typeSize == 2)
        #expect(torus_MPI_IN_PLACE() != nil)
        #expect(MPI_Finalize() == torus_MPI_SUCCESS())
    }

    @Test func hwlocCountsThisMachinesProcessors() throws {
        var topology: hwloc_topology_t?
        #expect(hwloc_topology_init(&topology) == 0)
        defer { hwloc_topology_destroy(topology) }
        #expect(hwloc_topology_load(topology) == 0)
        let cores = hwloc_get_nbobjs_by_type(topology, HWLOC_OBJ_CORE)
        let processors = hwloc_get_nbobjs_by_type(topology, HWLOC_OBJ_PU)
        #expect(cores >= 1)
        #expect(processors >= cores)
        #expect(Int(processors) == sysconf(Int32(_SC_NPROCESSORS_ONLN)))
    }
}
