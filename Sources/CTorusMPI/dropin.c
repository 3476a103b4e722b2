/*
 * The drop-in MPI_Allreduce: the entry points a program (C, Fortran, mpi4py) calls, and the checks
 * that decide, in a few comparisons, whether the library takes a call or passes it to
 * PMPI_Allreduce unchanged. The algorithms, the routing and the settings live in Swift
 * (Sources/TorusDropIn); this file holds only what Swift cannot export (MPI_Allreduce itself, the
 * Fortran symbols) and the per-call fast path.
 *
 * The library takes a call only when sure of the answer:
 *   - MPI is initialised and not finalised; TORUS_ALGORITHM is not "mpi";
 *   - a predefined contiguous type of the table below, and a predefined op that MPI allows for it
 *     and whose result the library computes exactly as MPI does (Swift's takes mask);
 *   - count > 0 and count * size >= TORUS_MIN_BYTES; distinct, non-overlapping buffers (or
 *     MPI_IN_PLACE as sendbuf);
 *   - an intracommunicator of two or more ranks.
 * Everything else (user ops, MINLOC/MAXLOC, derived types, intercommunicators, MPI_COMM_SELF,
 * erroneous arguments) goes to PMPI_Allreduce, so MPI itself answers or reports the error.
 * Before a communicator's first call goes anywhere, its ranks check that they share the settings
 * that decide these choices (settings_agree).
 *
 * Per-communicator state is an attribute (keyval with MPI_COMM_NULL_COPY_FN, so MPI_Comm_dup does
 * not copy it; its delete callback frees it on MPI_Comm_free). An attribute on MPI_COMM_SELF,
 * deleted first by MPI_Finalize, frees every private communicator while MPI is still usable.
 *
 * Threads: nothing here is shared between calls on different communicators except the settings
 * (written once under pthread_once), the counters (atomics) and the list of states (a mutex held
 * for list updates only, never across an MPI call). Under MPI_THREAD_MULTIPLE two threads may
 * call on different communicators at once; each runs its own communicator's schedule.
 */
#include "torus.h"
#include "dropin_swift.h"
#include "dropin_internal.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---------- settings, read once ---------- */

enum type_class { CLASS_FLOAT, CLASS_C_INTEGER, CLASS_FORTRAN_INTEGER, CLASS_LOGICAL, CLASS_BYTE };

/* Ops MPI allows per class (MPI 3.1 §5.9.2), one bit per op code. */
static const uint16_t class_ops[] = {
    [CLASS_FLOAT] = 1u << TORUS_SUM | 1u << TORUS_PROD | 1u << TORUS_MIN | 1u << TORUS_MAX,
    [CLASS_C_INTEGER] = 0x3FF,
    [CLASS_FORTRAN_INTEGER] = 1u << TORUS_SUM | 1u << TORUS_PROD | 1u << TORUS_MIN | 1u << TORUS_MAX |
                              1u << TORUS_BAND | 1u << TORUS_BOR | 1u << TORUS_BXOR,
    [CLASS_LOGICAL] = 1u << TORUS_LAND | 1u << TORUS_LOR | 1u << TORUS_LXOR,
    [CLASS_BYTE] = 1u << TORUS_BAND | 1u << TORUS_BOR | 1u << TORUS_BXOR,
};


#define MAX_TYPES 40
static type_entry types[MAX_TYPES];
static int type_count;
static MPI_Op ops[TORUS_OP_CODES];

int64_t min_bytes, reduce_scatter_min_bytes;
int32_t pass_through;
int32_t verbose;
/* TORUS_CHECK=1: the ranks agree on every call's arguments before it goes anywhere. */
int check_calls;
/* TORUS_NAN_CHECK=1: every float call's input and result are scanned for NaN and Inf. */
int nan_check;
atomic_llong nan_calls;
static int keyval = MPI_KEYVAL_INVALID;
static int self_keyval = MPI_KEYVAL_INVALID;
static atomic_int configured;          /* 0 not yet, 1 done */
static pthread_once_t configure_once = PTHREAD_ONCE_INIT;
atomic_llong calls_taken, calls_passed;

static int element_code(enum type_class class, int size) {
    switch (class) {
    case CLASS_FLOAT: return size == 4 ? TORUS_F32 : size == 8 ? TORUS_F64 : -1;
    case CLASS_LOGICAL:
    case CLASS_BYTE: return size == 1 ? TORUS_U8 : -1;
    default: return size == 1 ? TORUS_I8 : size == 2 ? TORUS_I16 : size == 4 ? TORUS_I32 : size == 8 ? TORUS_I64 : -1;
    }
}

static int unsigned_code(int size) {
    return size == 1 ? TORUS_U8 : size == 2 ? TORUS_U16 : size == 4 ? TORUS_U32 : size == 8 ? TORUS_U64 : -1;
}

/* Probe values: integers with every sign and overflow case, finite floats with signed zeros and
 * subnormals, 0/1 for logical types. */
#define PROBE_COUNT 67
static void probe_values(unsigned char *buffer, enum type_class class, int code, int size, int seed) {
    static const double floats[] = {0.0, -0.0, 1.0, -1.0, 0.5, -2.5, 1.5, 65504.0, -7.0e-41, 3.0e-39, 1.0e10, -123.25};
    for (int i = 0; i < PROBE_COUNT; i++) {
        unsigned char *p = buffer + (size_t)i * (size_t)size;
        uint64_t h = (uint64_t)(i * 2654435761u) ^ (uint64_t)seed * 0x9E3779B97F4A7C15ULL;
        h ^= h >> 29;
        int pick = (i + seed * 5) % 9;
        if (class == CLASS_LOGICAL) {
            p[0] = (unsigned char)(pick % 2);
        } else if (code == TORUS_F32 || code == TORUS_F64) {
            double v = floats[(i * 7 + seed) % (int)(sizeof floats / sizeof floats[0])];
            if (code == TORUS_F32) { float f = (float)v; memcpy(p, &f, 4); } else memcpy(p, &v, 8);
        } else {
            uint64_t top = 1ULL << (size * 8 - 1), v;
            switch (pick) {
            case 0: v = 0; break;
            case 1: v = 1; break;
            case 2: v = ~0ULL; break;          /* -1, the largest unsigned */
            case 3: v = top - 1; break;        /* the largest signed */
            case 4: v = top; break;            /* the smallest signed */
            case 5: v = 0x5555555555555555ULL; break;
            case 6: v = 0xAAAAAAAAAAAAAAAAULL; break;
            default: v = h; break;
            }
            memcpy(p, &v, (size_t)size); /* little-endian: the low bytes */
        }
    }
}

/* Whether MPI's own reduction of this type and op (MPI_Reduce_local, the local step of its
 * AllReduce) gives exactly the library's answer on the probe values: an MPI whose answer differs
 * (Open MPI 4.1 compares MPI_UNSIGNED_LONG as signed for MIN and MAX) keeps the call. */
static int agrees_with_mpi(MPI_Datatype handle, enum type_class class, int code, int size, int op) {
    unsigned char in[PROBE_COUNT * 8], theirs[PROBE_COUNT * 8], ours[PROBE_COUNT * 8];
    for (int seed = 1; seed <= 3; seed++) {
        probe_values(in, class, code, size, seed);
        probe_values(theirs, class, code, size, seed + 10);
        memcpy(ours, theirs, sizeof ours);
        if (PMPI_Reduce_local(in, theirs, PROBE_COUNT, handle, ops[op]) != MPI_SUCCESS) return 0;
        torus_swift_reduce_local(code, op, ours, in, PROBE_COUNT);
        if (memcmp(ours, theirs, (size_t)PROBE_COUNT * (size_t)size) != 0) return 0;
    }
    return 1;
}

/* Adds a type if this MPI has it with a size the library handles; `is_unsigned` for C unsigned types. */
static void add_type(MPI_Datatype handle, enum type_class class, int is_unsigned, const uint16_t *takes) {
    int size = 0;
    if (handle == MPI_DATATYPE_NULL || type_count == MAX_TYPES) return;
    if (PMPI_Type_size(handle, &size) != MPI_SUCCESS || size <= 0) return;
    int code = is_unsigned ? unsigned_code(size) : element_code(class, size);
    if (code < 0) return;
    uint16_t mask = class_ops[class] & takes[code];
    for (int o = 0; o < TORUS_OP_CODES; o++)
        if ((mask >> o & 1) && !agrees_with_mpi(handle, class, code, size, o)) mask &= (uint16_t)~(1u << o);
    /* Frequent types first: the table is searched linearly on every call. */
    types[type_count++] = (type_entry){handle, code, size, mask};
}

/* Frees every private communicator while MPI is still usable (MPI_Finalize deletes MPI_COMM_SELF's
 * attributes first); the communicators' own attributes may be deleted later, or never. */
static torus_state states = {.prev = &states, .next = &states};
static pthread_mutex_t states_lock = PTHREAD_MUTEX_INITIALIZER;
static char not_ours; /* attribute value for communicators the library never takes */

/* A state whose set-up a nonblocking call started (s->pending) becomes ready once the set-up is
 * over and the requests started during it are: then s->swift is the Swift state and s->pending
 * NULL. `wait`: blocks until then. 1 ready, 0 not yet (only without `wait`), -1 the set-up failed
 * (its message in `message`; the state stays failed). */
/* States whose s->pending is set: while none is, a call passed to MPI needs no look at its
 * communicator's state (await_copy). */
static atomic_int pending_states;

static int settle(torus_state *s, int wait, char *message, int length) {
    if (s->pending == NULL) return 1;
    void *swift = NULL;
    int rc = torus_swift_setup_finish(s->pending, wait, &swift, message, length);
    if (rc == 1) {
        s->swift = swift;
        torus_swift_setup_release(s->pending);
        s->pending = NULL;
        atomic_fetch_sub_explicit(&pending_states, 1, memory_order_relaxed);
    }
    return rc;
}

static int delete_state(MPI_Comm comm, int key, void *value, void *extra) {
    (void)comm; (void)key; (void)extra;
    if (value == &not_ours || value == NULL) return MPI_SUCCESS;
    torus_state *s = value;
    pthread_mutex_lock(&states_lock);
    s->prev->next = s->next;
    s->next->prev = s->prev;
    pthread_mutex_unlock(&states_lock);
    /* Requests may still run on the private copy (MPI lets a communicator be freed with requests
     * under way): the copy is freed behind them, without waiting here. */
    if (s->pending) {
        torus_swift_setup_abandon(s->pending);
        torus_swift_setup_release(s->pending);
        atomic_fetch_sub_explicit(&pending_states, 1, memory_order_relaxed);
    }
    if (s->swift) torus_swift_release(s->swift);
    free(s);
    return MPI_SUCCESS;
}

static int finalize_hook(MPI_Comm comm, int key, void *value, void *extra) {
    (void)comm; (void)key; (void)value; (void)extra;
    char message[2048];
    torus_swift_drain_all();   /* the library's last requests, which free communicators */
    pthread_mutex_lock(&states_lock);
    for (torus_state *s = states.next; s != &states; s = s->next)
        if (settle(s, 1, message, sizeof message) == 1) torus_swift_detach(s->swift);
    pthread_mutex_unlock(&states_lock);
    return MPI_SUCCESS;
}

/* ---------- the ranks' settings agree ---------- */

/* Communicators whose ranks have compared their settings (an attribute; MPI_Comm_dup does not copy
 * it), and the last few of them, so that a program calling on a few communicators in turn (data-,
 * tensor- and pipeline-parallel groups) pays a few comparisons per call, not MPI_Finalized and
 * MPI_Comm_get_attr (about 50 ns here under MPI_THREAD_MULTIPLE). The attribute's delete callback
 * (MPI_Comm_free) forgets a freed one, whose handle MPI may give to a new communicator. */
#define AGREED_RECENT 8
static int agreed_keyval = MPI_KEYVAL_INVALID;
static char agreed_mark;
static _Atomic(MPI_Comm) agreed_recent[AGREED_RECENT];
static atomic_uint agreed_next;

static int forget_agreed(MPI_Comm comm, int key, void *value, void *extra) {
    (void)key; (void)value; (void)extra;
    for (int i = 0; i < AGREED_RECENT; i++) {
        MPI_Comm expected = comm;
        atomic_compare_exchange_strong(&agreed_recent[i], &expected, MPI_COMM_NULL);
    }
    return MPI_SUCCESS;
}

/* Before a communicator's first call goes anywhere: its ranks compare the TORUS_ settings that
 * decide where calls go and which collectives a rank joins (TORUS_MIN_BYTES, TORUS_ALGORITHM,
 * TORUS_CHECK, ...: SharedSettings in Swift), in one MPI_Iallreduce under the stall watch. Set
 * differently on some ranks they would send one rank's call to MPI and another's to the library,
 * and leave both waiting; so every rank reports the difference and calls the communicator's error
 * handler instead. Every rank makes the same first call on a communicator, so all of them compare. Intercommunicators and
 * communicators of one rank are not compared (the library never takes their calls). Called by the
 * blocking calls (MPI_Allreduce, MPI_Reduce_scatter_block, MPI_Allgather and their C API and
 * Fortran forms); the library's state (torus_swift_attach) compares them again on its private copy. */
int settings_agree(MPI_Comm comm) {
    if (comm == MPI_COMM_NULL) return MPI_SUCCESS;
    for (int i = 0; i < AGREED_RECENT; i++)
        if (comm == atomic_load_explicit(&agreed_recent[i], memory_order_relaxed)) return MPI_SUCCESS;
    void *value = NULL;
    int flag = 0, finalized = 0;
    PMPI_Finalized(&finalized);
    if (finalized || PMPI_Comm_get_attr(comm, agreed_keyval, &value, &flag) != MPI_SUCCESS) return MPI_SUCCESS; /* MPI judges the call */
    if (!flag) {
        int inter = 0, size = 0;
        if (PMPI_Comm_test_inter(comm, &inter) != MPI_SUCCESS || PMPI_Comm_size(comm, &size) != MPI_SUCCESS) return MPI_SUCCESS;
        char message[4096];
        if (!inter && size > 1) await_copy(comm);
        if (!inter && size > 1 && torus_swift_agree(comm, message, sizeof message) != 0) {
            int rank = -1;
            PMPI_Comm_rank(comm, &rank);
            fprintf(stderr, "torus_mpi: rank %d: %s\n", rank, message);
            fflush(stderr);
            PMPI_Comm_call_errhandler(comm, MPI_ERR_OTHER);
            return MPI_ERR_OTHER;
        }
        PMPI_Comm_set_attr(comm, agreed_keyval, &agreed_mark);
    }
    unsigned slot = atomic_fetch_add_explicit(&agreed_next, 1, memory_order_relaxed) % AGREED_RECENT;
    atomic_store_explicit(&agreed_recent[slot], comm, memory_order_relaxed);
    return MPI_SUCCESS;
}

static void stop(const char *message) {
    fprintf(stderr, "torus_mpi: %s\n", message);
    fflush(stderr);
    PMPI_Abort(MPI_COMM_WORLD, 1);
}

static void configure(void) {
    char message[2048];
    uint16_t takes[TORUS_TYPE_CODES] = {0};
    if (torus_swift_configure(&min_bytes, &reduce_scatter_min_bytes, &pass_through, &verbose, takes, message, sizeof message) != 0) {
        stop(message);
        return;
    }
    MPI_Op predefined[TORUS_OP_CODES] = {
        [TORUS_SUM] = MPI_SUM, [TORUS_PROD] = MPI_PROD, [TORUS_MIN] = MPI_MIN, [TORUS_MAX] = MPI_MAX,
        [TORUS_BAND] = MPI_BAND, [TORUS_BOR] = MPI_BOR, [TORUS_BXOR] = MPI_BXOR,
        [TORUS_LAND] = MPI_LAND, [TORUS_LOR] = MPI_LOR, [TORUS_LXOR] = MPI_LXOR,
    };
    memcpy(ops, predefined, sizeof ops);
    /* Swift has validated TORUS_CHECK (0 or 1) in torus_swift_configure. */
    const char *check = getenv("TORUS_CHECK");
    check_calls = check != NULL && strcmp(check, "1") == 0;
    const char *nans = getenv("TORUS_NAN_CHECK");
    nan_check = nans != NULL && strcmp(nans, "1") == 0;
    /* C floating point and integer types, then the fixed-width ones, bool and byte, then Fortran's. */
    add_type(MPI_FLOAT, CLASS_FLOAT, 0, takes);
    add_type(MPI_DOUBLE, CLASS_FLOAT, 0, takes);
    add_type(MPI_INT, CLASS_C_INTEGER, 0, takes);
    add_type(MPI_REAL, CLASS_FLOAT, 0, takes);
    add_type(MPI_DOUBLE_PRECISION, CLASS_FLOAT, 0, takes);
    add_type(MPI_INTEGER, CLASS_FORTRAN_INTEGER, 0, takes);
    add_type(MPI_LONG, CLASS_C_INTEGER, 0, takes);
    add_type(MPI_UNSIGNED, CLASS_C_INTEGER, 1, takes);
    add_type(MPI_UNSIGNED_LONG, CLASS_C_INTEGER, 1, takes);
    add_type(MPI_LONG_LONG_INT, CLASS_C_INTEGER, 0, takes);
    add_type(MPI_UNSIGNED_LONG_LONG, CLASS_C_INTEGER, 1, takes);
    add_type(MPI_SHORT, CLASS_C_INTEGER, 0, takes);
    add_type(MPI_UNSIGNED_SHORT, CLASS_C_INTEGER, 1, takes);
    add_type(MPI_SIGNED_CHAR, CLASS_C_INTEGER, 0, takes);
    add_type(MPI_UNSIGNED_CHAR, CLASS_C_INTEGER, 1, takes);
    add_type(MPI_INT8_T, CLASS_C_INTEGER, 0, takes);
    add_type(MPI_INT16_T, CLASS_C_INTEGER, 0, takes);
    add_type(MPI_INT32_T, CLASS_C_INTEGER, 0, takes);
    add_type(MPI_INT64_T, CLASS_C_INTEGER, 0, takes);
    add_type(MPI_UINT8_T, CLASS_C_INTEGER, 1, takes);
    add_type(MPI_UINT16_T, CLASS_C_INTEGER, 1, takes);
    add_type(MPI_UINT32_T, CLASS_C_INTEGER, 1, takes);
    add_type(MPI_UINT64_T, CLASS_C_INTEGER, 1, takes);
    add_type(MPI_C_BOOL, CLASS_LOGICAL, 0, takes);
    add_type(MPI_CXX_BOOL, CLASS_LOGICAL, 0, takes);
    add_type(MPI_BYTE, CLASS_BYTE, 0, takes);
    add_type(MPI_REAL4, CLASS_FLOAT, 0, takes);
    add_type(MPI_REAL8, CLASS_FLOAT, 0, takes);
    add_type(MPI_INTEGER1, CLASS_FORTRAN_INTEGER, 0, takes);
    add_type(MPI_INTEGER2, CLASS_FORTRAN_INTEGER, 0, takes);
    add_type(MPI_INTEGER4, CLASS_FORTRAN_INTEGER, 0, takes);
    add_type(MPI_INTEGER8, CLASS_FORTRAN_INTEGER, 0, takes);
    if (PMPI_Comm_create_keyval(MPI_COMM_NULL_COPY_FN, delete_state, &keyval, NULL) != MPI_SUCCESS ||
        PMPI_Comm_create_keyval(MPI_COMM_NULL_COPY_FN, forget_agreed, &agreed_keyval, NULL) != MPI_SUCCESS ||
        PMPI_Comm_create_keyval(MPI_COMM_NULL_COPY_FN, finalize_hook, &self_keyval, NULL) != MPI_SUCCESS ||
        PMPI_Comm_set_attr(MPI_COMM_SELF, self_keyval, NULL) != MPI_SUCCESS) {
        stop("could not create the communicator attribute that holds the library's state (MPI_Comm_create_keyval)");
        return;
    }
    atomic_store_explicit(&configured, 1, memory_order_release);
}

/* ---------- the decision ---------- */

/* A call the library passes on, and why (printed at TORUS_VERBOSE=2 by rank 0 of the communicator). */
static int pass(const void *sendbuf, void *recvbuf, int count, MPI_Datatype datatype, MPI_Op op, MPI_Comm comm,
                const char *why) {
    atomic_fetch_add_explicit(&calls_passed, 1, memory_order_relaxed);
    if (__builtin_expect(verbose >= 2, 0) && comm != MPI_COMM_NULL) {
        int rank = -1, size = 0;
        if (PMPI_Comm_rank(comm, &rank) == MPI_SUCCESS && rank == 0) {
            PMPI_Comm_size(comm, &size);
            fprintf(stderr, "torus_mpi: MPI_Allreduce of %d elements on %d ranks: PMPI_Allreduce (%s)\n", count, size, why);
        }
    }
    return PMPI_Allreduce(sendbuf, recvbuf, count, datatype, op, comm);
}

int ensure_configured(void) {
    if (__builtin_expect(atomic_load_explicit(&configured, memory_order_acquire), 1)) return 1;
    int initialized = 0, finalized = 0;
    PMPI_Initialized(&initialized);
    PMPI_Finalized(&finalized);
    if (!initialized || finalized) return 0;
    pthread_once(&configure_once, configure);
    return atomic_load_explicit(&configured, memory_order_acquire);
}

/* The table's entry of a datatype, or NULL if the library does not know it. */
const type_entry *type_of(MPI_Datatype datatype) {
    for (int i = 0; i < type_count; i++)
        if (types[i].handle == datatype) return &types[i];
    return NULL;
}

/* The op code of a predefined op the library reduces, or -1. */
int op_code_of(MPI_Op op) {
    for (int i = 0; i < TORUS_OP_CODES; i++)
        if (ops[i] == op) return i;
    return -1;
}

/* Why the library will not take a call of this type, op and size, or NULL if it will; sets *entry and *op_code. */
static const char *refusal(int count, MPI_Datatype datatype, MPI_Op op, const type_entry **entry, int *op_code) {
    if (pass_through) return "TORUS_ALGORITHM=mpi";
    const type_entry *t = type_of(datatype);
    if (t == NULL) return "not a predefined type the library reduces";
    int o = op_code_of(op);
    if (o < 0) return "not a predefined op the library reduces (user op, MINLOC or MAXLOC?)";
    if (!(t->ops >> o & 1)) return "an op the library leaves to MPI for this type";
    if (count <= 0) return "count 0 or negative";
    if ((int64_t)count * t->size < min_bytes) return "below TORUS_MIN_BYTES";
    *entry = t;
    *op_code = o;
    return NULL;
}

/* Why the library will not touch these buffers (arguments MPI must judge), or NULL. */
static const char *buffer_refusal(const void *sendbuf, void *recvbuf, int64_t bytes) {
    if (recvbuf == NULL || recvbuf == MPI_IN_PLACE || sendbuf == NULL) return "buffers MPI must check";
    if (sendbuf != MPI_IN_PLACE) {
        uintptr_t s = (uintptr_t)sendbuf, r = (uintptr_t)recvbuf, n = (uintptr_t)bytes;
        if (s < r + n && r < s + n) return "overlapping buffers";
    }
    return NULL;
}

/* Whether other threads may call MPI (MPI_THREAD_MULTIPLE): only then does the progress thread run
 * a set-up and the requests behind it, else the application's test and wait calls do. */
static int thread_multiple(void) {
    int level = MPI_THREAD_SINGLE;
    return PMPI_Query_thread(&level) == MPI_SUCCESS && level == MPI_THREAD_MULTIPLE;
}

/* A new state of an intracommunicator of two or more ranks: set up now (collective), or, with
 * `nonblocking`, its set-up started (torus_swift_setup_start). NULL and *error on failure. */
static torus_state *make_state(MPI_Comm comm, int nonblocking, int *error) {
    char message[2048];
    void *swift = nonblocking ? torus_swift_setup_start(comm, thread_multiple(), message, sizeof message)
                              : torus_swift_attach(comm, message, sizeof message);
    torus_state *s = swift ? calloc(1, sizeof *s) : NULL;
    if (s == NULL) {
        fprintf(stderr, "torus_mpi: %s\n", swift ? "out of memory" : message);
        if (swift) nonblocking ? torus_swift_setup_release(swift) : torus_swift_release(swift);
        *error = MPI_ERR_OTHER;
        return NULL;
    }
    if (nonblocking) {
        s->pending = swift;
        atomic_fetch_add_explicit(&pending_states, 1, memory_order_relaxed);
    } else {
        s->swift = swift;
    }
    pthread_mutex_lock(&states_lock);
    s->next = states.next;
    s->prev = &states;
    states.next->prev = s;
    states.next = s;
    pthread_mutex_unlock(&states_lock);
    PMPI_Comm_set_attr(comm, keyval, s);
    return s;
}

/* Whether only the settings that route calls refuse this one (TORUS_ALGORITHM=mpi, TORUS_MIN_BYTES):
 * ranks set differently would send it to MPI on some and to the library on others. */
static int refused_by_settings(int count, MPI_Datatype datatype, MPI_Op op) {
    const type_entry *t = type_of(datatype);
    int o = op_code_of(op);
    return t != NULL && o >= 0 && (t->ops >> o & 1) && count > 0 && (pass_through || (int64_t)count * t->size < min_bytes);
}

/* Whether a nonblocking call on `comm` cannot go to MPI on the strength of this rank's settings
 * alone: it is the first that could go either way, and no blocking call has compared the ranks'
 * settings on it (settings_agree). Only the first: whether a set-up is still under way differs
 * between ranks (each finishes it in its own time), so later calls must not be routed by it —
 * ranks would start the same call on different communicators. */
static int unsettled(MPI_Comm comm) {
    void *value = NULL;
    int flag = 0;
    if (PMPI_Comm_get_attr(comm, keyval, &value, &flag) != MPI_SUCCESS || flag) return 0;
    return PMPI_Comm_get_attr(comm, agreed_keyval, &value, &flag) == MPI_SUCCESS && !flag;
}

/* Open MPI 4.1 corrupts memory when one thread progresses a communicator's pending MPI_Comm_idup
 * while another starts a nonblocking collective on that communicator (an idup, then at once an
 * MPI_Iallreduce of 400 KB on the same communicator, another thread testing the idup: 3 of 3 runs
 * crashed, np=3; with one thread, or a blocking collective instead, none did). The set-up of a
 * communicator whose first call was nonblocking copies it with MPI_Comm_idup, which the progress
 * thread tests; so before a nonblocking collective on it starts (a call passed to PMPI_Iallreduce,
 * the settings' comparison of a first blocking call, and the application's other nonblocking
 * collectives, dropin_copy_guard.c), this waits for that copy. It never waits for long: every rank started the idup (it was their first
 * call on the communicator), and every rank's progress thread completes it. Then it swaps in the
 * state if the set-up is over (settle, without waiting), so that once every set-up is, calls
 * passed to MPI skip this look at the state. */
void await_copy(MPI_Comm comm) {
    if (atomic_load_explicit(&pending_states, memory_order_relaxed) == 0) return;
    void *value = NULL;
    int flag = 0;
    if (comm == MPI_COMM_NULL || PMPI_Comm_get_attr(comm, keyval, &value, &flag) != MPI_SUCCESS || !flag || value == &not_ours) return;
    torus_state *s = value;
    if (s->pending == NULL) return;
    torus_swift_setup_await_copy(s->pending);
    char message[2048];
    settle(s, 0, message, sizeof message);   /* a failed set-up is reported by the calls it fails */
}

/* The state of a communicator, made on first use: NULL if the library never takes its calls.
 * `nonblocking` (a nonblocking call): it never waits for other ranks — a first call starts the
 * set-up, and the state may still be pending (s->pending) — else it waits for a set-up under way
 * (NULL and *error if that failed). */
static torus_state *state_for(MPI_Comm comm, int nonblocking, int *error) {
    void *value = NULL;
    int flag = 0;
    *error = MPI_SUCCESS;
    if (PMPI_Comm_get_attr(comm, keyval, &value, &flag) != MPI_SUCCESS) return NULL;
    if (flag) {
        if (value == &not_ours) return NULL;
        torus_state *s = value;
        char message[2048];
        if (s->pending && settle(s, !nonblocking, message, sizeof message) < 0) {
            fprintf(stderr, "torus_mpi: %s\n", message);
            *error = MPI_ERR_OTHER;
            return NULL;
        }
        return s;
    }
    int inter = 0, size = 0;
    if (PMPI_Comm_test_inter(comm, &inter) != MPI_SUCCESS || PMPI_Comm_size(comm, &size) != MPI_SUCCESS) return NULL;
    if (inter || size < 2) {
        PMPI_Comm_set_attr(comm, keyval, &not_ours);
        return NULL;
    }
    return make_state(comm, nonblocking, error);
}

torus_state *state_of(MPI_Comm comm, int *error) { return state_for(comm, 0, error); }

/* The library's decision for a call: NULL and the state, type and op when it takes the call; else
 * why not (the call goes to MPI). *error is set when making the state failed: the failure is
 * reported and the communicator's error handler called. */
static const char *decide(const void *sendbuf, void *recvbuf, int count, MPI_Datatype datatype, MPI_Op op, MPI_Comm comm,
                          int nonblocking, torus_state **state, const type_entry **t, int *o, int *error) {
    *error = MPI_SUCCESS;
    if (!ensure_configured()) return "MPI not initialised";
    const char *why = refusal(count, datatype, op, t, o);
    if (why == NULL) why = buffer_refusal(sendbuf, recvbuf, (int64_t)count * (*t)->size);
    if (why == NULL && comm == MPI_COMM_NULL) why = "MPI_COMM_NULL";
    if (why) return why;
    int finalized = 0;
    PMPI_Finalized(&finalized);
    if (finalized) return "MPI finalised";
    *state = state_for(comm, nonblocking, error);
    if (*error != MPI_SUCCESS) {
        PMPI_Comm_call_errhandler(comm, *error);
        return "the library's state could not be made";
    }
    return *state ? NULL : "not an intracommunicator of two or more ranks";
}

/* TORUS_CHECK=1: one PMPI_Allgather of every rank's (count, type, op, path, in place) on the
 * caller's communicator, before the call goes to MPI or to the library, so that ranks that would
 * take different paths (a count on the other side of the threshold, an op one path leaves to MPI)
 * fail together with a message instead of hanging or returning different answers. */
/* A call's record (the same for blocking and nonblocking calls): count, type code or -1, op code or
 * -1, path (-1 MPI, -2 the library), in place. */
static void call_record(const void *sendbuf, void *recvbuf, int count, MPI_Datatype datatype, MPI_Op op, int64_t record[5]) {
    const type_entry *t = NULL;
    int o = -1;
    const char *why = refusal(count, datatype, op, &t, &o);
    const type_entry *known = type_of(datatype);
    record[0] = count;
    record[1] = known ? known->code : -1;
    record[2] = op_code_of(op);
    record[3] = why ? -1 : -2;
    record[4] = sendbuf == MPI_IN_PLACE || sendbuf == recvbuf;
}

static int agree(const void *sendbuf, void *recvbuf, int count, MPI_Datatype datatype, MPI_Op op, MPI_Comm comm) {
    int inter = 0, size = 0, rank = 0;
    if (comm == MPI_COMM_NULL || PMPI_Comm_test_inter(comm, &inter) != MPI_SUCCESS || inter) return MPI_SUCCESS;
    if (PMPI_Comm_size(comm, &size) != MPI_SUCCESS || size < 2 || PMPI_Comm_rank(comm, &rank) != MPI_SUCCESS) return MPI_SUCCESS;
    int64_t mine[5];
    call_record(sendbuf, recvbuf, count, datatype, op, mine);
    int64_t *all = malloc(sizeof mine * (size_t)size);
    if (all == NULL) return MPI_SUCCESS;
    int error = PMPI_Allgather(mine, 5, MPI_INT64_T, all, 5, MPI_INT64_T, comm);
    char message[2048];
    if (error == MPI_SUCCESS && torus_swift_check_records(all, size, rank, "AllReduce", message, sizeof message) != 0) {
        fprintf(stderr, "torus_mpi: rank %d: %s\n", rank, message);
        error = MPI_ERR_ARG;
    }
    free(all);
    if (error != MPI_SUCCESS) PMPI_Comm_call_errhandler(comm, error);
    return error;
}

static int allreduce_checked(const void *sendbuf, void *recvbuf, int count, MPI_Datatype datatype, MPI_Op op,
                             MPI_Comm comm);

/* The element type code of a floating-point MPI type the library knows, else -1. */
int float_code(MPI_Datatype datatype) {
    const type_entry *t = type_of(datatype);
    if (t == NULL) return -1;
    return t->code == TORUS_F32 || t->code == TORUS_F64 || t->code == TORUS_F16 || t->code == TORUS_BF16 ? t->code : -1;
}

static int dropin_allreduce(const void *sendbuf, void *recvbuf, int count, MPI_Datatype datatype, MPI_Op op,
                            MPI_Comm comm) {
    if (ensure_configured()) {
        int error = settings_agree(comm);
        if (error == MPI_SUCCESS && check_calls) error = agree(sendbuf, recvbuf, count, datatype, op, comm);
        if (error != MPI_SUCCESS) return error;
    }
    int code = nan_check && count > 0 ? float_code(datatype) : -1;
    if (code < 0) return allreduce_checked(sendbuf, recvbuf, count, datatype, op, comm);
    /* TORUS_NAN_CHECK: the input, then the result of a call that succeeded. */
    int rank = -1;
    PMPI_Comm_rank(comm, &rank);
    long long call = atomic_fetch_add(&nan_calls, 1) + 1;
    torus_swift_nan_scan(code, sendbuf == MPI_IN_PLACE ? recvbuf : sendbuf, count, rank, call, "input", "MPI_Allreduce");
    int error = allreduce_checked(sendbuf, recvbuf, count, datatype, op, comm);
    if (error == MPI_SUCCESS) torus_swift_nan_scan(code, recvbuf, count, rank, call, "result", "MPI_Allreduce");
    return error;
}

static int allreduce_checked(const void *sendbuf, void *recvbuf, int count, MPI_Datatype datatype, MPI_Op op,
                             MPI_Comm comm) {
    torus_state *s = NULL;
    const type_entry *t = NULL;
    int o = 0, error = MPI_SUCCESS;
    const char *why = decide(sendbuf, recvbuf, count, datatype, op, comm, 0, &s, &t, &o, &error);
    if (error != MPI_SUCCESS) return error;
    if (why) return pass(sendbuf, recvbuf, count, datatype, op, comm, why);
    atomic_fetch_add_explicit(&calls_taken, 1, memory_order_relaxed);
    char message[2048];
    if (torus_swift_allreduce(s->swift, sendbuf == MPI_IN_PLACE ? NULL : sendbuf, recvbuf, count, t->code, o, message,
                              sizeof message) != 0) {
        int rank = -1;
        PMPI_Comm_rank(comm, &rank);
        fprintf(stderr, "torus_mpi: rank %d: %s\n", rank, message);
        PMPI_Comm_call_errhandler(comm, MPI_ERR_OTHER);
        return MPI_ERR_OTHER;
    }
    return MPI_SUCCESS;
}

/* ---------- entry points ---------- */

int MPI_Allreduce(const void *sendbuf, void *recvbuf, int count, MPI_Datatype datatype, MPI_Op op, MPI_Comm comm) {
    return dropin_allreduce(sendbuf, recvbuf, count, datatype, op, comm);
}

int torus_allreduce(const void *sendbuf, void *recvbuf, int count, MPI_Datatype datatype, MPI_Op op, MPI_Comm comm) {
    return dropin_allreduce(sendbuf, recvbuf, count, datatype, op, comm);
}

int torus_allreduce_route(MPI_Comm comm, int count, MPI_Datatype datatype, MPI_Op op, char *route, int length) {
    if (route == NULL || length <= 0) return MPI_ERR_ARG;
    route[0] = 0;
    if (!ensure_configured()) {
        snprintf(route, (size_t)length, "mpi (MPI not initialised)");
        return MPI_SUCCESS;
    }
    const type_entry *t = NULL;
    int o = 0, error = MPI_SUCCESS;
    const char *why = refusal(count, datatype, op, &t, &o);
    if (why == NULL && comm == MPI_COMM_NULL) why = "MPI_COMM_NULL";
    if (why) {
        snprintf(route, (size_t)length, "mpi (%s)", why);
        return MPI_SUCCESS;
    }
    torus_state *s = state_of(comm, &error);
    if (error != MPI_SUCCESS) return error;
    if (s == NULL) {
        snprintf(route, (size_t)length, "mpi (not an intracommunicator of two or more ranks)");
        return MPI_SUCCESS;
    }
    torus_swift_route(s->swift, count, t->code, route, length);
    return MPI_SUCCESS;
}

/* ---------- nonblocking ---------- */

struct torus_request_s {
    MPI_Request mpi;   /* a call left to PMPI_Iallreduce */
    void *swift;       /* or the library's request */
};

/* How the library runs a nonblocking call: NULL and *state when it runs the call as a request of
 * its own — a call it takes (*pass 0), or, under TORUS_CHECK or TORUS_NAN_CHECK, a call it passes
 * to MPI (*pass 1: MPI_Iallreduce on its private communicator, started once the ranks agree, and
 * the result scanned when over) — else why the call goes to PMPI_Iallreduce unchecked. The state
 * of a communicator's first such call is set up without waiting for the other ranks (state_for's
 * `nonblocking`; the request runs when the set-up is over), since a correct program may start its
 * first requests on two communicators in different orders.
 * A communicator's first call that only this rank's settings send to MPI (below its
 * TORUS_MIN_BYTES, under TORUS_ALGORITHM=mpi), where no blocking call has compared the settings
 * (`unsettled`), is passed the same way: it makes the state, and runs behind the set-up, which
 * compares the settings; another rank set differently would take it, and the two would start
 * different collectives on the communicator (a hang). With the settings alike it then runs as
 * MPI_Iallreduce on the private copy; with them different every rank's request fails with the
 * difference. */
static const char *decide_nonblocking(const void *sendbuf, void *recvbuf, int count, MPI_Datatype datatype, MPI_Op op,
                                      MPI_Comm comm, torus_state **state, const type_entry **t, int *o, int *pass,
                                      int *error) {
    *pass = 0;
    const char *why = decide(sendbuf, recvbuf, count, datatype, op, comm, 1, state, t, o, error);
    if (why == NULL || *error != MPI_SUCCESS || count < 0 || comm == MPI_COMM_NULL) return why;
    if (!(check_calls || nan_check) && !(refused_by_settings(count, datatype, op) && unsettled(comm))) return why;
    const type_entry *tt = NULL;
    int oo = 0;
    if (refusal(count, datatype, op, &tt, &oo) == NULL) return why;   /* buffers or state: MPI judges */
    if (recvbuf == NULL || recvbuf == MPI_IN_PLACE || sendbuf == NULL) return why;
    int finalized = 0;
    PMPI_Finalized(&finalized);
    if (finalized) return why;
    *state = state_for(comm, 1, error);
    if (*state == NULL || *error != MPI_SUCCESS) {
        if (*error != MPI_SUCCESS) PMPI_Comm_call_errhandler(comm, *error);
        return why;
    }
    *pass = 1;
    return NULL;
}

/* TORUS_NAN_CHECK: scans a nonblocking call's input now; the float type code whose result its
 * request scans when over (-1: none), and the call's number in *call. */
static int nan_scan_input(const void *sendbuf, void *recvbuf, int count, MPI_Datatype datatype, MPI_Comm comm, int *rank,
                          long long *call) {
    *rank = -1;
    *call = 0;
    int code = nan_check && count > 0 && comm != MPI_COMM_NULL && recvbuf != NULL ? float_code(datatype) : -1;
    if (code < 0) return -1;
    PMPI_Comm_rank(comm, rank);
    *call = atomic_fetch_add(&nan_calls, 1) + 1;
    torus_swift_nan_scan(code, sendbuf == MPI_IN_PLACE ? recvbuf : sendbuf, count, *rank, *call, "input", "MPI_Iallreduce");
    return code;
}

/* Starts the library's request of a nonblocking call (decide_nonblocking gave NULL); `grequest`
 * non-NULL: the MPI generalized request it completes. NULL and a message on failure. */
static void *start_request(torus_state *s, const type_entry *t, int o, int pass, const void *sendbuf, void *recvbuf, int count,
                           MPI_Datatype datatype, MPI_Op op, MPI_Comm comm, int nan_code, int rank, long long call,
                           MPI_Request *grequest, char *message, int length) {
    int64_t record[5];
    if (check_calls) call_record(sendbuf, recvbuf, count, datatype, op, record);
    const void *input = sendbuf == MPI_IN_PLACE ? NULL : sendbuf;
    if (pass) {
        atomic_fetch_add_explicit(&calls_passed, 1, memory_order_relaxed);
        return torus_swift_ipass(s->swift, s->pending, input, recvbuf, count, datatype, op, check_calls ? record : NULL, nan_code, rank, call,
                                 grequest, message, length);
    }
    atomic_fetch_add_explicit(&calls_taken, 1, memory_order_relaxed);
    return torus_swift_iallreduce(s->swift, s->pending, input, recvbuf, count, t->code, o, check_calls ? record : NULL, nan_code, rank, call,
                                  grequest, message, length);
}

int torus_iallreduce(const void *sendbuf, void *recvbuf, int count, MPI_Datatype datatype, MPI_Op op, MPI_Comm comm,
                     torus_request *request) {
    if (request == NULL) return MPI_ERR_ARG;
    *request = NULL;
    struct torus_request_s *r = calloc(1, sizeof *r);
    if (r == NULL) return MPI_ERR_NO_MEM;
    r->mpi = MPI_REQUEST_NULL;
    torus_state *s = NULL;
    const type_entry *t = NULL;
    int o = 0, pass = 0, error = MPI_SUCCESS, rc = MPI_SUCCESS, rank = -1;
    long long call = 0;
    const char *why = decide_nonblocking(sendbuf, recvbuf, count, datatype, op, comm, &s, &t, &o, &pass, &error);
    char message[2048];
    if (error != MPI_SUCCESS) {
        rc = error;
    } else {
        int nan_code = nan_scan_input(sendbuf, recvbuf, count, datatype, comm, &rank, &call);
        if (why) {
            atomic_fetch_add_explicit(&calls_passed, 1, memory_order_relaxed);
            await_copy(comm);
            rc = PMPI_Iallreduce(sendbuf, recvbuf, count, datatype, op, comm, &r->mpi);
        } else {
            r->swift = start_request(s, t, o, pass, sendbuf, recvbuf, count, datatype, op, comm, nan_code, rank, call, NULL,
                                     message, sizeof message);
            if (r->swift == NULL) {
                fprintf(stderr, "torus_mpi: %s\n", message);
                PMPI_Comm_call_errhandler(comm, MPI_ERR_OTHER);
                rc = MPI_ERR_OTHER;
            }
        }
    }
    if (rc != MPI_SUCCESS) free(r);
    else *request = r;
    return rc;
}

/* MPI_Iallreduce: taken under the same rules, and only under MPI_THREAD_MULTIPLE, as an MPI
 * generalized request that the progress thread completes (below that level nothing would
 * progress it inside the application's MPI_Wait: such calls go to PMPI_Iallreduce). */
typedef struct {
    void *swift;
} grequest_state;

static int grequest_query(void *extra, MPI_Status *status) {
    grequest_state *g = extra;
    int failed = g->swift ? torus_swift_request_failed(g->swift) : 0;
    PMPI_Status_set_elements(status, MPI_BYTE, 0);
    PMPI_Status_set_cancelled(status, 0);
    status->MPI_SOURCE = MPI_UNDEFINED;
    status->MPI_TAG = MPI_UNDEFINED;
    status->MPI_ERROR = failed ? MPI_ERR_OTHER : MPI_SUCCESS;
    return status->MPI_ERROR;
}

static int grequest_free(void *extra) {
    grequest_state *g = extra;
    if (g->swift) torus_swift_request_release(g->swift);
    free(g);
    return MPI_SUCCESS;
}

static int grequest_cancel(void *extra, int complete) {
    (void)extra; (void)complete;
    return MPI_SUCCESS;   /* a collective under way cannot be withdrawn: it completes */
}

/* Says once, on rank 0 of the communicator, that the checks skip MPI_Iallreduce below MPI_THREAD_MULTIPLE. */
static void note_unchecked(MPI_Comm comm) {
    static atomic_int noted;
    int rank = -1;
    if (!(check_calls || nan_check) || comm == MPI_COMM_NULL || PMPI_Comm_rank(comm, &rank) != MPI_SUCCESS || rank != 0) return;
    if (atomic_exchange(&noted, 1)) return;
    fprintf(stderr, "torus_mpi: TORUS_CHECK and TORUS_NAN_CHECK check MPI_Iallreduce only under MPI_THREAD_MULTIPLE (the "
                    "agreement and the result's scan run on the library's progress thread); below it MPI_Iallreduce goes to "
                    "PMPI_Iallreduce with only its input scanned. Initialise MPI with MPI_Init_thread(..., MPI_THREAD_MULTIPLE, ...) "
                    "to check these calls\n");
}

int MPI_Iallreduce(const void *sendbuf, void *recvbuf, int count, MPI_Datatype datatype, MPI_Op op, MPI_Comm comm,
                   MPI_Request *request) {
    int level = MPI_THREAD_SINGLE, rank = -1;
    long long call = 0;
    if (!ensure_configured() || request == NULL || PMPI_Query_thread(&level) != MPI_SUCCESS || level != MPI_THREAD_MULTIPLE) {
        if (request != NULL && atomic_load_explicit(&configured, memory_order_acquire)) {
            note_unchecked(comm);
            nan_scan_input(sendbuf, recvbuf, count, datatype, comm, &rank, &call);
        }
        atomic_fetch_add_explicit(&calls_passed, 1, memory_order_relaxed);
        return PMPI_Iallreduce(sendbuf, recvbuf, count, datatype, op, comm, request);
    }
    torus_state *s = NULL;
    const type_entry *t = NULL;
    /* No settings_agree here, a blocking exchange: a nonblocking call must not wait for other ranks
     * (a correct program may start requests on two communicators in different orders). A call the
     * library takes compares them when it sets up its state (in the set-up's rounds when this is
     * the communicator's first: decide_nonblocking). */
    int o = 0, pass = 0, error = MPI_SUCCESS;
    const char *why = decide_nonblocking(sendbuf, recvbuf, count, datatype, op, comm, &s, &t, &o, &pass, &error);
    if (error != MPI_SUCCESS) return error;
    int nan_code = nan_scan_input(sendbuf, recvbuf, count, datatype, comm, &rank, &call);
    grequest_state *g = why ? NULL : calloc(1, sizeof *g);
    if (g == NULL) {
        atomic_fetch_add_explicit(&calls_passed, 1, memory_order_relaxed);
        await_copy(comm);
        return PMPI_Iallreduce(sendbuf, recvbuf, count, datatype, op, comm, request);
    }
    int rc = PMPI_Grequest_start(grequest_query, grequest_free, grequest_cancel, g, request);
    if (rc != MPI_SUCCESS) {
        free(g);
        return rc;
    }
    char message[2048];
    g->swift = start_request(s, t, o, pass, sendbuf, recvbuf, count, datatype, op, comm, nan_code, rank, call, request, message,
                             sizeof message);
    if (g->swift == NULL) {
        fprintf(stderr, "torus_mpi: %s\n", message);
        PMPI_Grequest_complete(*request);   /* the query reports the failure */
        PMPI_Comm_call_errhandler(comm, MPI_ERR_OTHER);
        return MPI_ERR_OTHER;
    }
    return MPI_SUCCESS;
}

static int request_progress(torus_request *request, int wait, int *flag) {
    if (request == NULL) return MPI_ERR_ARG;
    struct torus_request_s *r = *request;
    if (flag) *flag = 1;
    if (r == NULL) return MPI_SUCCESS;   /* a completed request, as MPI_REQUEST_NULL */
    int rc = MPI_SUCCESS, over = 1;
    if (r->swift == NULL) {
        if (wait) rc = PMPI_Wait(&r->mpi, MPI_STATUS_IGNORE);
        else rc = PMPI_Test(&r->mpi, &over, MPI_STATUS_IGNORE);
    } else {
        char message[2048];
        over = torus_swift_request_progress(r->swift, wait, message, sizeof message);
        if (over < 0) {
            fprintf(stderr, "torus_mpi: %s\n", message);
            rc = MPI_ERR_OTHER;
            over = 1;
        }
    }
    if (flag) *flag = over;
    if (over) {
        free(r);
        *request = NULL;
    }
    return rc;
}

int torus_test(torus_request *request, int *flag) {
    if (flag == NULL) return MPI_ERR_ARG;
    return request_progress(request, 0, flag);
}

int torus_wait(torus_request *request) { return request_progress(request, 1, NULL); }

void torus_call_counts(long long *taken, long long *passed) {
    if (taken) *taken = atomic_load(&calls_taken);
    if (passed) *passed = atomic_load(&calls_passed);
}

/* Fortran (mpif.h, `use mpi`, and `use mpi_f08`, whose MPI_Allreduce calls ompi_allreduce_f in
 * Open MPI): Open MPI's own Fortran bindings call PMPI_Allreduce directly, so they are replaced
 * here. Handles are converted with the f2c functions; MPI_IN_PLACE and MPI_BOTTOM are Fortran
 * common-block addresses. */
extern int mpi_fortran_in_place_ __attribute__((weak));
extern int mpi_fortran_in_place __attribute__((weak));
extern int mpi_fortran_in_place__ __attribute__((weak));
extern int MPI_FORTRAN_IN_PLACE __attribute__((weak));
extern int mpi_fortran_bottom_ __attribute__((weak));
extern int mpi_fortran_bottom __attribute__((weak));
extern int mpi_fortran_bottom__ __attribute__((weak));
extern int MPI_FORTRAN_BOTTOM __attribute__((weak));

void *fortran_buffer(void *address) {
    if (address == NULL) return address;
    if (address == &mpi_fortran_in_place_ || address == &mpi_fortran_in_place || address == &mpi_fortran_in_place__ ||
        address == &MPI_FORTRAN_IN_PLACE)
        return MPI_IN_PLACE;
    if (address == &mpi_fortran_bottom_ || address == &mpi_fortran_bottom || address == &mpi_fortran_bottom__ ||
        address == &MPI_FORTRAN_BOTTOM)
        return MPI_BOTTOM;
    return address;
}

void torus_fortran_allreduce(char *sendbuf, char *recvbuf, MPI_Fint *count, MPI_Fint *datatype, MPI_Fint *op,
                             MPI_Fint *comm, MPI_Fint *ierr) {
    int rc = dropin_allreduce(fortran_buffer(sendbuf), fortran_buffer(recvbuf), (int)*count, PMPI_Type_f2c(*datatype),
                              PMPI_Op_f2c(*op), PMPI_Comm_f2c(*comm));
    if (ierr) *ierr = (MPI_Fint)rc;
}

#define FORTRAN_ALIAS(name)                                                                                  \
    void name(char *, char *, MPI_Fint *, MPI_Fint *, MPI_Fint *, MPI_Fint *, MPI_Fint *)                    \
        __attribute__((alias("torus_fortran_allreduce")));
FORTRAN_ALIAS(mpi_allreduce_)
FORTRAN_ALIAS(mpi_allreduce__)
FORTRAN_ALIAS(mpi_allreduce)
FORTRAN_ALIAS(MPI_ALLREDUCE)
FORTRAN_ALIAS(ompi_allreduce_f)
