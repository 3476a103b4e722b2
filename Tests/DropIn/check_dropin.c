/*
 * The drop-in's check program, run by scripts/test-dropin.sh under mpirun, with and without
 * LD_PRELOAD=libtorus_mpi.so. Every C and Fortran type the MPI standard lets a predefined op
 * reduce, times every such op, in place and out of place, counts 0, 1, p-1 and large: MPI_Allreduce
 * (the library, when preloaded) against PMPI_Allreduce, bit for bit, with inputs whose result does
 * not depend on the order of reduction. Then the calls the library must leave to MPI (user op,
 * MAXLOC, a derived type, an intercommunicator, MPI_COMM_SELF, float min/max), an application's
 * pending MPI_Irecv(ANY_SOURCE, ANY_TAG), and, with --cycles N, N split/allreduce/free cycles
 * with the resident memory of the last half compared with the first.
 *
 * When the library is loaded (torus_call_counts is found) each case also checks that the library
 * took the call or passed it on, as expected. Prints "check_dropin: N checks passed" or the
 * failures, and exits non-zero on any failure.
 */
#include <dlfcn.h>
#include <mpi.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int rank, size, failures, checks;
/* What the library should take, from the same environment it reads: TORUS_ALGORITHM=mpi takes
 * nothing; a named algorithm or a calibrated model (TORUS_MODEL) with TORUS_MIN_BYTES unset takes
 * every size (the model may then hand a call to MPI itself); otherwise calls of TORUS_MIN_BYTES
 * bytes or more (a plain number here), 16 MiB when unset (the documented default). */
static int takes_nothing;
static long long min_bytes = 16 << 20;
static void (*call_counts)(long long *, long long *);

#define FAIL(...)                                                                                            \
    do {                                                                                                     \
        failures++;                                                                                          \
        if (failures <= 20) {                                                                                \
            fprintf(stderr, "rank %d: FAIL ", rank);                                                         \
            fprintf(stderr, __VA_ARGS__);                                                                    \
            fprintf(stderr, "\n");                                                                           \
        }                                                                                                    \
    } while (0)

enum kind { FLOAT, SIGNED, UNSIGNED, LOGICAL, BYTE };
typedef struct {
    const char *name;
    MPI_Datatype type;
    enum kind kind;
    int fortran;
} type_case;

typedef struct {
    const char *name;
    MPI_Op op;
} op_case;

/* Ops MPI allows for a kind of type (MPI 3.1 §5.9.2). */
static int allowed(const type_case *t, int o) {
    /* o: 0 sum 1 prod 2 min 3 max 4 band 5 bor 6 bxor 7 land 8 lor 9 lxor */
    switch (t->kind) {
    case FLOAT: return o <= 3;
    case SIGNED:
    case UNSIGNED: return t->fortran ? o <= 6 : 1;
    case LOGICAL: return o >= 7;
    case BYTE: return o >= 4 && o <= 6;
    }
    return 0;
}

/* Whether the library should take the call (when at or above TORUS_MIN_BYTES): everything MPI
 * allows except float min/max and 8- and 16-bit integer sum and product (where Open MPI's answer
 * is not the wrapping one), as the README states. */
static int expect_taken(const type_case *t, int o, int element_size) {
    /* Open MPI 4.1 compares MPI_UNSIGNED_LONG as signed in MIN and MAX: the library's probe of
     * MPI_Reduce_local finds the difference and leaves those calls to MPI (either is right here). */
    if (t->type == MPI_UNSIGNED_LONG && (o == 2 || o == 3)) return -1;
    if (t->kind == FLOAT) return o <= 1;
    if ((t->kind == SIGNED || t->kind == UNSIGNED) && element_size <= 2 && o <= 1) return 0;
    return 1;
}

static uint64_t mix(uint64_t x) {
    x ^= x >> 33; x *= 0xff51afd7ed558ccdULL; x ^= x >> 33; x *= 0xc4ceb9fe1a85ec53ULL; x ^= x >> 33;
    return x;
}

/* Inputs whose reduction does not depend on order: small integers for sums, ±1 and ±2 (few of
 * them) for products, any bits for min, max and bitwise ops, 0/1 or any value for logical ops. */
static void fill(void *buffer, const type_case *t, int element_size, int o, int count, int seed) {
    for (int i = 0; i < count; i++) {
        uint64_t h = mix((uint64_t)seed * 1000003u + (uint64_t)i * 7919u + (uint64_t)o);
        unsigned char *p = (unsigned char *)buffer + (size_t)i * element_size;
        if (t->kind == FLOAT) {
            double v = o == 0 ? (double)((int)(h % 17) - 8) : o == 1 ? ((h % 5 == 0) ? ((h & 8) ? -2.0 : 2.0) : ((h & 16) ? -1.0 : 1.0))
                                                                     : (double)((int64_t)(h % 2001) - 1000) / 8.0;
            if (element_size == 4) { float f = (float)v; memcpy(p, &f, 4); } else memcpy(p, &v, 8);
        } else if (t->kind == LOGICAL) {
            p[0] = (unsigned char)(h % 3 == 0 ? 0 : 1);
        } else {
            uint64_t v = h;
            if (o == 0) v = (uint64_t)((int64_t)(h % 201) - 100);
            if (o == 1) v = (h % 7 == 0) ? (uint64_t)-1 : (h % 5 == 0) ? 2 : 1;
            if (o >= 7) v = (h % 3 == 0) ? 0 : h;
            memcpy(p, &v, (size_t)element_size); /* little-endian: the low bytes */
        }
    }
}

static void counts_now(long long *taken, long long *passed) {
    *taken = *passed = 0;
    if (call_counts) call_counts(taken, passed);
}

/* One call through MPI_Allreduce against PMPI_Allreduce, bit for bit; `expect`: 1 taken, 0 passed, -1 either. */
static void compare(const char *label, const void *input, int count, int element_size, MPI_Datatype type, MPI_Op op,
                    MPI_Comm comm, int in_place, int expect) {
    size_t bytes = (size_t)count * (size_t)element_size;
    unsigned char *ours = malloc(bytes + 1), *theirs = malloc(bytes + 1);
    memcpy(ours, input, bytes);
    memcpy(theirs, input, bytes);
    long long taken0, passed0, taken1, passed1;
    counts_now(&taken0, &passed0);
    int rc = in_place ? MPI_Allreduce(MPI_IN_PLACE, ours, count, type, op, comm)
                      : MPI_Allreduce(input, ours, count, type, op, comm);
    counts_now(&taken1, &passed1);
    int rc_ref = in_place ? PMPI_Allreduce(MPI_IN_PLACE, theirs, count, type, op, comm)
                          : PMPI_Allreduce(input, theirs, count, type, op, comm);
    checks++;
    if (rc != rc_ref) FAIL("%s: MPI_Allreduce returned %d, PMPI_Allreduce %d", label, rc, rc_ref);
    else if (memcmp(ours, theirs, bytes) != 0) {
        size_t i = 0;
        while (ours[i] == theirs[i]) i++;
        FAIL("%s: results differ from PMPI_Allreduce first at element %zu", label, i / (size_t)element_size);
    }
    if (call_counts && expect >= 0) {
        int took = taken1 > taken0;
        if (took != expect) FAIL("%s: the library %s the call, expected it to %s", label, took ? "took" : "passed on",
                                 expect ? "take it" : "pass it on");
    }
    free(ours);
    free(theirs);
}

static void types_and_ops(MPI_Comm comm, int large) {
    type_case types[] = {
        {"MPI_FLOAT", MPI_FLOAT, FLOAT, 0}, {"MPI_DOUBLE", MPI_DOUBLE, FLOAT, 0},
        {"MPI_SIGNED_CHAR", MPI_SIGNED_CHAR, SIGNED, 0}, {"MPI_UNSIGNED_CHAR", MPI_UNSIGNED_CHAR, UNSIGNED, 0},
        {"MPI_SHORT", MPI_SHORT, SIGNED, 0}, {"MPI_UNSIGNED_SHORT", MPI_UNSIGNED_SHORT, UNSIGNED, 0},
        {"MPI_INT", MPI_INT, SIGNED, 0}, {"MPI_UNSIGNED", MPI_UNSIGNED, UNSIGNED, 0},
        {"MPI_LONG", MPI_LONG, SIGNED, 0}, {"MPI_UNSIGNED_LONG", MPI_UNSIGNED_LONG, UNSIGNED, 0},
        {"MPI_LONG_LONG", MPI_LONG_LONG, SIGNED, 0}, {"MPI_UNSIGNED_LONG_LONG", MPI_UNSIGNED_LONG_LONG, UNSIGNED, 0},
        {"MPI_INT8_T", MPI_INT8_T, SIGNED, 0}, {"MPI_INT16_T", MPI_INT16_T, SIGNED, 0},
        {"MPI_INT32_T", MPI_INT32_T, SIGNED, 0}, {"MPI_INT64_T", MPI_INT64_T, SIGNED, 0},
        {"MPI_UINT8_T", MPI_UINT8_T, UNSIGNED, 0}, {"MPI_UINT16_T", MPI_UINT16_T, UNSIGNED, 0},
        {"MPI_UINT32_T", MPI_UINT32_T, UNSIGNED, 0}, {"MPI_UINT64_T", MPI_UINT64_T, UNSIGNED, 0},
        {"MPI_C_BOOL", MPI_C_BOOL, LOGICAL, 0}, {"MPI_CXX_BOOL", MPI_CXX_BOOL, LOGICAL, 0},
        {"MPI_BYTE", MPI_BYTE, BYTE, 0},
        {"MPI_REAL", MPI_REAL, FLOAT, 1}, {"MPI_DOUBLE_PRECISION", MPI_DOUBLE_PRECISION, FLOAT, 1},
        {"MPI_REAL4", MPI_REAL4, FLOAT, 1}, {"MPI_REAL8", MPI_REAL8, FLOAT, 1},
        {"MPI_INTEGER", MPI_INTEGER, SIGNED, 1}, {"MPI_INTEGER1", MPI_INTEGER1, SIGNED, 1},
        {"MPI_INTEGER2", MPI_INTEGER2, SIGNED, 1}, {"MPI_INTEGER4", MPI_INTEGER4, SIGNED, 1},
        {"MPI_INTEGER8", MPI_INTEGER8, SIGNED, 1},
    };
    op_case ops[] = {{"SUM", MPI_SUM}, {"PROD", MPI_PROD}, {"MIN", MPI_MIN}, {"MAX", MPI_MAX}, {"BAND", MPI_BAND},
                     {"BOR", MPI_BOR}, {"BXOR", MPI_BXOR}, {"LAND", MPI_LAND}, {"LOR", MPI_LOR}, {"LXOR", MPI_LXOR}};
    int counts[] = {0, 1, size - 1, large};
    int comm_rank, comm_size;
    MPI_Comm_rank(comm, &comm_rank);
    MPI_Comm_size(comm, &comm_size);
    for (size_t ti = 0; ti < sizeof types / sizeof types[0]; ti++) {
        type_case *t = &types[ti];
        int element_size = 0;
        MPI_Type_size(t->type, &element_size);
        if (element_size <= 0) continue;
        unsigned char *input = malloc((size_t)large * (size_t)element_size + 8);
        for (int o = 0; o < 10; o++) {
            if (!allowed(t, o)) continue;
            for (size_t ci = 0; ci < sizeof counts / sizeof counts[0]; ci++) {
                int count = counts[ci];
                fill(input, t, element_size, o, count, comm_rank + 1);
                for (int in_place = 0; in_place <= 1; in_place++) {
                    char label[200];
                    snprintf(label, sizeof label, "%s %s count %d %s on %d ranks", t->name, ops[o].name, count,
                             in_place ? "in place" : "out of place", comm_size);
                    int expect = count > 0 && comm_size > 1 && !takes_nothing && (long long)count * element_size >= min_bytes
                                     ? expect_taken(t, o, element_size) : 0;
                    compare(label, input, count, element_size, t->type, ops[o].op, comm, in_place, expect);
                }
            }
        }
        free(input);
    }
}

static void user_sum(void *in, void *inout, int *len, MPI_Datatype *type) {
    (void)type;
    for (int i = 0; i < *len; i++) ((int *)inout)[i] += ((int *)in)[i];
}

/* Calls the library must pass to PMPI_Allreduce: each gives PMPI's answer. */
static void fallbacks(int large) {
    int *ints = malloc(sizeof(int) * 2 * (size_t)large);
    float *floats = malloc(sizeof(float) * (size_t)large);
    for (int i = 0; i < 2 * large; i++) ints[i] = (i % 2) ? rank : (int)(mix((uint64_t)(rank * large + i)) % 1000);
    for (int i = 0; i < large; i++) floats[i] = (float)((int)(mix((uint64_t)(rank * 31 + i)) % 2001) - 1000) / 4.0f;

    MPI_Op user;
    MPI_Op_create(user_sum, 1, &user);
    compare("user op", ints, large, sizeof(int), MPI_INT, user, MPI_COMM_WORLD, 0, 0);
    MPI_Op_free(&user);

    compare("MAXLOC on MPI_2INT", ints, large, 2 * sizeof(int), MPI_2INT, MPI_MAXLOC, MPI_COMM_WORLD, 0, 0);
    compare("MINLOC on MPI_2INT in place", ints, large, 2 * sizeof(int), MPI_2INT, MPI_MINLOC, MPI_COMM_WORLD, 1, 0);

    MPI_Datatype four;
    MPI_Type_contiguous(4, MPI_FLOAT, &four);
    MPI_Type_commit(&four);
    compare("derived type (4 contiguous floats)", floats, large / 4, 4 * sizeof(float), four, MPI_SUM, MPI_COMM_WORLD, 0, 0);
    MPI_Type_free(&four);

    compare("float max", floats, large, sizeof(float), MPI_FLOAT, MPI_MAX, MPI_COMM_WORLD, 0, 0);
    compare("MPI_COMM_SELF", floats, large, sizeof(float), MPI_FLOAT, MPI_SUM, MPI_COMM_SELF, 0, 0);

    if (size >= 2) {
        /* An intercommunicator between the even and the odd ranks: each side gets the other's reduction. */
        MPI_Comm half, inter;
        MPI_Comm_split(MPI_COMM_WORLD, rank % 2, rank, &half);
        MPI_Intercomm_create(half, 0, MPI_COMM_WORLD, rank % 2 ? 0 : 1, 77, &inter);
        compare("intercommunicator", floats, large, sizeof(float), MPI_FLOAT, MPI_SUM, inter, 0, 0);
        MPI_Comm_free(&inter);
        MPI_Comm_free(&half);
    }
    free(ints);
    free(floats);
}

/* An application's MPI_Irecv(ANY_SOURCE, ANY_TAG) pending on the same communicator receives nothing of the library's. */
static void pending_wildcard_receive(int large) {
    int got[4] = {-1, -1, -1, -1};
    MPI_Request request;
    MPI_Status status;
    MPI_Irecv(got, 4, MPI_INT, MPI_ANY_SOURCE, MPI_ANY_TAG, MPI_COMM_WORLD, &request);
    float *data = malloc(sizeof(float) * (size_t)large);
    for (int i = 0; i < large; i++) data[i] = (float)(i % 13);
    for (int n = 0; n < 3; n++) MPI_Allreduce(MPI_IN_PLACE, data, large, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD);
    int flag = 0;
    MPI_Test(&request, &flag, &status);
    checks++;
    if (flag) FAIL("a pending MPI_Irecv(ANY_SOURCE, ANY_TAG) received a message (source %d, tag %d) during MPI_Allreduce",
                   status.MPI_SOURCE, status.MPI_TAG);
    int mine[4] = {rank, 42, 43, 44};
    if (!flag) {
        MPI_Send(mine, 4, MPI_INT, rank, 9, MPI_COMM_WORLD);
        MPI_Wait(&request, &status);
        checks++;
        if (status.MPI_SOURCE != rank || status.MPI_TAG != 9 || got[0] != rank || got[1] != 42)
            FAIL("the application's own message arrived wrong (source %d, tag %d, first %d)", status.MPI_SOURCE,
                 status.MPI_TAG, got[0]);
    }
    free(data);
}

static long resident_kib(void) {
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long kib = -1;
    while (f && fgets(line, sizeof line, f))
        if (sscanf(line, "VmRSS: %ld kB", &kib) == 1) break;
    if (f) fclose(f);
    return kib;
}

/* N cycles of split, a taken AllReduce, free: each makes and frees the library's state. Resident
 * memory after the second quarter and at the end may differ by at most 4 MiB. */
static void cycles(int n, int large) {
    float *data = malloc(sizeof(float) * (size_t)large);
    long middle = 0;
    long long taken0, passed0, taken1, passed1;
    counts_now(&taken0, &passed0);
    for (int c = 0; c < n; c++) {
        MPI_Comm comm;
        MPI_Comm_split(MPI_COMM_WORLD, rank % 2, (c % 2) ? -rank : rank, &comm);
        for (int i = 0; i < large; i++) data[i] = 1.0f;
        MPI_Allreduce(MPI_IN_PLACE, data, large, MPI_FLOAT, MPI_SUM, comm);
        int members;
        MPI_Comm_size(comm, &members);
        if (data[0] != (float)members || data[large - 1] != (float)members) {
            FAIL("cycle %d: sum of ones is %g, expected %d", c, data[0], members);
            break;
        }
        MPI_Comm_free(&comm);
        if (c == n / 4) middle = resident_kib();
    }
    long end = resident_kib();
    counts_now(&taken1, &passed1);
    checks++;
    if (call_counts && size >= 4 && !takes_nothing && (long long)large * 4 >= min_bytes && taken1 - taken0 != n) FAIL("the library took %lld of the %d cycles' calls", taken1 - taken0, n);
    if (end - middle > 4096) FAIL("resident memory grew from %ld KiB (cycle %d) to %ld KiB (cycle %d)", middle, n / 4, end, n);
    if (rank == 0) printf("check_dropin: %d split/allreduce/free cycles, resident %ld KiB at cycle %d, %ld KiB at the end\n",
                          n, middle, n / 4, end);
    free(data);
}

int main(int argc, char **argv) {
    int large = 100003, n_cycles = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--large") && i + 1 < argc) large = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--cycles") && i + 1 < argc) n_cycles = atoi(argv[++i]);
        else { fprintf(stderr, "usage: check_dropin [--large COUNT] [--cycles N]\n"); return 64; }
    }
    MPI_Init(&argc, &argv);
    MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    *(void **)&call_counts = dlsym(RTLD_DEFAULT, "torus_call_counts");
    const char *algorithm = getenv("TORUS_ALGORITHM"), *threshold = getenv("TORUS_MIN_BYTES");
    int named = algorithm && *algorithm && strcmp(algorithm, "auto") != 0;
    takes_nothing = named && strcmp(algorithm, "mpi") == 0;
    const char *model = getenv("TORUS_MODEL");
    if (threshold && *threshold) min_bytes = atoll(threshold);
    else if (named || (model && *model)) min_bytes = 0;
    if (rank == 0) printf("check_dropin: %d ranks, library %s\n", size, call_counts ? "loaded" : "not loaded");

    if (n_cycles > 0) {
        cycles(n_cycles, large);
    } else {
        types_and_ops(MPI_COMM_WORLD, large);
        /* A split (even and odd ranks, reversed order) and a dup: the library's state per communicator. */
        MPI_Comm split, dup;
        MPI_Comm_split(MPI_COMM_WORLD, rank % 2, -rank, &split);
        MPI_Comm_set_errhandler(split, MPI_ERRORS_RETURN);
        float *x = malloc(sizeof(float) * (size_t)large);
        fill(x, &(type_case){"MPI_FLOAT", MPI_FLOAT, FLOAT, 0}, 4, 0, large, rank);
        compare("float sum on a reversed split", x, large, 4, MPI_FLOAT, MPI_SUM, split, 1, -1);
        MPI_Comm_dup(split, &dup);
        compare("float sum on a dup of the split", x, large, 4, MPI_FLOAT, MPI_SUM, dup, 0, -1);
        MPI_Comm_free(&dup);
        MPI_Comm_free(&split);
        free(x);
        fallbacks(large);
        pending_wildcard_receive(large);
    }

    int total = 0;
    MPI_Allreduce(&failures, &total, 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
    if (rank == 0) {
        if (total == 0) printf("check_dropin: %d checks passed\n", checks);
        else printf("check_dropin: %d failures\n", total);
    }
    MPI_Finalize();
    return total == 0 ? 0 : 1;
}
