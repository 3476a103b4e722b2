/*
 * Overlap of a nonblocking AllReduce with computation, in the style of OSU's osu_iallreduce: per
 * size, the pure time of MPI_Iallreduce + MPI_Wait; then MPI_Iallreduce, computation of that same
 * length, MPI_Wait (overall); overlap = 100 · (1 − (overall − compute) / pure), clamped to
 * [0, 100]. Plain MPI program (MPI_THREAD_MULTIPLE); run it with and without libtorus_mpi.so
 * preloaded (scripts/bench-overlap.sh). Medians over -n calls, float sum.
 *
 *     mpirun -np 2 ./iallreduce_overlap [-b MIN] [-e MAX] [-f FACTOR] [-n CALLS]
 */
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int compare(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double median(double *v, int n) {
    qsort(v, (size_t)n, sizeof(double), compare);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static long parse(const char *text) {
    char *end;
    long v = strtol(text, &end, 10);
    if (*end == 'K') v <<= 10;
    if (*end == 'M') v <<= 20;
    return v;
}

/* Busy computation for about `seconds` (not a sleep: it occupies the core, as real work does). */
static volatile double sink;
static void compute(double seconds) {
    double end = MPI_Wtime() + seconds, x = 0;
    while (MPI_Wtime() < end)
        for (int i = 0; i < 200; i++) x += i * 1e-9;
    sink = x;
}

int main(int argc, char **argv) {
    long min = 1 << 20, max = 64 << 20, factor = 4;
    int calls = 10, provided;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "-b")) min = parse(argv[i + 1]);
        else if (!strcmp(argv[i], "-e")) max = parse(argv[i + 1]);
        else if (!strcmp(argv[i], "-f")) factor = parse(argv[i + 1]);
        else if (!strcmp(argv[i], "-n")) calls = atoi(argv[i + 1]);
    }
    MPI_Init_thread(&argc, &argv, MPI_THREAD_MULTIPLE, &provided);
    int rank;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    float *data = malloc((size_t)max);
    double *pure = malloc(sizeof(double) * (size_t)calls), *overall = malloc(sizeof(double) * (size_t)calls);
    if (rank == 0) {
        printf("# MPI_Iallreduce overlap (osu_iallreduce style), float sum, thread level %s\n",
               provided == MPI_THREAD_MULTIPLE ? "MPI_THREAD_MULTIPLE" : "below MPI_THREAD_MULTIPLE");
        printf("%-12s %14s %14s %16s %12s\n", "# Size", "Overall(us)", "Compute(us)", "Pure Comm.(us)", "Overlap(%)");
    }
    for (long bytes = min; bytes <= max; bytes *= factor) {
        int count = (int)(bytes / 4);
        MPI_Request request;
        for (int i = 0; i < count; i++) data[i] = 1.0f;
        for (int c = 0; c < calls + 1; c++) {   /* the first call warms up */
            MPI_Barrier(MPI_COMM_WORLD);
            double t = MPI_Wtime();
            MPI_Iallreduce(MPI_IN_PLACE, data, count, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD, &request);
            MPI_Wait(&request, MPI_STATUS_IGNORE);
            double mine = MPI_Wtime() - t, slowest;
            PMPI_Allreduce(&mine, &slowest, 1, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD);
            if (c > 0) pure[c - 1] = slowest;
        }
        double t_pure = median(pure, calls);
        for (int c = 0; c < calls; c++) {
            MPI_Barrier(MPI_COMM_WORLD);
            double t = MPI_Wtime();
            MPI_Iallreduce(MPI_IN_PLACE, data, count, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD, &request);
            compute(t_pure);
            MPI_Wait(&request, MPI_STATUS_IGNORE);
            double mine = MPI_Wtime() - t, slowest;
            PMPI_Allreduce(&mine, &slowest, 1, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD);
            overall[c] = slowest;
        }
        double t_overall = median(overall, calls);
        double overlap = 100.0 * (1.0 - (t_overall - t_pure) / t_pure);
        if (overlap < 0) overlap = 0;
        if (overlap > 100) overlap = 100;
        if (rank == 0) printf("%-12ld %14.1f %14.1f %16.1f %12.1f\n", bytes, t_overall * 1e6, t_pure * 1e6, t_pure * 1e6, overlap);
    }
    MPI_Finalize();
    return 0;
}
