/*
 * Nonblocking AllReduce through the C API (torus_iallreduce, torus_test, torus_wait), run by
 * scripts/test-dropin.sh under mpirun: four requests in flight at once on three communicators (a
 * dup of the world twice, a reversed split, the even/odd halves), started in the same order on
 * every rank (as MPI requires per communicator) but waited for in a different order on every
 * rank, one by polling torus_test while computing; one call small enough for PMPI_Iallreduce.
 * Every result is checked against the exact sum. Argument: "multiple" (MPI_THREAD_MULTIPLE: the
 * library's progress thread) or "funneled" (progress inside torus_test/torus_wait).
 *
 * Compiled with -DPLAIN_MPI the same program calls MPI_Iallreduce, MPI_Test and MPI_Wait instead,
 * for the drop-in (preloaded, it takes MPI_Iallreduce under MPI_THREAD_MULTIPLE) and without it.
 */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#ifdef PLAIN_MPI
#include <mpi.h>
typedef MPI_Request torus_request;
#define torus_iallreduce MPI_Iallreduce
#define torus_test(r, f) MPI_Test(r, f, MPI_STATUS_IGNORE)
#define torus_wait(r) MPI_Wait(r, MPI_STATUS_IGNORE)
#define NO_REQUEST MPI_REQUEST_NULL
#else
#include <torus.h>
#define NO_REQUEST NULL
#endif

enum { REQUESTS = 5 };

int main(int argc, char **argv) {
    int want = argc > 1 && !strcmp(argv[1], "funneled") ? MPI_THREAD_FUNNELED : MPI_THREAD_MULTIPLE, provided = 0;
    MPI_Init_thread(&argc, &argv, want, &provided);
    int rank, size;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    if (provided < want) {
        if (rank == 0) fprintf(stderr, "check_iallreduce: asked for thread level %d, MPI provides %d\n", want, provided);
        MPI_Finalize();
        return 1;
    }
    MPI_Comm dup, reversed, half;
    MPI_Comm_dup(MPI_COMM_WORLD, &dup);
    MPI_Comm_split(MPI_COMM_WORLD, 0, size - rank, &reversed);
    MPI_Comm_split(MPI_COMM_WORLD, rank % 2, rank, &half);
    MPI_Comm comms[REQUESTS] = {dup, reversed, half, dup, MPI_COMM_WORLD};
    int counts[REQUESTS] = {1 << 20, 300007, 200003, 65537, 3};
    float *in[REQUESTS], *out[REQUESTS];
    torus_request requests[REQUESTS];
    for (int k = 0; k < REQUESTS; k++) {
        int me;
        MPI_Comm_rank(comms[k], &me);
        in[k] = malloc(sizeof(float) * (size_t)counts[k]);
        out[k] = malloc(sizeof(float) * (size_t)counts[k]);
        for (int i = 0; i < counts[k]; i++) in[k][i] = (float)((me + 1) * (i % 11 + k));
        int rc = k == 3 ? (memcpy(out[k], in[k], sizeof(float) * (size_t)counts[k]),
                           torus_iallreduce(MPI_IN_PLACE, out[k], counts[k], MPI_FLOAT, MPI_SUM, comms[k], &requests[k]))
                        : torus_iallreduce(in[k], out[k], counts[k], MPI_FLOAT, MPI_SUM, comms[k], &requests[k]);
        if (rc != MPI_SUCCESS) { fprintf(stderr, "rank %d: torus_iallreduce %d failed: %d\n", rank, k, rc); MPI_Abort(MPI_COMM_WORLD, 1); }
    }
    /* Compute while the requests progress; then wait in a rank-dependent order, polling one. */
    volatile double work = 0;
    for (int i = 0; i < 2000000; i++) work += i * 1e-9;
    int failures = 0;
    for (int j = 0; j < REQUESTS; j++) {
        int k = (j + rank) % REQUESTS;
        if (k == 1) {
            int flag = 0;
            while (!flag) {
                if (torus_test(&requests[k], &flag) != MPI_SUCCESS) { failures++; break; }
                for (int i = 0; i < 1000; i++) work += i * 1e-9;
            }
        } else if (torus_wait(&requests[k]) != MPI_SUCCESS) {
            failures++;
        }
        if (requests[k] != NO_REQUEST) { fprintf(stderr, "rank %d: request %d not freed\n", rank, k); failures++; }
    }
    for (int k = 0; k < REQUESTS; k++) {
        int members;
        MPI_Comm_size(comms[k], &members);
        for (int i = 0; i < counts[k]; i++) {
            float expected = (float)(members * (members + 1) / 2 * (i % 11 + k));
            if (out[k][i] != expected) {
                fprintf(stderr, "rank %d: request %d element %d is %g, expected %g\n", rank, k, i, out[k][i], expected);
                failures++;
                break;
            }
        }
    }
    long long taken = 0, passed = 0;
    void (*call_counts)(long long *, long long *);
    *(void **)&call_counts = dlsym(RTLD_DEFAULT, "torus_call_counts");
    if (call_counts) call_counts(&taken, &passed);
    int total = 0;
    PMPI_Allreduce(&failures, &total, 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
    if (rank == 0) {
        if (total == 0) printf("check_iallreduce (%s): %d requests passed, the library took %lld, MPI %lld\n",
                               want == MPI_THREAD_MULTIPLE ? "progress thread" : "progress in test/wait", REQUESTS, taken, passed);
        else printf("check_iallreduce: %d failures\n", total);
    }
    MPI_Comm_free(&dup);
    MPI_Comm_free(&reversed);
    MPI_Comm_free(&half);
    MPI_Finalize();
    return total == 0 ? 0 : 1;
}
