/*
 * MPI_Reduce_scatter_block and MPI_Allgather under the drop-in (scripts/test-dropin.sh): preloaded,
 * or (-DCAPI) torus_reduce_scatter_block and torus_allgather linked through pkg-config. Every call
 * is checked bit for bit against PMPI_Reduce_scatter_block and PMPI_Allgather, for float, double,
 * int32, int64 and uint8 (sum, max, bxor), counts 1, 7, 1000 and 30011 per rank, in place and out of
 * place; an all-gather with different send and receive types goes to MPI and is right too.
 * Prints "check_halves: N checks passed, the library took T calls" (T from torus_call_counts).
 * `check_halves mismatch`: the last rank passes one element more to both calls, under the default
 * error handler (with TORUS_CHECK=1 every rank reports it and the job stops).
 * `check_halves nan`: rank 1's reduce-scatter input holds a NaN at index 7, in rank 0's block (with
 * TORUS_NAN_CHECK=1 rank 1's input and rank 0's result are reported).
 */
#include <dlfcn.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "check.h"
#include <mpi.h>

#ifdef CAPI
#include <torus.h>
#define REDUCE_SCATTER torus_reduce_scatter_block
#define ALLGATHER torus_allgather
#else
#define REDUCE_SCATTER MPI_Reduce_scatter_block
#define ALLGATHER MPI_Allgather
#endif

static int rank, size, failures, checks;

/* Inputs whose sums are exact in any order: small integers, as each type. */
static void fill(void *buffer, MPI_Datatype type, int n, int seed) {
    for (int i = 0; i < n; i++) {
        int v = (i * 7 + seed * 13) % 61 - 30;
        if (type == MPI_FLOAT) ((float *)buffer)[i] = (float)v * 0.5f;
        else if (type == MPI_DOUBLE) ((double *)buffer)[i] = (double)v * 0.25;
        else if (type == MPI_INT32_T) ((int32_t *)buffer)[i] = v * 1000003;
        else if (type == MPI_INT64_T) ((int64_t *)buffer)[i] = (int64_t)v << 33;
        else ((uint8_t *)buffer)[i] = (uint8_t)(v * 37 + seed);
    }
}

int main(int argc, char **argv) {
    MPI_Init(&argc, &argv);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    if (argc > 1 && strcmp(argv[1], "mismatch") == 0) {
        int c = rank == size - 1 ? 100001 : 100000;
        float *in = calloc((size_t)c * (size_t)size, sizeof(float)), *out = calloc((size_t)c * (size_t)size, sizeof(float));
        REDUCE_SCATTER(in, out, c, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD);
        ALLGATHER(in, c, MPI_FLOAT, out, c, MPI_FLOAT, MPI_COMM_WORLD);
        printf("rank %d: mismatched calls returned\n", rank);
        MPI_Finalize();
        return 0;
    }
    if (argc > 1 && strcmp(argv[1], "nan") == 0) {
        enum { C = 1000 };
        float *in = calloc((size_t)C * (size_t)size, sizeof(float)), out[C];
        if (rank == 1) in[7] = NAN;
        REDUCE_SCATTER(in, out, C, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD);
        printf("rank %d: reduce-scatter with a NaN returned\n", rank);
        MPI_Finalize();
        return 0;
    }
    MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
    void (*counts)(long long *, long long *) = (void (*)(long long *, long long *))dlsym(RTLD_DEFAULT, "torus_call_counts");
    long long taken0 = 0, taken1 = 0;
    if (counts) counts(&taken0, NULL);

    const struct { MPI_Datatype type; int bytes; MPI_Op op; const char *name; } cases[] = {
        {MPI_FLOAT, 4, MPI_SUM, "float sum"}, {MPI_DOUBLE, 8, MPI_MAX, "double max"}, {MPI_INT32_T, 4, MPI_SUM, "int32 sum"},
        {MPI_INT64_T, 8, MPI_SUM, "int64 sum"}, {MPI_UINT8_T, 1, MPI_BXOR, "uint8 bxor"},
    };
    const int block_counts[] = {1, 7, 1000, 30011};
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        for (size_t j = 0; j < sizeof block_counts / sizeof block_counts[0]; j++) {
            int c = block_counts[j], s = cases[k].bytes;
            size_t block = (size_t)c * (size_t)s, whole = block * (size_t)size;
            char *in = malloc(whole), *ours = malloc(whole + 1), *theirs = malloc(whole);
            fill(in, cases[k].type, c * size, rank);
            /* ReduceScatter, out of place (a guard byte past the block) and in place. */
            ours[block] = 0x5A;
            CHECK(REDUCE_SCATTER(in, ours, c, cases[k].type, cases[k].op, MPI_COMM_WORLD) == MPI_SUCCESS, "reduce-scatter failed");
            PMPI_Reduce_scatter_block(in, theirs, c, cases[k].type, cases[k].op, MPI_COMM_WORLD);
            CHECK(memcmp(ours, theirs, block) == 0 && ours[block] == 0x5A, "reduce-scatter %s c=%d differs from MPI's", cases[k].name, c);
            memcpy(ours, in, whole);
            CHECK(REDUCE_SCATTER(MPI_IN_PLACE, ours, c, cases[k].type, cases[k].op, MPI_COMM_WORLD) == MPI_SUCCESS &&
                      memcmp(ours, theirs, block) == 0, "reduce-scatter in place %s c=%d differs from MPI's", cases[k].name, c);
            /* AllGather, out of place and in place. */
            ours[whole] = 0x5A;
            CHECK(ALLGATHER(in, c, cases[k].type, ours, c, cases[k].type, MPI_COMM_WORLD) == MPI_SUCCESS, "all-gather failed");
            PMPI_Allgather(in, c, cases[k].type, theirs, c, cases[k].type, MPI_COMM_WORLD);
            CHECK(memcmp(ours, theirs, whole) == 0 && ours[whole] == 0x5A, "all-gather %s c=%d differs from MPI's", cases[k].name, c);
            memset(ours, 0, whole);
            memcpy(ours + (size_t)rank * block, in, block);
            CHECK(ALLGATHER(MPI_IN_PLACE, 0, MPI_DATATYPE_NULL, ours, c, cases[k].type, MPI_COMM_WORLD) == MPI_SUCCESS &&
                      memcmp(ours, theirs, whole) == 0, "all-gather in place %s c=%d differs from MPI's", cases[k].name, c);
            free(in);
            free(ours);
            free(theirs);
        }
    }
    /* Different send and receive type signatures: MPI's own, and right. */
    MPI_Datatype pair;
    MPI_Type_contiguous(2, MPI_INT, &pair);
    MPI_Type_commit(&pair);
    int mine[2] = {rank, -rank}, *all = malloc(sizeof(int) * 2 * (size_t)size);
    CHECK(ALLGATHER(mine, 2, MPI_INT, all, 1, pair, MPI_COMM_WORLD) == MPI_SUCCESS, "all-gather of ints into pairs failed");
    for (int r = 0; r < size; r++) CHECK(all[2 * r] == r && all[2 * r + 1] == -r, "all-gather of ints into pairs: rank %d's block", r);
    MPI_Type_free(&pair);
    free(all);

    if (counts) counts(&taken1, NULL);
    long long taken = taken1 - taken0, total_taken = 0;
    int total = 0;
    PMPI_Allreduce(&failures, &total, 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
    PMPI_Allreduce(&taken, &total_taken, 1, MPI_LONG_LONG, MPI_SUM, MPI_COMM_WORLD);
    if (rank == 0) {
        if (total == 0) printf("check_halves: %d checks passed, the library took %lld calls%s\n", checks, total_taken / size,
                               counts ? "" : " (library not loaded)");
        else printf("check_halves: %d failures\n", total);
    }
    MPI_Finalize();
    return total != 0;
}
