/* What a communicator's first library call costs: the set-up of the library's state on it (its
 * private copy, the ranks' settings compared, the torus view) plus the call itself, against a later
 * call on the same communicator (README, "A first call that is nonblocking").
 * For each of 60 new communicators (MPI_Comm_dup of MPI_COMM_WORLD), after a barrier: the first
 * call's time, then a second call's; the slowest rank's times, then the median over the
 * communicators. Calls of 16 KiB of floats (taken by the library with TORUS_MIN_BYTES=1K), MPI_SUM.
 *   mode b: MPI_Allreduce (the blocking set-up)
 *   mode i: MPI_Iallreduce and MPI_Wait (under MPI_THREAD_MULTIPLE: the nonblocking set-up)
 * Build and run (preloaded):
 *   mpicc -O2 Benchmarks/c/first_call_cost.c -o first_call_cost
 *   mpirun -np 2 -x LD_PRELOAD=libtorus_mpi.so -x TORUS_MIN_BYTES=1K ./first_call_cost i */
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int compare(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double timed(int nonblocking, const float *in, float *out, int count, MPI_Comm comm) {
    double t0 = MPI_Wtime();
    if (nonblocking) {
        MPI_Request r;
        MPI_Iallreduce(in, out, count, MPI_FLOAT, MPI_SUM, comm, &r);
        MPI_Wait(&r, MPI_STATUS_IGNORE);
    } else {
        MPI_Allreduce(in, out, count, MPI_FLOAT, MPI_SUM, comm);
    }
    return MPI_Wtime() - t0;
}

int main(int argc, char **argv) {
    int nonblocking = argc > 1 && strcmp(argv[1], "i") == 0, provided = 0;
    MPI_Init_thread(&argc, &argv, nonblocking ? MPI_THREAD_MULTIPLE : MPI_THREAD_SINGLE, &provided);
    int rank, size;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    enum { comms = 60, count = 4096 };
    float *in = malloc(sizeof(float) * count), *out = malloc(sizeof(float) * count);
    for (int i = 0; i < count; i++) in[i] = (float)(rank + 1);
    double first[comms], later[comms];
    int wrong = 0;
    for (int c = 0; c < comms; c++) {
        MPI_Comm comm;
        MPI_Comm_dup(MPI_COMM_WORLD, &comm);
        MPI_Barrier(comm);
        double t[2];
        t[0] = timed(nonblocking, in, out, count, comm);
        t[1] = timed(nonblocking, in, out, count, comm);
        for (int i = 0; i < count; i++) wrong += out[i] != (float)(size * (size + 1) / 2);
        MPI_Allreduce(MPI_IN_PLACE, t, 2, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD);
        first[c] = t[0];
        later[c] = t[1];
        MPI_Comm_free(&comm);
    }
    MPI_Allreduce(MPI_IN_PLACE, &wrong, 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
    qsort(first, comms, sizeof(double), compare);
    qsort(later, comms, sizeof(double), compare);
    if (rank == 0)
        printf("%s, np=%d: first call %.3f ms, later call %.3f ms (medians of %d communicators, slowest rank), %d wrong\n",
               nonblocking ? "MPI_Iallreduce" : "MPI_Allreduce", size, first[comms / 2] * 1e3, later[comms / 2] * 1e3, comms, wrong);
    MPI_Finalize();
    return wrong != 0;
}
