/* MPI_Allreduce (float sum, out of place) with the receive buffer DISTANCE bytes past the send
 * buffer modulo 4 KiB (README, "Buffers 16 bytes apart"). Two buffers from consecutive malloc calls
 * of the same size, a multiple of 4 KiB, lie 16 bytes apart so; on AMD Zen glibc's memcpy of
 * 2 KiB–512 KiB at that distance runs at a tenth of its speed (glibc bug 30994).
 * Every rank places its buffers alike; CALLS calls after 20 untimed ones; rank 0 prints the median
 * of the slowest rank's times, and whether every rank's result was right.
 * Build and run (MPI's own, then the library preloaded):
 *   mpicc -O2 Benchmarks/c/allreduce_buffer_distance.c -o allreduce_buffer_distance
 *   mpirun -np 2 ./allreduce_buffer_distance 262144 16 400
 *   mpirun -np 2 -x LD_PRELOAD=$bin/libtorus_mpi.so -x TORUS_ALGORITHM=recursive-doubling \
 *       ./allreduce_buffer_distance 262144 16 400 */
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>

static int compare(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv) {
    MPI_Init(&argc, &argv);
    int rank, size;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    if (argc != 4) {
        if (rank == 0) fprintf(stderr, "usage: allreduce_buffer_distance BYTES DISTANCE CALLS (DISTANCE 0-4095)\n");
        MPI_Finalize();
        return 2;
    }
    long bytes = atol(argv[1]), distance = atol(argv[2]);
    int calls = atoi(argv[3]);
    if (bytes < 4 || bytes % 4 != 0 || distance < 0 || distance > 4095 || calls < 1) {
        if (rank == 0) fprintf(stderr, "allreduce_buffer_distance: BYTES a positive multiple of 4, DISTANCE 0-4095, CALLS >= 1\n");
        MPI_Finalize();
        return 2;
    }
    long count = bytes / 4;
    long gap = (bytes + 8191) / 4096 * 4096; /* send buffer, then at least 4 KiB, page-aligned */
    char *base = NULL;
    if (posix_memalign((void **)&base, 4096, (size_t)(gap + bytes + 4096))) MPI_Abort(MPI_COMM_WORLD, 1);
    float *send = (float *)base, *recv = (float *)(base + gap + distance);
    for (long i = 0; i < count; i++) send[i] = (float)((i + rank) % 7);
    double *t = malloc(sizeof(double) * (size_t)calls);
    for (int i = 0; i < 20; i++) MPI_Allreduce(send, recv, (int)count, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD);
    for (int i = 0; i < calls; i++) {
        double start = MPI_Wtime();
        MPI_Allreduce(send, recv, (int)count, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD);
        t[i] = MPI_Wtime() - start;
    }
    MPI_Allreduce(MPI_IN_PLACE, t, calls, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD);
    long wrong = 0;
    for (long i = 0; i < count; i++) {
        float expected = 0;
        for (int r = 0; r < size; r++) expected += (float)((i + r) % 7);
        if (recv[i] != expected) wrong++;
    }
    MPI_Allreduce(MPI_IN_PLACE, &wrong, 1, MPI_LONG, MPI_SUM, MPI_COMM_WORLD);
    qsort(t, (size_t)calls, sizeof(double), compare);
    if (rank == 0) printf("bytes %ld distance %ld median %.1f us wrong %ld\n", bytes, distance, 1e6 * t[calls / 2], wrong);
    free(t);
    free(base);
    MPI_Finalize();
    return wrong != 0;
}
