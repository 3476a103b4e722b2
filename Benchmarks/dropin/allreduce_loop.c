/*
 * A plain MPI program that times MPI_Allreduce (float sum, in place) over a range of sizes: the
 * benchmark behind scripts/bench-dropin.sh, which runs it with and without libtorus_mpi.so
 * preloaded, alternated. Nothing in it knows about the library.
 *
 *     mpirun -np 2 ./allreduce_loop [-b MIN_BYTES] [-e MAX_BYTES] [-f FACTOR] [-n CALLS] [-w WARMUP]
 *
 * Per size it prints one line: bytes, then the median over CALLS of the slowest rank's time per
 * call in microseconds. Sizes under 64 KiB are timed in batches of 1,000 calls (the median of the
 * batches' mean per call), since one call is shorter than the clock's resolution allows.
 */
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int compare(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static long parse(const char *text) {
    char *end;
    long v = strtol(text, &end, 10);
    if (*end == 'K') v <<= 10;
    if (*end == 'M') v <<= 20;
    if (*end == 'G') v <<= 30;
    return v;
}

int main(int argc, char **argv) {
    long min = 8, max = 64 << 20, factor = 4;
    int calls = 20, warmup = 3;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "-b")) min = parse(argv[i + 1]);
        else if (!strcmp(argv[i], "-e")) max = parse(argv[i + 1]);
        else if (!strcmp(argv[i], "-f")) factor = parse(argv[i + 1]);
        else if (!strcmp(argv[i], "-n")) calls = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "-w")) warmup = atoi(argv[i + 1]);
    }
    MPI_Init(&argc, &argv);
    int rank;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    float *data = malloc((size_t)max);
    double *times = malloc(sizeof(double) * (size_t)calls);
    for (long bytes = min; bytes <= max; bytes *= factor) {
        int count = (int)(bytes / 4) > 0 ? (int)(bytes / 4) : 1;
        int batch = bytes < (64 << 10) ? 1000 : 1;
        for (int i = 0; i < count; i++) data[i] = (float)(i % 7);
        for (int i = 0; i < warmup * batch; i++) MPI_Allreduce(MPI_IN_PLACE, data, count, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD);
        for (int c = 0; c < calls; c++) {
            MPI_Barrier(MPI_COMM_WORLD);
            double start = MPI_Wtime();
            for (int i = 0; i < batch; i++) MPI_Allreduce(MPI_IN_PLACE, data, count, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD);
            double mine = (MPI_Wtime() - start) / batch, slowest;
            PMPI_Allreduce(&mine, &slowest, 1, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD);
            times[c] = slowest;
        }
        qsort(times, (size_t)calls, sizeof(double), compare);
        double median = calls % 2 ? times[calls / 2] : (times[calls / 2 - 1] + times[calls / 2]) / 2;
        if (rank == 0) printf("%ld %.3f\n", (long)count * 4, median * 1e6);
    }
    MPI_Finalize();
    return 0;
}
