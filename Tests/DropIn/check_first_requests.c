/*
 * The first nonblocking AllReduce on two communicators, started in opposite orders on different
 * ranks, run by scripts/test-dropin.sh under mpirun with MPI_THREAD_MULTIPLE. MPI allows it (it
 * orders collectives per communicator only), and plain MPI completes it; a library that set up
 * its state with blocking collectives inside the first call would wait there on every rank (even
 * ranks in A's set-up, odd ranks in B's). Then, on each communicator, three more requests started
 * back to back while its set-up may still run, a blocking MPI_Allreduce behind them, and a third
 * communicator freed with its first request done but never followed by another call. Last, ten
 * times two communicators freed with a request still under way (MPI allows it: the request
 * completes), one while its set-up runs, one set up by a blocking call before. Every result is checked against the
 * exact sum. Without the library those two are freed after the wait instead: Open MPI 4.1's own
 * MPI_Iallreduce crashes (a segmentation fault in its nonblocking collectives' progress) when the
 * communicator is freed while it runs. Last, forty-five times a new communicator whose first
 * request (400 KB, the library's) is followed at once by a call that goes to MPI on the same
 * communicator while the library's copy of it (MPI_Comm_idup) may still be under way — Open MPI
 * 4.1 corrupts memory when one thread starts a nonblocking collective there while another tests
 * the idup: in turn MPI's own MPI_Iallreduce (400 KB with MPI_MAX, an op the library leaves to MPI
 * for floats), a blocking MPI_Allreduce (whose settings' comparison is an MPI_Iallreduce), and an
 * MPI_Ibcast of 400 KB (which the library never takes).
 *
 * Compiled with -DPLAIN_MPI it calls MPI_Iallreduce and MPI_Wait (the drop-in, preloaded); else
 * the C API's torus_iallreduce and torus_wait. With the argument `funneled` (the C API) it runs
 * under MPI_THREAD_FUNNELED, where no progress thread may call MPI: the set-ups and requests then
 * move forward only inside torus_wait (and MPI_Comm_free waits for a set-up's copy), and must
 * still never wait for the crossed communicator.
 */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#ifdef PLAIN_MPI
#include <mpi.h>
typedef MPI_Request torus_request;
#define torus_iallreduce MPI_Iallreduce
#define torus_wait(r) MPI_Wait(r, MPI_STATUS_IGNORE)
#else
#include <torus.h>
#endif

enum { COUNT = 100003, LATER = 3, FREED = 10, BESIDE = 45 };

static int failures;

static void fill(float *buffer, int me, int k) {
    for (int i = 0; i < COUNT; i++) buffer[i] = (float)((me + 1) * (i % 13 + k));
}

static void check(const float *buffer, MPI_Comm comm, int k, const char *what) {
    int members, rank;
    MPI_Comm_size(comm, &members);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    for (int i = 0; i < COUNT; i++) {
        float expected = (float)(members * (members + 1) / 2 * (i % 13 + k));
        if (buffer[i] != expected) {
            fprintf(stderr, "rank %d: %s, element %d is %g, expected %g\n", rank, what, i, buffer[i], expected);
            failures++;
            return;
        }
    }
}

static void start(MPI_Comm comm, float *in, float *out, int k, torus_request *request) {
    int me;
    MPI_Comm_rank(comm, &me);
    fill(in, me, k);
    if (torus_iallreduce(in, out, COUNT, MPI_FLOAT, MPI_SUM, comm, request) != MPI_SUCCESS) {
        fprintf(stderr, "torus_iallreduce failed\n");
        MPI_Abort(MPI_COMM_WORLD, 1);
    }
}

int main(int argc, char **argv) {
    int provided = 0, funneled = argc > 1 && strcmp(argv[1], "funneled") == 0;
    MPI_Init_thread(&argc, &argv, funneled ? MPI_THREAD_FUNNELED : MPI_THREAD_MULTIPLE, &provided);
    int rank, size;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    if (funneled && provided > MPI_THREAD_FUNNELED) {
        if (rank == 0) fprintf(stderr, "check_first_requests: asked for MPI_THREAD_FUNNELED, MPI gave level %d\n", provided);
        MPI_Finalize();
        return 1;
    }
    if (!funneled && provided < MPI_THREAD_MULTIPLE) {
        if (rank == 0) fprintf(stderr, "check_first_requests: MPI provides thread level %d, not MPI_THREAD_MULTIPLE\n", provided);
        MPI_Finalize();
        return 1;
    }
    MPI_Comm a, b, c;
    MPI_Comm_dup(MPI_COMM_WORLD, &a);
    MPI_Comm_split(MPI_COMM_WORLD, 0, size - rank, &b);
    MPI_Comm_dup(MPI_COMM_WORLD, &c);
    float *in[2 + 2 * LATER + 1], *out[2 + 2 * LATER + 1];
    for (int k = 0; k < 2 + 2 * LATER + 1; k++) {
        in[k] = malloc(sizeof(float) * COUNT);
        out[k] = malloc(sizeof(float) * COUNT);
    }
    torus_request requests[2 + 2 * LATER + 1];
    /* The crossed first calls: even ranks start A's first (request 0), odd ranks B's (request 1). */
    for (int j = 0; j < 2; j++) {
        int k = (j + rank) % 2;
        start(k ? b : a, in[k], out[k], k, &requests[k]);
    }
    /* Three more on each, at once (the set-ups may still run), A's and B's interleaved alike on every rank. */
    for (int j = 0; j < LATER; j++) {
        start(a, in[2 + 2 * j], out[2 + 2 * j], 2 + 2 * j, &requests[2 + 2 * j]);
        start(b, in[3 + 2 * j], out[3 + 2 * j], 3 + 2 * j, &requests[3 + 2 * j]);
    }
    /* C: one request, waited for, then the communicator freed. */
    start(c, in[2 + 2 * LATER], out[2 + 2 * LATER], 2 + 2 * LATER, &requests[2 + 2 * LATER]);
    /* Waited for in a rank-dependent order. */
    for (int j = 0; j < 2 + 2 * LATER + 1; j++) {
        int k = (j + rank) % (2 + 2 * LATER + 1);
        if (torus_wait(&requests[k]) != MPI_SUCCESS) {
            fprintf(stderr, "rank %d: request %d failed\n", rank, k);
            failures++;
        }
    }
    for (int k = 0; k < 2 + 2 * LATER; k++) check(out[k], k % 2 ? b : a, k, k < 2 ? "a first request" : "a later request");
    check(out[2 + 2 * LATER], c, 2 + 2 * LATER, "the freed communicator's request");
    MPI_Comm_free(&c);
    /* A blocking call on A after its requests. */
    int me;
    MPI_Comm_rank(a, &me);
    fill(in[0], me, 7);
    MPI_Allreduce(in[0], out[0], COUNT, MPI_FLOAT, MPI_SUM, a);
    check(out[0], a, 7, "a blocking call after the requests");
    /* Freed with a request under way, ten times each: E while its set-up runs, F after a blocking
     * call set it up. */
    void (*call_counts)(long long *, long long *);
    *(void **)&call_counts = dlsym(RTLD_DEFAULT, "torus_call_counts");
    for (int j = 0; j < FREED; j++) {
        MPI_Comm e, f;
        MPI_Comm_dup(MPI_COMM_WORLD, &e);
        MPI_Comm_dup(MPI_COMM_WORLD, &f);
        MPI_Comm_rank(f, &me);
        fill(in[1], me, 8);
        MPI_Allreduce(in[1], out[1], COUNT, MPI_FLOAT, MPI_SUM, f);
        check(out[1], f, 8, "a blocking call on F");
        /* Freed before the wait only where the library runs the request (its counts say so): a
         * request left to MPI would meet Open MPI's crash. */
        long long before = 0, after = 0, passed = 0;
        if (call_counts) call_counts(&before, &passed);
        start(e, in[2], out[2], 9 + j, &requests[0]);
        if (call_counts) call_counts(&after, &passed);
        int library_e = after > before;
        start(f, in[3], out[3], 10 + j, &requests[1]);
        if (call_counts) call_counts(&before, &passed);
        int library_f = before > after;
        if (library_e) MPI_Comm_free(&e);
        if (library_f) MPI_Comm_free(&f);
        for (int k = 0; k < 2; k++)
            if (torus_wait(&requests[k]) != MPI_SUCCESS) {
                fprintf(stderr, "rank %d: a request on a freed communicator failed\n", rank);
                failures++;
            }
        if (!library_e) MPI_Comm_free(&e);
        if (!library_f) MPI_Comm_free(&f);
        check(out[2], MPI_COMM_WORLD, 9 + j, "a request on a communicator freed during its set-up");
        check(out[3], MPI_COMM_WORLD, 10 + j, "a request on a communicator freed while it ran");
    }
    /* A call MPI runs beside the first request, on a new communicator each time: in turn a
     * nonblocking MPI_MAX call, a blocking one (whose settings' comparison, before it goes to MPI,
     * is an MPI_Iallreduce on the communicator), and an MPI_Ibcast from rank 0. */
    enum { NONBLOCKING, BLOCKING, BROADCAST };
    MPI_Request broadcast;
    for (int j = 0; j < BESIDE; j++) {
        int beside = j % 3;
        MPI_Comm g;
        MPI_Comm_dup(MPI_COMM_WORLD, &g);
        start(g, in[4], out[4], 20 + j, &requests[0]);
        MPI_Comm_rank(g, &me);
        fill(in[5], me, 40 + j);
        if (beside == BLOCKING) {
            MPI_Allreduce(in[5], out[5], COUNT, MPI_FLOAT, MPI_MAX, g);
        } else if (beside == BROADCAST) {
            if (me != 0) memset(in[5], 0, sizeof(float) * COUNT);
            if (MPI_Ibcast(in[5], COUNT, MPI_FLOAT, 0, g, &broadcast) != MPI_SUCCESS) {
                fprintf(stderr, "MPI_Ibcast failed\n");
                MPI_Abort(MPI_COMM_WORLD, 1);
            }
        } else if (torus_iallreduce(in[5], out[5], COUNT, MPI_FLOAT, MPI_MAX, g, &requests[1]) != MPI_SUCCESS) {
            fprintf(stderr, "torus_iallreduce failed\n");
            MPI_Abort(MPI_COMM_WORLD, 1);
        }
        for (int k = 0; k < (beside == BLOCKING ? 1 : 2); k++) {
            /* MPI_Wait for the broadcast: the C API's torus_wait takes only the library's requests. */
            int rc = k == 1 && beside == BROADCAST ? MPI_Wait(&broadcast, MPI_STATUS_IGNORE) : torus_wait(&requests[k]);
            if (rc != MPI_SUCCESS) {
                fprintf(stderr, "rank %d: a request beside the first failed\n", rank);
                failures++;
            }
        }
        check(out[4], MPI_COMM_WORLD, 20 + j, "a first request with a call MPI runs beside it");
        const float *result = beside == BROADCAST ? in[5] : out[5];
        for (int i = 0; i < COUNT; i++)
            if (result[i] != (float)((beside == BROADCAST ? 1 : size) * (i % 13 + 40 + j))) {
                fprintf(stderr, "rank %d: the %s beside the first request, element %d is %g\n", rank,
                        beside == BROADCAST ? "MPI_Ibcast" : "MPI_MAX call", i, result[i]);
                failures++;
                break;
            }
        MPI_Comm_free(&g);
    }
    long long taken = 0, passed = 0;
    if (call_counts) call_counts(&taken, &passed);
    int total = 0;
    PMPI_Allreduce(&failures, &total, 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
    if (rank == 0) {
        if (total == 0)
            printf("check_first_requests: %d requests, %d blocking calls and %d broadcasts passed, the library took %lld, MPI %lld\n",
                   2 + 2 * LATER + 1 + 2 * FREED + BESIDE + BESIDE / 3, 1 + FREED + BESIDE / 3, BESIDE / 3, taken, passed);
        else printf("check_first_requests: %d failures\n", total);
    }
    MPI_Comm_free(&a);
    MPI_Comm_free(&b);
    MPI_Finalize();
    return total == 0 ? 0 : 1;
}
