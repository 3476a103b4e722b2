/*
 * What an AllReduce of two processes on one machine can reach when memory is the only limit
 * (issue 15, item 5): two processes (fork) share their buffers (one MAP_SHARED mapping) and do
 * exactly the data movement of a two-rank AllReduce, with no MPI and no messages:
 *
 *   staged  rank r copies the peer's half r of its input into a buffer of its own (what a
 *           single-copy receive does), reduces it into its own half r of the result, then, after a
 *           barrier, copies the peer's finished half into its result (the all-gather's receive);
 *   fused   the reduction reads the peer's input where it lies (no staging copy): the floor of any
 *           message-passing AllReduce of two processes.
 *   chunked staged as staged, but the peer's half comes in 256 KiB at a time into one small buffer,
 *           which stays in cache for the reduction (what the executor's scratch ring does,
 *           TORUS_SCRATCH_SEGMENTS).
 *
 * busbw = algbw = bytes / time (2(p−1)/p = 1 at p = 2), GB/s = 10^9 B/s, the median of the runs;
 * float32 sums, checked. Build and run (scripts/bench-memory-limit.sh does both):
 *     gcc -O3 -march=native -o allreduce_memory_limit Benchmarks/c/allreduce_memory_limit.c
 *     ./allreduce_memory_limit 64M 20
 */
#define _GNU_SOURCE
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

typedef struct {
    atomic_int arrived;
    atomic_int generation;
    double seconds[3][2][1024];   /* [variant][rank][run] */
} shared_state;

static void barrier(shared_state *s) {
    int generation = atomic_load(&s->generation);
    if (atomic_fetch_add(&s->arrived, 1) == 1) {
        atomic_store(&s->arrived, 0);
        atomic_fetch_add(&s->generation, 1);
    } else {
        while (atomic_load(&s->generation) == generation) sched_yield();
    }
}

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static size_t parse_bytes(const char *text) {
    char *end;
    double v = strtod(text, &end);
    if (*end == 'K' || *end == 'k') v *= 1024;
    else if (*end == 'M' || *end == 'm') v *= 1024 * 1024;
    else if (*end == 'G' || *end == 'g') v *= 1024.0 * 1024 * 1024;
    return (size_t)v;
}

static int compare(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv) {
    size_t bytes = argc > 1 ? parse_bytes(argv[1]) : 64u << 20;
    int runs = argc > 2 ? atoi(argv[2]) : 20;
    if (bytes < 64 || runs < 1 || runs > 1024) {
        fprintf(stderr, "usage: allreduce_memory_limit [BYTES (K/M/G), at least 64] [RUNS, 1 to 1024]\n");
        return 64;
    }
    size_t n = bytes / sizeof(float), half = n / 2;
    /* Inputs and results of both ranks, and each rank's staging buffer, in one shared mapping. */
    size_t total = sizeof(shared_state) + 5 * n * sizeof(float) + 4096;
    char *base = mmap(NULL, total, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (base == MAP_FAILED) {
        perror("mmap");
        return 1;
    }
    shared_state *s = (shared_state *)base;
    float *in[2], *out[2], *stage[2];
    float *arrays = (float *)(base + ((sizeof(shared_state) + 63) & ~(size_t)63));
    in[0] = arrays, in[1] = arrays + n, out[0] = arrays + 2 * n, out[1] = arrays + 3 * n, stage[0] = arrays + 4 * n;
    stage[1] = stage[0] + half;
    pid_t child = fork();
    int r = child == 0 ? 1 : 0, peer = 1 - r;
    /* First touch by the rank that owns the memory. */
    for (size_t i = 0; i < n; i++) in[r][i] = (float)((i % 61) + r), out[r][i] = 0;
    memset(stage[r], 0, half * sizeof(float));
    size_t lo = r == 0 ? 0 : half, hi = r == 0 ? half : n;   /* this rank's half */
    size_t plo = r == 0 ? half : 0, phi = r == 0 ? n : half;  /* the peer's */
    const size_t chunk = (256u << 10) / sizeof(float);
    for (int variant = 0; variant < 3; variant++) {
        for (int run = -2; run < runs; run++) {
            barrier(s);
            double t0 = now();
            if (variant == 0) {
                memcpy(stage[r], in[peer] + lo, (hi - lo) * sizeof(float));
                for (size_t i = lo; i < hi; i++) out[r][i] = in[r][i] + stage[r][i - lo];
            } else if (variant == 1) {
                for (size_t i = lo; i < hi; i++) out[r][i] = in[r][i] + in[peer][i];
            } else {
                for (size_t a = lo; a < hi; a += chunk) {
                    size_t m = hi - a < chunk ? hi - a : chunk;
                    memcpy(stage[r], in[peer] + a, m * sizeof(float));
                    for (size_t i = 0; i < m; i++) out[r][a + i] = in[r][a + i] + stage[r][i];
                }
            }
            barrier(s);
            memcpy(out[r] + plo, out[peer] + plo, (phi - plo) * sizeof(float));
            double t = now() - t0;
            if (run >= 0) s->seconds[variant][r][run] = t;
        }
    }
    barrier(s);
    int wrong = 0;
    for (size_t i = 0; i < n; i++) wrong += out[r][i] != (float)(2 * (i % 61) + 1);
    if (child != 0) {
        int status = 0;
        waitpid(child, &status, 0);
        const char *names[3] = {"staged (copy in, reduce, copy out)", "fused (reduce reads the peer's input)",
                                "chunked staged (256 KiB at a time)"};
        printf("# two processes, %zu bytes each, float32 sum, %d runs; time = the slower rank's, median\n", bytes, runs);
        for (int variant = 0; variant < 3; variant++) {
            double slowest[1024];
            for (int k = 0; k < runs; k++) slowest[k] = s->seconds[variant][0][k] > s->seconds[variant][1][k] ? s->seconds[variant][0][k] : s->seconds[variant][1][k];
            qsort(slowest, (size_t)runs, sizeof(double), compare);
            double median = slowest[runs / 2];
            printf("%-40s %10.1f us   busbw %6.2f GB/s\n", names[variant], median * 1e6, (double)bytes / median / 1e9);
        }
        printf("# wrong elements (rank 0): %d\n", wrong);
        return wrong != 0 || status != 0;
    }
    return wrong != 0;
}
