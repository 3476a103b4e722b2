/*
 * The Swift side of the drop-in (Sources/TorusDropIn/DropIn.swift, exported with @_cdecl).
 * Element types and ops travel as their index in ElementType.allCases and ReduceOp.allCases.
 * Messages are written NUL-terminated into `message` (at most `length` bytes).
 */
#ifndef TORUS_DROPIN_SWIFT_H
#define TORUS_DROPIN_SWIFT_H

#include <mpi.h>
#include <stdint.h>

#include "torus_codes.h"

/*
 * Reads and checks the TORUS_* environment and the placement of the world ranks (MPI is
 * initialised). On success returns 0 and fills: the smallest call in bytes the library takes
 * (AllReduce and AllGather, then ReduceScatter), whether it passes every call through (TORUS_ALGORITHM=mpi), the verbosity, and per element type
 * a bit mask (1 << op code) of the ops whose answer the library gives exactly as MPI would.
 * On failure returns non-zero with a message naming the variable and the fix.
 */
int torus_swift_configure(int64_t *min_bytes, int64_t *reduce_scatter_min_bytes, int32_t *pass_through, int32_t *verbose, uint16_t *takes,
                          char *message, int32_t length);

/* TORUS_CHECK: the records of `size` ranks (5 int64 each: count, type code or -1, op code or -1,
 * path -1 MPI or -2 the library, in place) gathered in rank order. 0 when all agree, else 1 and a
 * message naming the ranks and their values (`function`: "AllReduce", "ReduceScatter", "AllGather"). */
int torus_swift_check_records(const int64_t *records, int32_t size, int32_t rank, const char *function, char *message,
                              int32_t length);

/* TORUS_NAN_CHECK: prints where `count` elements of type code `type` hold NaN or Inf, if they do
 * (`what`: "input" or "result"; `function`: "MPI_Allreduce" or "MPI_Iallreduce"; `call`: the
 * process's number of the call among those scanned). */
void torus_swift_nan_scan(int32_t type, const void *buffer, int64_t count, int32_t rank, int64_t call, const char *what,
                          const char *function);

/* Collective over an intracommunicator of two or more ranks: its ranks compare the TORUS_ settings
 * every rank must share (one MPI_Iallreduce, under the stall watch). 0 when they agree, else 1 and
 * a message naming the variables that differ and the ranks that have each value (on every rank). */
int torus_swift_agree(MPI_Comm comm, char *message, int32_t length);

/* Makes the library's state for an intracommunicator of two or more ranks (collective): a
 * private communicator over the same group and the torus view. NULL and a message on failure. */
void *torus_swift_attach(MPI_Comm comm, char *message, int32_t length);

/* The nonblocking set-up of an intracommunicator of two or more ranks whose first call the library
 * takes is a nonblocking one: starts MPI_Comm_idup and returns at once (a retained set-up), or NULL
 * and a message. The set-up goes on in rounds of the progress engine — on its thread when
 * `threaded` (MPI_THREAD_MULTIPLE), else in the application's test and wait calls — and sets up
 * the library's state on the copy; requests started meanwhile queue behind it. */
void *torus_swift_setup_start(MPI_Comm comm, int32_t threaded, char *message, int32_t length);

/* 1 and the retained state in *state once the set-up is over and the requests started during it
 * are (`wait` non-zero: blocks until then); 0 while not (only without `wait`); -1 and a message
 * if it failed (it stays failed). */
int torus_swift_setup_finish(void *pending, int32_t wait, void **state, char *message, int32_t length);

void torus_swift_setup_release(void *pending);

/* Where the progress thread runs the set-up: blocks until its MPI_Comm_idup is over (see
 * await_copy in dropin.c); else returns at once. */
void torus_swift_setup_await_copy(void *pending);

/* The application freed the communicator of a set-up: waits for its MPI_Comm_idup (which reads
 * the communicator), then its copy is freed once the set-up and the requests queued behind it are
 * over. */
void torus_swift_setup_abandon(void *pending);

/* Blocks until every request the library runs is over (MPI_Finalize). */
void torus_swift_drain_all(void);

/* AllReduce on the state's private communicator; `sendbuf` NULL means in place. 0 or a message. */
int torus_swift_allreduce(void *state, const void *sendbuf, void *recvbuf, int64_t count, int32_t type, int32_t op,
                          char *message, int32_t length);

/* ReduceScatter (`collective` 1, MPI_Reduce_scatter_block) or AllGather (2, MPI_Allgather; `op`
 * unused) of blocks of `count` elements on the state's private communicator; `sendbuf` NULL means
 * in place. 0 or a message. */
int torus_swift_half(void *state, int32_t collective, const void *sendbuf, void *recvbuf, int64_t count, int32_t type, int32_t op,
                     char *message, int32_t length);

/* Starts a nonblocking AllReduce on the state's private communicator — or, `state` NULL, queued
 * behind the set-up `pending` and run on its communicator when that is over; a retained request,
 * or NULL and a message. `grequest` non-NULL: an MPI generalized request completed when it finishes.
 * `record` non-NULL (TORUS_CHECK): the request first agrees with every rank on this record (as
 * for torus_swift_check_records) and fails on every rank if any differ, before any data moves.
 * `nan_type` ≥ 0 (TORUS_NAN_CHECK): the result is scanned when over, reported with `rank` and `call`. */
void *torus_swift_iallreduce(void *state, void *pending, const void *sendbuf, void *recvbuf, int64_t count, int32_t type, int32_t op,
                             const int64_t *record, int32_t nan_type, int32_t rank, int64_t call, MPI_Request *grequest,
                             char *message, int32_t length);

/* The same for a call the library passes to MPI: its request agrees on `record` first, then runs
 * MPI_Iallreduce on the state's private communicator (any type and op MPI has). */
void *torus_swift_ipass(void *state, void *pending, const void *sendbuf, void *recvbuf, int32_t count, MPI_Datatype datatype, MPI_Op op,
                        const int64_t *record, int32_t nan_type, int32_t rank, int64_t call, MPI_Request *grequest,
                        char *message, int32_t length);

/* Tests (wait 0) or waits (wait 1) for a request: 1 over, 0 not yet, -1 failed with a message.
 * An over or failed request is released. */
int torus_swift_request_progress(void *request, int32_t wait, char *message, int32_t length);

/* Whether an over request failed (1) or not (0), for MPI's status of a generalized request. */
int torus_swift_request_failed(void *request);

/* Releases a request the caller no longer waits for (a generalized request's free function). */
void torus_swift_request_release(void *request);

/* The route of a call of `count` elements of `type` on the state's communicator, and why. */
void torus_swift_route(void *state, int64_t count, int32_t type, char *route, int32_t length);

/* The library's reduction kernel: inout[i] = inout[i] op in[i] for `count` elements. */
void torus_swift_reduce_local(int32_t type, int32_t op, void *inout, const void *in, int64_t count);

/* Frees the state's private communicator (idempotent; MPI must still be usable). */
void torus_swift_detach(void *state);

/* Detaches if still attached and releases the state. */
void torus_swift_release(void *state);

#endif
