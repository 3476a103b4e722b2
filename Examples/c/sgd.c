/*
 * Data-parallel SGD in C: softmax regression on a synthetic data set, gradients summed across
 * ranks with plain MPI_Allreduce. Run it as is, or with libtorus_mpi.so preloaded: nothing in
 * the program changes (README, "Drop-in MPI_Allreduce").
 *
 *     mpicc -O2 -o sgd Examples/c/sgd.c -lm
 *     mpirun -np 4 ./sgd
 *     mpirun -np 4 -x LD_PRELOAD=$bin/libtorus_mpi.so -x TORUS_MIN_BYTES=0 ./sgd
 *
 * Each rank makes its own shard: 32 features in [-1, 1], labels from a hidden linear model over
 * 4 classes. Gradients are rounded to multiples of 2^-14 before the sum, so that the sum is exact
 * in any order: the final weights are then bit-identical on every rank and in every run, plain or
 * preloaded, whatever algorithm adds them up. The program checks the first and prints a checksum
 * for the second.
 */
#include <math.h>
#include <mpi.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

enum { FEATURES = 32, CLASSES = 4, SAMPLES = 512, STEPS = 60, PARAMS = CLASSES * FEATURES + CLASSES };

static uint64_t state;
static float uniform(void) { /* [-1, 1) */
    state = state * 6364136223846793005ULL + 1442695040888963407ULL;
    return (float)((state >> 40) & 0xFFFFFF) / (float)(1 << 23) - 1.0f;
}

static float x[SAMPLES][FEATURES];
static int y[SAMPLES];

/* Class probabilities of one sample under parameters w (weights, then biases). */
static void softmax(const float *w, const float *sample, float *p) {
    float top = -INFINITY;
    for (int k = 0; k < CLASSES; k++) {
        float z = w[CLASSES * FEATURES + k];
        for (int j = 0; j < FEATURES; j++) z += w[k * FEATURES + j] * sample[j];
        p[k] = z;
        if (z > top) top = z;
    }
    float total = 0;
    for (int k = 0; k < CLASSES; k++) total += p[k] = expf(p[k] - top);
    for (int k = 0; k < CLASSES; k++) p[k] /= total;
}

int main(int argc, char **argv) {
    MPI_Init(&argc, &argv);
    int rank, size;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);

    /* The hidden model is the same on every rank; the samples are the rank's own. */
    float hidden[CLASSES * FEATURES];
    state = 12345;
    for (int i = 0; i < CLASSES * FEATURES; i++) hidden[i] = uniform();
    state = 1000 + (uint64_t)rank;
    for (int s = 0; s < SAMPLES; s++) {
        float best = -INFINITY;
        for (int j = 0; j < FEATURES; j++) x[s][j] = uniform();
        for (int k = 0; k < CLASSES; k++) {
            float z = 0;
            for (int j = 0; j < FEATURES; j++) z += hidden[k * FEATURES + j] * x[s][j];
            if (z > best) { best = z; y[s] = k; }
        }
    }

    float w[PARAMS] = {0}, grad[PARAMS], p[CLASSES];
    const float rate = 2.0f, total = (float)SAMPLES * (float)size, grid = 16384.0f; /* 2^14 */
    double first = 0, loss = 0;
    for (int step = 0; step <= STEPS; step++) {
        memset(grad, 0, sizeof grad);
        double local = 0;
        for (int s = 0; s < SAMPLES; s++) {
            softmax(w, x[s], p);
            local -= log((double)p[y[s]] + 1e-12);
            for (int k = 0; k < CLASSES; k++) {
                float d = (p[k] - (k == y[s])) / total;
                for (int j = 0; j < FEATURES; j++) grad[k * FEATURES + j] += d * x[s][j];
                grad[CLASSES * FEATURES + k] += d;
            }
        }
        for (int i = 0; i < PARAMS; i++) grad[i] = roundf(grad[i] * grid) / grid;
        MPI_Allreduce(MPI_IN_PLACE, grad, PARAMS, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD);
        MPI_Allreduce(&local, &loss, 1, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD);
        loss /= total;
        if (step == 0) first = loss;
        if (rank == 0 && step % 10 == 0) printf("step %3d  loss %.6f\n", step, loss);
        for (int i = 0; i < PARAMS; i++) w[i] -= rate * grad[i];
    }

    /* FNV-1a of the weights' bytes; every rank must hold the same. */
    uint64_t hash = 1469598103934665603ULL, low, high;
    const unsigned char *bytes = (const unsigned char *)w;
    for (size_t i = 0; i < sizeof w; i++) hash = (hash ^ bytes[i]) * 1099511628211ULL;
    MPI_Allreduce(&hash, &low, 1, MPI_UINT64_T, MPI_MIN, MPI_COMM_WORLD);
    MPI_Allreduce(&hash, &high, 1, MPI_UINT64_T, MPI_MAX, MPI_COMM_WORLD);
    int ok = low == high && loss < 0.5 * first;
    if (rank == 0) {
        printf("loss %.6f -> %.6f on %d ranks\n", first, loss, size);
        printf("weights checksum %016llx, %s on every rank\n", (unsigned long long)hash, low == high ? "identical" : "NOT identical");
        if (loss >= 0.5 * first) printf("the loss did not halve\n");
    }
    MPI_Finalize();
    return ok ? 0 : 1;
}
