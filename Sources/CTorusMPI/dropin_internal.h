/*
 * What the drop-in's C files share (dropin.c: settings, the type table, per-communicator state,
 * MPI_Allreduce; dropin_halves.c: MPI_Reduce_scatter_block and MPI_Allgather). Hidden: not
 * exported from libtorus_mpi.so.
 */
#ifndef TORUS_DROPIN_INTERNAL_H
#define TORUS_DROPIN_INTERNAL_H

#include <mpi.h>
#include <stdatomic.h>
#include <stdint.h>

#pragma GCC visibility push(hidden)

typedef struct {
    MPI_Datatype handle;
    int32_t code;   /* element type code, from the class and MPI's size of the type */
    int32_t size;   /* bytes */
    uint16_t ops;   /* ops the library takes for this type */
} type_entry;

/* A communicator's state (an attribute); the list of them, for MPI_Finalize. */
typedef struct torus_state {
    void *swift;     /* the Swift state, once set up */
    void *pending;   /* while a nonblocking call's set-up runs (or after it failed), the set-up; then NULL */
    struct torus_state *prev, *next;
} torus_state;

/* Settings, written once (ensure_configured) and read by every call after. */
extern int64_t min_bytes, reduce_scatter_min_bytes;
extern int32_t pass_through;
extern int32_t verbose;
extern int check_calls;
extern int nan_check;
extern atomic_llong nan_calls;
extern atomic_llong calls_taken, calls_passed;

/* 1 once MPI is initialised and the settings read; 0 before MPI_Init or after MPI_Finalize. */
int ensure_configured(void);
/* The table's entry of a datatype, or NULL if the library does not know it. */
const type_entry *type_of(MPI_Datatype datatype);
/* The op code of a predefined op the library reduces, or -1. */
int op_code_of(MPI_Op op);
/* The state of a communicator, made on first use (collective; waits for a set-up a nonblocking
 * call started); NULL if the library never takes its calls, or, with *error set, if the set-up failed. */
torus_state *state_of(MPI_Comm comm, int *error);
/* Before a communicator's first call goes anywhere: its ranks compare their TORUS_ settings
 * (collective, once per communicator); MPI_SUCCESS, or the error after reporting it and calling the
 * communicator's error handler. */
int settings_agree(MPI_Comm comm);
/* Waits for the library's copy of `comm` (MPI_Comm_idup) if a nonblocking call's set-up is making
 * one, before the application's nonblocking collective on it goes to MPI (Open MPI 4.1 corrupts
 * memory when one thread starts one while another progresses the idup). One atomic load while no
 * set-up is pending. */
void await_copy(MPI_Comm comm);
/* The element type code of a floating-point MPI type the library knows, else -1. */
int float_code(MPI_Datatype datatype);
/* A Fortran buffer address, with MPI_IN_PLACE and MPI_BOTTOM as C's. */
void *fortran_buffer(void *address);

#pragma GCC visibility pop

#endif
