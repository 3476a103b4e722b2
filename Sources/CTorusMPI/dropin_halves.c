/*
 * The drop-in MPI_Reduce_scatter_block and MPI_Allgather (and torus_reduce_scatter_block,
 * torus_allgather): the reduce-scatter and all-gather halves of the torus algorithms, under
 * MPI_Allreduce's rules (dropin.c). The library takes a call only when sure of the answer:
 *   - MPI initialised and not finalised; TORUS_ALGORITHM is not "mpi";
 *   - a predefined type of the table; for a reduce-scatter an op the library takes for it (as
 *     MPI_Allreduce); for an all-gather, sendcount == recvcount and sendtype == recvtype (or
 *     MPI_IN_PLACE);
 *   - count > 0, and the whole buffer (p blocks) at least TORUS_MIN_BYTES (unset: 16 MiB for an
 *     all-gather as for MPI_Allreduce, 1 MiB for a reduce-scatter, whose MPI call is slower);
 *     distinct, non-overlapping buffers;
 *   - an intracommunicator of two or more ranks.
 * Everything else goes to PMPI_Reduce_scatter_block or PMPI_Allgather unchanged. TORUS_CHECK and
 * TORUS_NAN_CHECK apply as to MPI_Allreduce.
 */
#include "torus.h"
#include "dropin_swift.h"
#include "dropin_internal.h"

#include <stdio.h>
#include <stdlib.h>

/* Collective codes: the index in Swift's Collective.allCases. */
enum { REDUCE_SCATTER = 1, ALL_GATHER = 2 };
static const char *const functions[] = {"MPI_Allreduce", "MPI_Reduce_scatter_block", "MPI_Allgather"};
static const char *const checked_names[] = {"AllReduce", "ReduceScatter", "AllGather"};

/* One call: an all-gather's sendcount and sendtype are checked against recvcount and recvtype up front. */
typedef struct {
    int half;
    const void *sendbuf;
    void *recvbuf;
    int count;             /* one rank's block */
    MPI_Datatype datatype;
    MPI_Op op;             /* MPI_OP_NULL for an all-gather */
    MPI_Comm comm;
} half_call;

/* Why the library will not take the call, or NULL; sets *t, *o and *size. */
static const char *refusal(const half_call *c, const type_entry **t, int *o, int *size) {
    if (pass_through) return "TORUS_ALGORITHM=mpi";
    *t = type_of(c->datatype);
    if (*t == NULL) return "not a predefined type the library knows";
    *o = TORUS_SUM;
    if (c->half == REDUCE_SCATTER) {
        *o = op_code_of(c->op);
        if (*o < 0) return "not a predefined op the library reduces (user op, MINLOC or MAXLOC?)";
        if (!((*t)->ops >> *o & 1)) return "an op the library leaves to MPI for this type";
    }
    if (c->count <= 0) return "count 0 or negative";
    if (c->comm == MPI_COMM_NULL) return "MPI_COMM_NULL";
    int inter = 0;
    if (PMPI_Comm_test_inter(c->comm, &inter) != MPI_SUCCESS || inter || PMPI_Comm_size(c->comm, size) != MPI_SUCCESS || *size < 2)
        return "not an intracommunicator of two or more ranks";
    int64_t block = (int64_t)c->count * (*t)->size, total = block * *size;
    if (total < (c->half == REDUCE_SCATTER ? reduce_scatter_min_bytes : min_bytes)) return "below TORUS_MIN_BYTES";
    return NULL;
}

/* Why the library will not touch the buffers (arguments MPI must judge), or NULL. */
static const char *buffer_refusal(const half_call *c, int64_t block, int size) {
    if (c->recvbuf == NULL || c->recvbuf == MPI_IN_PLACE || c->sendbuf == NULL) return "buffers MPI must check";
    if (c->sendbuf == MPI_IN_PLACE) return NULL;
    uintptr_t s = (uintptr_t)c->sendbuf, r = (uintptr_t)c->recvbuf;
    uintptr_t sn = (uintptr_t)(c->half == REDUCE_SCATTER ? block * size : block);
    uintptr_t rn = (uintptr_t)(c->half == REDUCE_SCATTER ? block : block * size);
    return s < r + rn && r < s + sn ? "overlapping buffers" : NULL;
}

static int pass(const half_call *c, const char *why) {
    atomic_fetch_add_explicit(&calls_passed, 1, memory_order_relaxed);
    int rank = -1, size = 0;
    if (__builtin_expect(verbose >= 2, 0) && c->comm != MPI_COMM_NULL && PMPI_Comm_rank(c->comm, &rank) == MPI_SUCCESS && rank == 0) {
        PMPI_Comm_size(c->comm, &size);
        fprintf(stderr, "torus_mpi: %s of %d elements per rank on %d ranks: P%s (%s)\n", functions[c->half], c->count, size,
                functions[c->half], why);
    }
    if (c->half == REDUCE_SCATTER) return PMPI_Reduce_scatter_block(c->sendbuf, c->recvbuf, c->count, c->datatype, c->op, c->comm);
    return PMPI_Allgather(c->sendbuf, c->count, c->datatype, c->recvbuf, c->count, c->datatype, c->comm);
}

/* TORUS_CHECK: every rank's (count, type, op, path, in place) through one PMPI_Allgather first. */
static int agree(const half_call *c) {
    int inter = 0, size = 0, rank = 0;
    if (c->comm == MPI_COMM_NULL || PMPI_Comm_test_inter(c->comm, &inter) != MPI_SUCCESS || inter) return MPI_SUCCESS;
    if (PMPI_Comm_size(c->comm, &size) != MPI_SUCCESS || size < 2 || PMPI_Comm_rank(c->comm, &rank) != MPI_SUCCESS) return MPI_SUCCESS;
    const type_entry *t = NULL, *known = type_of(c->datatype);
    int o = -1, ignored = 0;
    const char *why = refusal(c, &t, &o, &ignored);
    int64_t mine[5] = {c->count, known ? known->code : -1, c->half == REDUCE_SCATTER ? op_code_of(c->op) : -1, why ? -1 : -2,
                       c->sendbuf == MPI_IN_PLACE || c->sendbuf == c->recvbuf};
    int64_t *all = malloc(sizeof mine * (size_t)size);
    if (all == NULL) return MPI_SUCCESS;
    int error = PMPI_Allgather(mine, 5, MPI_INT64_T, all, 5, MPI_INT64_T, c->comm);
    char message[2048];
    if (error == MPI_SUCCESS && torus_swift_check_records(all, size, rank, checked_names[c->half], message, sizeof message) != 0) {
        fprintf(stderr, "torus_mpi: rank %d: %s\n", rank, message);
        error = MPI_ERR_ARG;
    }
    free(all);
    if (error != MPI_SUCCESS) PMPI_Comm_call_errhandler(c->comm, error);
    return error;
}

/* The library's call, or MPI's. */
static int run(const half_call *c) {
    const type_entry *t = NULL;
    int o = 0, size = 0, error = MPI_SUCCESS;
    const char *why = refusal(c, &t, &o, &size);
    if (why == NULL) why = buffer_refusal(c, (int64_t)c->count * t->size, size);
    int finalized = 0;
    if (why == NULL && (PMPI_Finalized(&finalized), finalized)) why = "MPI finalised";
    torus_state *s = NULL;
    if (why == NULL) {
        s = state_of(c->comm, &error);
        if (error != MPI_SUCCESS) {
            PMPI_Comm_call_errhandler(c->comm, error);
            return error;
        }
        if (s == NULL) why = "not an intracommunicator of two or more ranks";
    }
    if (why) return pass(c, why);
    atomic_fetch_add_explicit(&calls_taken, 1, memory_order_relaxed);
    char message[2048];
    if (torus_swift_half(s->swift, c->half, c->sendbuf == MPI_IN_PLACE ? NULL : c->sendbuf, c->recvbuf, c->count, t->code, o,
                         message, sizeof message) != 0) {
        int rank = -1;
        PMPI_Comm_rank(c->comm, &rank);
        fprintf(stderr, "torus_mpi: rank %d: %s: %s\n", rank, functions[c->half], message);
        PMPI_Comm_call_errhandler(c->comm, MPI_ERR_OTHER);
        return MPI_ERR_OTHER;
    }
    return MPI_SUCCESS;
}

/* The entry: the settings agree (once per communicator), TORUS_CHECK, then TORUS_NAN_CHECK around the call. */
static int dropin_half(const half_call *c) {
    if (!ensure_configured()) return pass(c, "MPI not initialised");
    int error = settings_agree(c->comm);
    if (error == MPI_SUCCESS && check_calls) error = agree(c);
    if (error != MPI_SUCCESS) return error;
    int code = nan_check && c->count > 0 && c->comm != MPI_COMM_NULL && c->recvbuf != NULL ? float_code(c->datatype) : -1;
    if (code < 0) return run(c);
    int rank = -1, size = 0;
    PMPI_Comm_rank(c->comm, &rank);
    PMPI_Comm_size(c->comm, &size);
    int64_t block = c->count, whole = (int64_t)c->count * size, bytes = (int64_t)type_of(c->datatype)->size * c->count;
    long long call = atomic_fetch_add(&nan_calls, 1) + 1;
    const void *input = c->sendbuf;
    if (input == MPI_IN_PLACE) input = c->half == ALL_GATHER ? (const char *)c->recvbuf + rank * bytes : c->recvbuf;
    torus_swift_nan_scan(code, input, c->half == REDUCE_SCATTER ? whole : block, rank, call, "input", functions[c->half]);
    error = run(c);
    if (error == MPI_SUCCESS)
        torus_swift_nan_scan(code, c->recvbuf, c->half == REDUCE_SCATTER ? block : whole, rank, call, "result", functions[c->half]);
    return error;
}

static int reduce_scatter_block(const void *sendbuf, void *recvbuf, int recvcount, MPI_Datatype datatype, MPI_Op op, MPI_Comm comm) {
    half_call c = {REDUCE_SCATTER, sendbuf, recvbuf, recvcount, datatype, op, comm};
    return dropin_half(&c);
}

static int allgather(const void *sendbuf, int sendcount, MPI_Datatype sendtype, void *recvbuf, int recvcount,
                     MPI_Datatype recvtype, MPI_Comm comm) {
    if (sendbuf != MPI_IN_PLACE && (sendcount != recvcount || sendtype != recvtype)) {
        /* Different type signatures (legal in MPI): MPI's own, once the settings agree (every rank
         * compares them at its first call on the communicator, whichever way the call goes). */
        if (ensure_configured()) {
            int error = settings_agree(comm);
            if (error != MPI_SUCCESS) return error;
        }
        atomic_fetch_add_explicit(&calls_passed, 1, memory_order_relaxed);
        return PMPI_Allgather(sendbuf, sendcount, sendtype, recvbuf, recvcount, recvtype, comm);
    }
    half_call c = {ALL_GATHER, sendbuf, recvbuf, recvcount, recvtype, MPI_OP_NULL, comm};
    return dropin_half(&c);
}

int MPI_Reduce_scatter_block(const void *sendbuf, void *recvbuf, int recvcount, MPI_Datatype datatype, MPI_Op op, MPI_Comm comm) {
    return reduce_scatter_block(sendbuf, recvbuf, recvcount, datatype, op, comm);
}

int torus_reduce_scatter_block(const void *sendbuf, void *recvbuf, int recvcount, MPI_Datatype datatype, MPI_Op op, MPI_Comm comm) {
    return reduce_scatter_block(sendbuf, recvbuf, recvcount, datatype, op, comm);
}

int MPI_Allgather(const void *sendbuf, int sendcount, MPI_Datatype sendtype, void *recvbuf, int recvcount, MPI_Datatype recvtype,
                  MPI_Comm comm) {
    return allgather(sendbuf, sendcount, sendtype, recvbuf, recvcount, recvtype, comm);
}

int torus_allgather(const void *sendbuf, int sendcount, MPI_Datatype sendtype, void *recvbuf, int recvcount, MPI_Datatype recvtype,
                    MPI_Comm comm) {
    return allgather(sendbuf, sendcount, sendtype, recvbuf, recvcount, recvtype, comm);
}

/* Fortran (as MPI_ALLREDUCE in dropin.c: Open MPI's bindings call PMPI directly). */
void torus_fortran_reduce_scatter_block(char *sendbuf, char *recvbuf, MPI_Fint *recvcount, MPI_Fint *datatype, MPI_Fint *op,
                                        MPI_Fint *comm, MPI_Fint *ierr) {
    int rc = reduce_scatter_block(fortran_buffer(sendbuf), fortran_buffer(recvbuf), (int)*recvcount, PMPI_Type_f2c(*datatype),
                                  PMPI_Op_f2c(*op), PMPI_Comm_f2c(*comm));
    if (ierr) *ierr = (MPI_Fint)rc;
}

void torus_fortran_allgather(char *sendbuf, MPI_Fint *sendcount, MPI_Fint *sendtype, char *recvbuf, MPI_Fint *recvcount,
                             MPI_Fint *recvtype, MPI_Fint *comm, MPI_Fint *ierr) {
    int rc = allgather(fortran_buffer(sendbuf), (int)*sendcount, PMPI_Type_f2c(*sendtype), fortran_buffer(recvbuf), (int)*recvcount,
                       PMPI_Type_f2c(*recvtype), PMPI_Comm_f2c(*comm));
    if (ierr) *ierr = (MPI_Fint)rc;
}

#define RSB_ALIAS(name)                                                                                      \
    void name(char *, char *, MPI_Fint *, MPI_Fint *, MPI_Fint *, MPI_Fint *, MPI_Fint *)                    \
        __attribute__((alias("torus_fortran_reduce_scatter_block")));
RSB_ALIAS(mpi_reduce_scatter_block_)
RSB_ALIAS(mpi_reduce_scatter_block__)
RSB_ALIAS(mpi_reduce_scatter_block)
RSB_ALIAS(MPI_REDUCE_SCATTER_BLOCK)
RSB_ALIAS(ompi_reduce_scatter_block_f)

#define ALLGATHER_ALIAS(name)                                                                                \
    void name(char *, MPI_Fint *, MPI_Fint *, char *, MPI_Fint *, MPI_Fint *, MPI_Fint *, MPI_Fint *)        \
        __attribute__((alias("torus_fortran_allgather")));
ALLGATHER_ALIAS(mpi_allgather_)
ALLGATHER_ALIAS(mpi_allgather__)
ALLGATHER_ALIAS(mpi_allgather)
ALLGATHER_ALIAS(MPI_ALLGATHER)
ALLGATHER_ALIAS(ompi_allgather_f)
