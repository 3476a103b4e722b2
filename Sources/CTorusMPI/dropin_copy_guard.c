/*
 * The application's own nonblocking collectives, which the library does not take: each waits, before
 * it starts, for the library's copy of its communicator if one is being made (await_copy in dropin.c),
 * then goes to MPI unchanged.
 *
 * Why: a communicator's first MPI_Iallreduce under MPI_THREAD_MULTIPLE starts the library's set-up,
 * whose MPI_Comm_idup the progress thread tests, and Open MPI 4.1 corrupts memory when another
 * thread starts a nonblocking collective on a communicator while one thread progresses its pending
 * idup. Measured (Tests/DropIn/check_first_requests.c's last part with MPI_Ibcast of 400 KB right
 * after the first MPI_Iallreduce, preloaded, np=3): 2 of 3 runs died of a segmentation fault before
 * these wrappers, none after. Blocking collectives do not meet it; MPI_Iallreduce, MPI_Allreduce,
 * MPI_Reduce_scatter_block and MPI_Allgather wait in dropin.c and dropin_halves.c.
 *
 * Only these C entry points: Open MPI's Fortran bindings call PMPI_ directly, and a Fortran program
 * never starts a set-up without one (the library's Fortran entry points are blocking). With no
 * set-up pending anywhere (the steady state), the wait is one atomic load.
 */
#include "dropin_internal.h"

#define GUARDED(name, params, comm, args)          \
    int MPI_##name params {                        \
        await_copy(comm);                          \
        return PMPI_##name args;                   \
    }

GUARDED(Ibarrier, (MPI_Comm comm, MPI_Request *request), comm, (comm, request))
GUARDED(Ibcast, (void *buffer, int count, MPI_Datatype datatype, int root, MPI_Comm comm, MPI_Request *request), comm,
        (buffer, count, datatype, root, comm, request))
GUARDED(Igather,
        (const void *sendbuf, int sendcount, MPI_Datatype sendtype, void *recvbuf, int recvcount, MPI_Datatype recvtype, int root,
         MPI_Comm comm, MPI_Request *request),
        comm, (sendbuf, sendcount, sendtype, recvbuf, recvcount, recvtype, root, comm, request))
GUARDED(Igatherv,
        (const void *sendbuf, int sendcount, MPI_Datatype sendtype, void *recvbuf, const int recvcounts[], const int displs[],
         MPI_Datatype recvtype, int root, MPI_Comm comm, MPI_Request *request),
        comm, (sendbuf, sendcount, sendtype, recvbuf, recvcounts, displs, recvtype, root, comm, request))
GUARDED(Iscatter,
        (const void *sendbuf, int sendcount, MPI_Datatype sendtype, void *recvbuf, int recvcount, MPI_Datatype recvtype, int root,
         MPI_Comm comm, MPI_Request *request),
        comm, (sendbuf, sendcount, sendtype, recvbuf, recvcount, recvtype, root, comm, request))
GUARDED(Iscatterv,
        (const void *sendbuf, const int sendcounts[], const int displs[], MPI_Datatype sendtype, void *recvbuf, int recvcount,
         MPI_Datatype recvtype, int root, MPI_Comm comm, MPI_Request *request),
        comm, (sendbuf, sendcounts, displs, sendtype, recvbuf, recvcount, recvtype, root, comm, request))
GUARDED(Iallgather,
        (const void *sendbuf, int sendcount, MPI_Datatype sendtype, void *recvbuf, int recvcount, MPI_Datatype recvtype, MPI_Comm comm,
         MPI_Request *request),
        comm, (sendbuf, sendcount, sendtype, recvbuf, recvcount, recvtype, comm, request))
GUARDED(Iallgatherv,
        (const void *sendbuf, int sendcount, MPI_Datatype sendtype, void *recvbuf, const int recvcounts[], const int displs[],
         MPI_Datatype recvtype, MPI_Comm comm, MPI_Request *request),
        comm, (sendbuf, sendcount, sendtype, recvbuf, recvcounts, displs, recvtype, comm, request))
GUARDED(Ialltoall,
        (const void *sendbuf, int sendcount, MPI_Datatype sendtype, void *recvbuf, int recvcount, MPI_Datatype recvtype, MPI_Comm comm,
         MPI_Request *request),
        comm, (sendbuf, sendcount, sendtype, recvbuf, recvcount, recvtype, comm, request))
GUARDED(Ialltoallv,
        (const void *sendbuf, const int sendcounts[], const int sdispls[], MPI_Datatype sendtype, void *recvbuf, const int recvcounts[],
         const int rdispls[], MPI_Datatype recvtype, MPI_Comm comm, MPI_Request *request),
        comm, (sendbuf, sendcounts, sdispls, sendtype, recvbuf, recvcounts, rdispls, recvtype, comm, request))
GUARDED(Ialltoallw,
        (const void *sendbuf, const int sendcounts[], const int sdispls[], const MPI_Datatype sendtypes[], void *recvbuf,
         const int recvcounts[], const int rdispls[], const MPI_Datatype recvtypes[], MPI_Comm comm, MPI_Request *request),
        comm, (sendbuf, sendcounts, sdispls, sendtypes, recvbuf, recvcounts, rdispls, recvtypes, comm, request))
GUARDED(Ireduce,
        (const void *sendbuf, void *recvbuf, int count, MPI_Datatype datatype, MPI_Op op, int root, MPI_Comm comm, MPI_Request *request),
        comm, (sendbuf, recvbuf, count, datatype, op, root, comm, request))
GUARDED(Ireduce_scatter,
        (const void *sendbuf, void *recvbuf, const int recvcounts[], MPI_Datatype datatype, MPI_Op op, MPI_Comm comm,
         MPI_Request *request),
        comm, (sendbuf, recvbuf, recvcounts, datatype, op, comm, request))
GUARDED(Ireduce_scatter_block,
        (const void *sendbuf, void *recvbuf, int recvcount, MPI_Datatype datatype, MPI_Op op, MPI_Comm comm, MPI_Request *request),
        comm, (sendbuf, recvbuf, recvcount, datatype, op, comm, request))
GUARDED(Iscan, (const void *sendbuf, void *recvbuf, int count, MPI_Datatype datatype, MPI_Op op, MPI_Comm comm, MPI_Request *request),
        comm, (sendbuf, recvbuf, count, datatype, op, comm, request))
GUARDED(Iexscan, (const void *sendbuf, void *recvbuf, int count, MPI_Datatype datatype, MPI_Op op, MPI_Comm comm, MPI_Request *request),
        comm, (sendbuf, recvbuf, count, datatype, op, comm, request))
GUARDED(Ineighbor_allgather,
        (const void *sendbuf, int sendcount, MPI_Datatype sendtype, void *recvbuf, int recvcount, MPI_Datatype recvtype, MPI_Comm comm,
         MPI_Request *request),
        comm, (sendbuf, sendcount, sendtype, recvbuf, recvcount, recvtype, comm, request))
GUARDED(Ineighbor_allgatherv,
        (const void *sendbuf, int sendcount, MPI_Datatype sendtype, void *recvbuf, const int recvcounts[], const int displs[],
         MPI_Datatype recvtype, MPI_Comm comm, MPI_Request *request),
        comm, (sendbuf, sendcount, sendtype, recvbuf, recvcounts, displs, recvtype, comm, request))
GUARDED(Ineighbor_alltoall,
        (const void *sendbuf, int sendcount, MPI_Datatype sendtype, void *recvbuf, int recvcount, MPI_Datatype recvtype, MPI_Comm comm,
         MPI_Request *request),
        comm, (sendbuf, sendcount, sendtype, recvbuf, recvcount, recvtype, comm, request))
GUARDED(Ineighbor_alltoallv,
        (const void *sendbuf, const int sendcounts[], const int sdispls[], MPI_Datatype sendtype, void *recvbuf, const int recvcounts[],
         const int rdispls[], MPI_Datatype recvtype, MPI_Comm comm, MPI_Request *request),
        comm, (sendbuf, sendcounts, sdispls, sendtype, recvbuf, recvcounts, rdispls, recvtype, comm, request))
GUARDED(Ineighbor_alltoallw,
        (const void *sendbuf, const int sendcounts[], const MPI_Aint sdispls[], const MPI_Datatype sendtypes[], void *recvbuf,
         const int recvcounts[], const MPI_Aint rdispls[], const MPI_Datatype recvtypes[], MPI_Comm comm, MPI_Request *request),
        comm, (sendbuf, sendcounts, sdispls, sendtypes, recvbuf, recvcounts, rdispls, recvtypes, comm, request))
GUARDED(Comm_idup, (MPI_Comm comm, MPI_Comm *newcomm, MPI_Request *request), comm, (comm, newcomm, request))
