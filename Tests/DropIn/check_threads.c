/*
 * MPI_THREAD_MULTIPLE: two threads per rank call MPI_Allreduce at the same time, each on its own
 * communicator (a dup of the world and a reversed split), 20 calls of 1 Mi floats each, in place
 * and out of place; every result is checked against the exact sum. Run by scripts/test-dropin.sh
 * with the library preloaded. Prints "check_threads: N checks passed" or the failures.
 */
#include <mpi.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

enum { COUNT = 1 << 20, CALLS = 20 };
static int rank, size;

typedef struct {
    MPI_Comm comm;
    int id, failures, checks;
} worker;

static void *run(void *argument) {
    worker *w = argument;
    int members, me;
    MPI_Comm_size(w->comm, &members);
    MPI_Comm_rank(w->comm, &me);
    float *in = malloc(sizeof(float) * COUNT), *out = malloc(sizeof(float) * COUNT);
    for (int call = 0; call < CALLS; call++) {
        /* Rank r contributes (r + 1) * (i % 7 + call + w->id): the sum is exact in float. */
        for (int i = 0; i < COUNT; i++) in[i] = (float)((me + 1) * (i % 7 + call + w->id));
        int in_place = call % 2;
        if (in_place) {
            for (int i = 0; i < COUNT; i++) out[i] = in[i];
            MPI_Allreduce(MPI_IN_PLACE, out, COUNT, MPI_FLOAT, MPI_SUM, w->comm);
        } else {
            MPI_Allreduce(in, out, COUNT, MPI_FLOAT, MPI_SUM, w->comm);
        }
        float ranks = (float)(members * (members + 1) / 2);
        w->checks++;
        for (int i = 0; i < COUNT; i++) {
            if (out[i] != ranks * (float)(i % 7 + call + w->id)) {
                fprintf(stderr, "rank %d thread %d call %d: element %d is %g, expected %g\n", rank, w->id, call, i, out[i],
                        ranks * (float)(i % 7 + call + w->id));
                w->failures++;
                break;
            }
        }
    }
    free(in);
    free(out);
    return NULL;
}

int main(int argc, char **argv) {
    int provided = 0;
    MPI_Init_thread(&argc, &argv, MPI_THREAD_MULTIPLE, &provided);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    if (provided < MPI_THREAD_MULTIPLE) {
        if (rank == 0) fprintf(stderr, "check_threads: this MPI provides thread level %d, not MPI_THREAD_MULTIPLE\n", provided);
        MPI_Finalize();
        return 1;
    }
    worker workers[2] = {{0}, {0}};
    MPI_Comm_dup(MPI_COMM_WORLD, &workers[0].comm);
    MPI_Comm_split(MPI_COMM_WORLD, 0, size - rank, &workers[1].comm);
    pthread_t threads[2];
    for (int t = 0; t < 2; t++) {
        workers[t].id = t;
        pthread_create(&threads[t], NULL, run, &workers[t]);
    }
    int failures = 0, checks = 0, total = 0;
    for (int t = 0; t < 2; t++) {
        pthread_join(threads[t], NULL);
        failures += workers[t].failures;
        checks += workers[t].checks;
        MPI_Comm_free(&workers[t].comm);
    }
    /* The library's set-up must leave MPI's thread level as it was (Open MPI's MPI_T_init_thread,
     * which the library calls to read an MCA parameter, sets it to the level it is given). */
    int level = -1;
    MPI_Query_thread(&level);
    if (level != MPI_THREAD_MULTIPLE) {
        fprintf(stderr, "rank %d: MPI's thread level is %d after the calls, not MPI_THREAD_MULTIPLE\n", rank, level);
        failures++;
    }
    checks++;
    MPI_Allreduce(&failures, &total, 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
    if (rank == 0) printf(total ? "check_threads: %d failures\n" : "check_threads: %d checks passed\n", total ? total : checks);
    MPI_Finalize();
    return total == 0 ? 0 : 1;
}
