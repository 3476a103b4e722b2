/* The floor for payload mode on this machine: the least one process must do to run a ring AllReduce
 * of real data over 64 ranks — build every rank's inputs, 63 reduce steps and 63 copy steps of one
 * chunk per rank (reducing straight from the neighbour's buffer, no network, no scratch), check every
 * element — on all cores (OpenMP). No simulation at all: a simulator that moves the same bytes cannot
 * be faster. Used by scripts/bench-sim-vs-simgrid.sh. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv) {
    const int P = 64;
    long bytes = argc > 1 ? atol(argv[1]) : 16L << 20;
    long n = bytes / (long)sizeof(float), c = n / P;
    float **d = malloc(P * sizeof *d);
    for (int r = 0; r < P; r++) d[r] = malloc(n * sizeof(float));
    #pragma omp parallel for schedule(static)
    for (int r = 0; r < P; r++)
        for (long i = 0; i < n; i++) d[r][i] = (float)((31 * r + i) % 16);
    for (int s = 0; s < P - 1; s++) {
        #pragma omp parallel for schedule(static)
        for (int r = 0; r < P; r++) {
            int src = (r + P - 1) % P;
            long k = ((r - s - 1) % P + P) % P;
            float *a = d[r] + k * c, *b = d[src] + k * c;
            for (long i = 0; i < c; i++) a[i] += b[i];
        }
    }
    for (int s = 0; s < P - 1; s++) {
        #pragma omp parallel for schedule(static)
        for (int r = 0; r < P; r++) {
            int src = (r + P - 1) % P;
            long k = ((r - s) % P + P) % P;
            memcpy(d[r] + k * c, d[src] + k * c, c * sizeof(float));
        }
    }
    float expect[16];
    for (int i = 0; i < 16; i++) {
        expect[i] = 0;
        for (int r = 0; r < P; r++) expect[i] += (float)((31 * r + i) % 16);
    }
    long wrong = 0;
    #pragma omp parallel for reduction(+:wrong) schedule(static)
    for (int r = 0; r < P; r++)
        for (long i = 0; i < c * P; i++) wrong += d[r][i] != expect[i % 16];
    for (int r = 0; r < P; r++) free(d[r]);
    free(d);
    printf("floor wrong %ld ranks %d bytes %ld\n", wrong, P, bytes);
    return wrong != 0;
}
