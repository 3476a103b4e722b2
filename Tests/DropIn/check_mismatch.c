/* Ranks that call MPI_Allreduce with different arguments (scripts/test-dropin.sh). The last rank
 * differs from the others in one way, named by the first argument:
 *   count      one float more (100,000 floats against 100,001)
 *   op         MPI_MAX where the others pass MPI_SUM (a float op the library leaves to MPI)
 *   threshold  1 KiB where the others pass 32 MiB (MPI's side of the threshold against the library's)
 *   inplace    MPI_IN_PLACE where the others pass a send buffer
 *   none       no difference: the call succeeds and the result is checked
 *   late       the last rank makes both of two calls 6 seconds after the others (TORUS_ON_STALL=warn:
 *              reports from the setup and from the second call, then success)
 *   absent     after one call together, the last rank never makes the second (TORUS_TIMEOUT: the
 *              others report what they wait for and end the job)
 *   first      the last rank never makes even the first call (the others wait in the setup)
 *   iabsent    as absent, but the others' second call is MPI_Iallreduce and MPI_Wait (under
 *              MPI_THREAD_MULTIPLE, where the library takes it): the stall watch covers it too
 *   nan        rank 1's input holds a NaN at index 7 and an Inf at index 9 (TORUS_NAN_CHECK reports
 *              them in rank 1's input and in every rank's result; the result is not checked)
 * A second argument makes the call under test nonblocking, MPI_Iallreduce then MPI_Wait:
 *   i          under MPI_THREAD_MULTIPLE (the library runs the checks in the request)
 *   i-single   under MPI_Init (single thread: the checks cannot run in a request; the library says so)
 * Expected with TORUS_CHECK=1: every rank reports the difference and the job stops (the default
 * error handler), never a hang or a wrong answer. Prints "agreed and checked" when the call succeeds. */
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <math.h>

int main(int argc, char **argv) {
    const char *mode = argc > 1 ? argv[1] : "none", *call = argc > 2 ? argv[2] : "";
    int nonblocking = strcmp(mode, "iabsent") == 0 || strcmp(call, "i") == 0 || strcmp(call, "i-single") == 0, provided;
    if (nonblocking && strcmp(call, "i-single") != 0) MPI_Init_thread(&argc, &argv, MPI_THREAD_MULTIPLE, &provided);
    else MPI_Init(&argc, &argv);
    int rank, size;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    int odd = rank == size - 1;
    int count = 100000;
    MPI_Op op = MPI_SUM;
    int in_place = 0;
    if (strcmp(mode, "count") == 0 && odd) count += 1;
    if (strcmp(mode, "op") == 0 && odd) op = MPI_MAX;
    if (strcmp(mode, "threshold") == 0) count = odd ? 256 : 8 << 20;
    if (strcmp(mode, "inplace") == 0 && odd) in_place = 1;
    float *in = malloc(sizeof(float) * (size_t)count), *out = malloc(sizeof(float) * (size_t)count);
    for (int i = 0; i < count; i++) in[i] = out[i] = (float)(rank + 1);
    if (strcmp(mode, "nan") == 0 && rank == 1) {
        in[7] = out[7] = (float)NAN;
        in[9] = out[9] = (float)INFINITY;
    }
    if (strcmp(mode, "late") == 0) {
        if (odd) sleep(6);
        MPI_Allreduce(in, out, count, MPI_FLOAT, op, MPI_COMM_WORLD);
        if (odd) sleep(6);
    }
    int iabsent = strcmp(mode, "iabsent") == 0;
    if (strcmp(mode, "absent") == 0 || iabsent) MPI_Allreduce(in, out, count, MPI_FLOAT, op, MPI_COMM_WORLD);
    if ((strcmp(mode, "absent") == 0 || strcmp(mode, "first") == 0 || iabsent) && odd) {
        sleep(600);   /* never calls: the job must end before this */
        fprintf(stderr, "rank %d: nobody noticed the missing rank\n", rank);
        MPI_Abort(MPI_COMM_WORLD, 4);
    }
    if (nonblocking) {
        MPI_Request request;
        MPI_Iallreduce(in_place ? MPI_IN_PLACE : in, out, count, MPI_FLOAT, op, MPI_COMM_WORLD, &request);
        MPI_Wait(&request, MPI_STATUS_IGNORE);
    } else {
        MPI_Allreduce(in_place ? MPI_IN_PLACE : in, out, count, MPI_FLOAT, op, MPI_COMM_WORLD);
    }
    float want = (float)size * (float)(size + 1) / 2;
    int wrong = 0;
    for (int i = 0; i < count; i++) wrong += out[i] != want && strcmp(mode, "nan") != 0;
    if (wrong) {
        fprintf(stderr, "rank %d: %d wrong values (mode %s)\n", rank, wrong, mode);
        MPI_Abort(MPI_COMM_WORLD, 2);
    }
    if (rank == 0) printf("agreed and checked (mode %s)\n", mode);
    free(in);
    free(out);
    MPI_Finalize();
    return 0;
}
