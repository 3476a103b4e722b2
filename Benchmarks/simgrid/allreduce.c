/* One MPI_Allreduce of a float buffer, timed in simulated time: the peer run of
 * scripts/bench-sim-vs-simgrid.sh (SimGrid SMPI on a 4x4x4 torus cluster). */
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv) {
    MPI_Init(&argc, &argv);
    int rank, size;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    long bytes = argc > 1 ? atol(argv[1]) : 16L << 20;
    long count = bytes / sizeof(float);
    float *in = malloc(count * sizeof(float)), *out = malloc(count * sizeof(float));
    for (long i = 0; i < count; i++) in[i] = (float)((31 * rank + i) % 16);
    MPI_Barrier(MPI_COMM_WORLD);
    double t0 = MPI_Wtime();
    MPI_Allreduce(in, out, (int)count, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD);
    double t1 = MPI_Wtime();
    /* Check: element i is the sum over ranks of (31r + i) mod 16. */
    long wrong = 0;
    for (long i = 0; i < count; i++) {
        float expect = 0;
        for (int r = 0; r < size; r++) expect += (float)((31 * r + i) % 16);
        if (out[i] != expect) wrong++;
        if (i == 63) break; /* the pattern repeats every 16 elements */
    }
    double elapsed = t1 - t0, slowest;
    MPI_Reduce(&elapsed, &slowest, 1, MPI_DOUBLE, MPI_MAX, 0, MPI_COMM_WORLD);
    if (rank == 0) printf("simgrid_predicted_s %.9f wrong %ld ranks %d bytes %ld\n", slowest, wrong, size, bytes);
    free(in);
    free(out);
    MPI_Finalize();
    return wrong != 0;
}
