/*
 * The C API (torus.h), compiled against the pkg-config entry scripts/build-dropin.sh writes and
 * run by scripts/test-dropin.sh without any preload: torus_allreduce against PMPI_Allreduce,
 * torus_allreduce_route for calls the library takes and calls it leaves to MPI, torus_call_counts,
 * and an erroneous count reported as MPI's own error code. Expects TORUS_MIN_BYTES=1024.
 */
#include <stdio.h>
#include <string.h>
#include "check.h"
#include <torus.h>

static int rank, failures, checks;

int main(int argc, char **argv) {
    int size;
    MPI_Init(&argc, &argv);
    MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    enum { N = 300001 };
    static double in[N], ours[N], theirs[N];
    for (int i = 0; i < N; i++) in[i] = (double)((i * 7 + rank * 3) % 101) - 50.0;

    char route[256];
    CHECK(torus_allreduce_route(MPI_COMM_WORLD, N, MPI_DOUBLE, MPI_SUM, route, sizeof route) == MPI_SUCCESS, "route query failed");
    CHECK((size == 1) == (strncmp(route, "mpi", 3) == 0), "a 2.4 MB double sum should take a torus algorithm, route is '%s'", route);
    if (rank == 0) printf("check_capi: %d doubles, sum: %s\n", N, route);
    CHECK(torus_allreduce_route(MPI_COMM_WORLD, 10, MPI_DOUBLE, MPI_SUM, route, sizeof route) == MPI_SUCCESS &&
              strcmp(route, "mpi (below TORUS_MIN_BYTES)") == 0, "10 doubles: route is '%s'", route);
    CHECK(torus_allreduce_route(MPI_COMM_WORLD, N, MPI_2INT, MPI_MAXLOC, route, sizeof route) == MPI_SUCCESS &&
              strncmp(route, "mpi (", 5) == 0, "MAXLOC: route is '%s'", route);
    CHECK(torus_allreduce_route(MPI_COMM_WORLD, N, MPI_DOUBLE, MPI_SUM, route, 8) == MPI_SUCCESS && strlen(route) == 7,
          "a short route buffer gets 7 characters and a NUL, got '%s'", route);

    long long taken0, passed0, taken1, passed1;
    torus_call_counts(&taken0, &passed0);
    CHECK(torus_allreduce(in, ours, N, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD) == MPI_SUCCESS, "torus_allreduce failed");
    PMPI_Allreduce(in, theirs, N, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD);
    CHECK(memcmp(ours, theirs, sizeof ours) == 0, "torus_allreduce differs from PMPI_Allreduce");
    memcpy(ours, in, sizeof ours);
    CHECK(torus_allreduce(MPI_IN_PLACE, ours, N, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD) == MPI_SUCCESS &&
              memcmp(ours, theirs, sizeof ours) == 0, "torus_allreduce in place differs from PMPI_Allreduce");
    CHECK(torus_allreduce(in, ours, 0, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD) == MPI_SUCCESS, "count 0 failed");
    torus_call_counts(&taken1, &passed1);
    CHECK(taken1 - taken0 == (size > 1 ? 2 : 0), "the library took %lld calls, expected %d", taken1 - taken0, size > 1 ? 2 : 0);
    CHECK(passed1 - passed0 == (size > 1 ? 1 : 3), "the library passed on %lld calls, expected %d", passed1 - passed0, size > 1 ? 1 : 3);
    int code = torus_allreduce(in, ours, -1, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD), class = 0;
    MPI_Error_class(code, &class);
    CHECK(class == MPI_ERR_COUNT, "count -1 gave error class %d, expected MPI_ERR_COUNT (%d)", class, MPI_ERR_COUNT);

    int total = 0;
    PMPI_Allreduce(&failures, &total, 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
    if (rank == 0) printf(total ? "check_capi: %d failures\n" : "check_capi: %d checks passed\n", total ? total : checks);
    MPI_Finalize();
    return total == 0 ? 0 : 1;
}
