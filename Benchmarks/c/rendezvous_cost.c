/* What one message above MPI's eager limit costs, against the same exchange below it and against
 * MPI_Allreduce of the same size (README, "Eager halves").
 * Two ranks exchange N bytes, each call between barriers, 5,000 calls per way; rank 0 prints the
 * median of its own times:
 *   mode 0: MPI_Irecv, MPI_Isend, MPI_Waitall     mode 1: MPI_Isend, MPI_Irecv, MPI_Waitall
 *   mode 2: MPI_Isend, MPI_Irecv, MPI_Testsome until both are done (as the executor polls)
 *   mode 3: MPI_Allreduce of N/4 floats
 * Build and run:  mpicc -O2 Benchmarks/c/rendezvous_cost.c -o rendezvous_cost
 *                 mpirun -np 2 ./rendezvous_cost 4032; mpirun -np 2 ./rendezvous_cost 4096 */
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int compare(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv) {
    MPI_Init(&argc, &argv);
    int rank, size;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    int n = argc > 1 ? atoi(argv[1]) : 4096;
    if (size != 2 || n < 4 || n % 4 != 0) {
        if (rank == 0) fprintf(stderr, "usage: mpirun -np 2 %s BYTES (a multiple of 4)\n", argv[0]);
        MPI_Finalize();
        return 2;
    }
    enum { calls = 5000 };
    char *send = malloc(n), *recv = malloc(n);
    double *t = malloc(sizeof(double) * calls);
    memset(send, 1, n);
    int peer = 1 - rank;
    for (int mode = 0; mode < 4; mode++) {
        for (int i = 0; i < calls; i++) {
            MPI_Request q[2];
            MPI_Barrier(MPI_COMM_WORLD);
            double t0 = MPI_Wtime();
            if (mode == 0) {
                MPI_Irecv(recv, n, MPI_BYTE, peer, 5, MPI_COMM_WORLD, &q[0]);
                MPI_Isend(send, n, MPI_BYTE, peer, 5, MPI_COMM_WORLD, &q[1]);
                MPI_Waitall(2, q, MPI_STATUSES_IGNORE);
            } else if (mode == 1 || mode == 2) {
                MPI_Isend(send, n, MPI_BYTE, peer, 5, MPI_COMM_WORLD, &q[1]);
                MPI_Irecv(recv, n, MPI_BYTE, peer, 5, MPI_COMM_WORLD, &q[0]);
                if (mode == 1) {
                    MPI_Waitall(2, q, MPI_STATUSES_IGNORE);
                } else {
                    for (int left = 2; left > 0;) {
                        int done, index[2];
                        MPI_Testsome(2, q, &done, index, MPI_STATUSES_IGNORE);
                        if (done != MPI_UNDEFINED) left -= done;
                    }
                }
            } else {
                MPI_Allreduce(send, recv, n / 4, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD);
            }
            t[i] = MPI_Wtime() - t0;
        }
        qsort(t, calls, sizeof(double), compare);
        if (rank == 0) printf("%d bytes, mode %d: median %.2f us\n", n, mode, t[calls / 2] * 1e6);
    }
    free(send);
    free(recv);
    free(t);
    MPI_Finalize();
    return 0;
}
