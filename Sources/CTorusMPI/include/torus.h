/*
 * torus.h: the C API of TorusCollectives (libtorus_mpi.so).
 *
 * Build the library and its pkg-config entry with `bash scripts/build-dropin.sh` (it prints the
 * directory that holds both), then
 *     mpicc app.c $(PKG_CONFIG_PATH=<that directory> pkg-config --cflags --libs torus_mpi)
 *
 * The same library, preloaded (mpirun -x LD_PRELOAD=.../libtorus_mpi.so) or linked before libmpi,
 * also replaces MPI_Allreduce, MPI_Reduce_scatter_block and MPI_Allgather (and their Fortran
 * bindings) in unmodified programs: see README.md, "Drop-in MPI_Allreduce". Settings come from the TORUS_* environment variables.
 */
#ifndef TORUS_H
#define TORUS_H

#include <mpi.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * AllReduce with the library's rules, exactly as the drop-in MPI_Allreduce: calls the library is
 * sure of (an intracommunicator of two or more ranks, a predefined contiguous type, a predefined
 * op valid for it, at least TORUS_MIN_BYTES bytes) run the torus algorithms on a private
 * duplicate of `comm`; every other call goes to PMPI_Allreduce unchanged. Arguments as
 * MPI_Allreduce (MPI_IN_PLACE as sendbuf). Collective over `comm`. Returns an MPI error code;
 * errors go through the communicator's error handler first.
 */
int torus_allreduce(const void *sendbuf, void *recvbuf, int count, MPI_Datatype datatype, MPI_Op op,
                    MPI_Comm comm);

/*
 * The route torus_allreduce would take for this call: writes a NUL-terminated line into `route`
 * (at most `length` bytes, cut if longer), starting with "mpi" (PMPI_Allreduce) or the
 * algorithm's name, then why. Collective over `comm` the first time the library meets the
 * communicator with a call it takes (the members exchange their torus nodes once). Returns an
 * MPI error code.
 */
int torus_allreduce_route(MPI_Comm comm, int count, MPI_Datatype datatype, MPI_Op op, char *route, int length);

/*
 * Nonblocking AllReduce with the same rules: calls the library takes run on its progress thread
 * when MPI was initialised with MPI_THREAD_MULTIPLE (the application computes meanwhile), else
 * inside torus_test and torus_wait (correct, without overlap); every other call is
 * PMPI_Iallreduce. Buffers stay untouched until the request completes. torus_test sets *flag and,
 * like torus_wait, frees a completed request and sets *request to NULL. Requests on different
 * communicators may be waited for in any order. Return MPI error codes.
 */
typedef struct torus_request_s *torus_request;
int torus_iallreduce(const void *sendbuf, void *recvbuf, int count, MPI_Datatype datatype, MPI_Op op, MPI_Comm comm,
                     torus_request *request);
int torus_test(torus_request *request, int *flag);
int torus_wait(torus_request *request);

/*
 * ReduceScatter and AllGather with the same rules, exactly as the drop-in MPI_Reduce_scatter_block
 * and MPI_Allgather: the reduce-scatter and all-gather halves of the torus algorithms for the calls
 * the library is sure of (as torus_allreduce; TORUS_MIN_BYTES counts the whole buffer of p blocks;
 * an all-gather also needs sendcount == recvcount and sendtype == recvtype, or MPI_IN_PLACE);
 * PMPI_Reduce_scatter_block and PMPI_Allgather for the rest. Arguments as MPI's. Return MPI error codes.
 */
int torus_reduce_scatter_block(const void *sendbuf, void *recvbuf, int recvcount, MPI_Datatype datatype, MPI_Op op,
                               MPI_Comm comm);
int torus_allgather(const void *sendbuf, int sendcount, MPI_Datatype sendtype, void *recvbuf, int recvcount,
                    MPI_Datatype recvtype, MPI_Comm comm);

/* Calls of this process the library took and passed to MPI so far (either may be NULL). */
void torus_call_counts(long long *taken, long long *passed);

#ifdef __cplusplus
}
#endif

#endif /* TORUS_H */
