// The reference the Float32-sum kernel is held to: the same loop in C, built with
// gcc -O3 -march=native. Measures dst[i] += src[i] over BYTES bytes exactly as `torus kernels`
// does (warm-up, calibrated repeats per sample, median of samples; GB/s counts 2 reads + 1 write).
// Usage: sum_f32 [bytes] [samples]
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

// noinline plus the memory clobber keep gcc from fusing repeated calls into one pass over memory
// (it otherwise computes dst += 2*src in one sweep and reports twice the real bandwidth).
__attribute__((noinline)) static void sum(float *restrict dst, const float *restrict src, size_t n) {
    for (size_t i = 0; i < n; i++) dst[i] += src[i];
    __asm__ volatile("" ::: "memory");
}

static int cmp(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv) {
    size_t bytes = argc > 1 ? strtoull(argv[1], NULL, 10) : (64u << 20);
    int samples = argc > 2 ? atoi(argv[2]) : 7;
    size_t n = bytes / sizeof(float);
    float *dst = aligned_alloc(64, bytes), *src = aligned_alloc(64, bytes);
    for (size_t i = 0; i < n; i++) { dst[i] = 1; src[i] = 1; }
    sum(dst, src, n);
    long repeats = 1;
    for (;;) {
        double t0 = now();
        for (long r = 0; r < repeats; r++) sum(dst, src, n);
        double t = now() - t0;
        if (t >= 0.02 || repeats >= (1 << 24)) break;
        repeats *= 2;
    }
    double *times = malloc(sizeof(double) * samples);
    for (int s = 0; s < samples; s++) {
        double t0 = now();
        for (long r = 0; r < repeats; r++) sum(dst, src, n);
        times[s] = (now() - t0) / repeats;
    }
    qsort(times, samples, sizeof(double), cmp);
    double t = times[samples / 2];
    printf("{\"type\":\"f32\",\"op\":\"sum\",\"bytes\":%zu,\"seconds\":%.9f,\"gbps\":%.3f,\"impl\":\"c-O3-march-native\"}\n",
           bytes, t, 3.0 * bytes / t / 1e9);
    return dst[0] == 0;  // keeps the loop observable
}
