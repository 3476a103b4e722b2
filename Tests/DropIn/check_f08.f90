! The mpi_f08 binding under the drop-in (scripts/test-dropin.sh): REAL, DOUBLE PRECISION and
! INTEGER sums, in place and out of place, against the exact values; then MPI_Reduce_scatter_block
! and MPI_Allgather of REAL. With TORUS_VERBOSE=2 the library prints one "torus: allreduce" line
! per AllReduce it takes ("torus: reduce-scatter", "torus: all-gather" for the others); the
! script counts them.
program check_f08
    use mpi_f08
    implicit none
    integer, parameter :: n = 100003
    real :: a(n), b(n)
    double precision :: c(n)
    integer :: k(n), rank, nranks, i, failures, total
    real, allocatable :: whole(:), part(:)
    type(MPI_Comm) :: comm

    call MPI_Init()
    call MPI_Comm_rank(MPI_COMM_WORLD, rank)
    call MPI_Comm_size(MPI_COMM_WORLD, nranks)
    call MPI_Comm_dup(MPI_COMM_WORLD, comm)
    failures = 0
    a = [(real(mod(i, 13) * (rank + 1)), i = 1, n)]
    call MPI_Allreduce(a, b, n, MPI_REAL, MPI_SUM, comm)
    if (any(b /= [(real(mod(i, 13) * nranks * (nranks + 1) / 2), i = 1, n)])) failures = failures + 1
    call MPI_Allreduce(MPI_IN_PLACE, a, n, MPI_REAL, MPI_SUM, comm)
    if (any(a /= b)) failures = failures + 1
    c = [(dble(mod(i, 7)) * (rank + 1), i = 1, n)]
    call MPI_Allreduce(MPI_IN_PLACE, c, n, MPI_DOUBLE_PRECISION, MPI_MAX, comm)
    if (any(c /= [(dble(mod(i, 7)) * nranks, i = 1, n)])) failures = failures + 1
    k = [(i * (rank + 1), i = 1, n)]
    call MPI_Allreduce(MPI_IN_PLACE, k, n, MPI_INTEGER, MPI_SUM, comm)
    if (any(k /= [(i * (nranks * (nranks + 1) / 2), i = 1, n)])) failures = failures + 1
    allocate(whole(n * nranks), part(n))
    whole = [(real(mod(i, 11) + rank), i = 1, n * nranks)]
    call MPI_Reduce_scatter_block(whole, part, n, MPI_REAL, MPI_SUM, comm)
    if (any(part /= [(real(nranks * mod(rank * n + i, 11) + nranks * (nranks - 1) / 2), i = 1, n)])) failures = failures + 1
    part = [(real(i + rank), i = 1, n)]
    call MPI_Allgather(part, n, MPI_REAL, whole, n, MPI_REAL, comm)
    if (any(whole /= [(real(mod(i - 1, n) + 1 + (i - 1) / n), i = 1, n * nranks)])) failures = failures + 1
    call MPI_Comm_free(comm)
    call MPI_Allreduce(failures, total, 1, MPI_INTEGER, MPI_SUM, MPI_COMM_WORLD)
    if (rank == 0) then
        if (total == 0) then
            print '(a)', 'check_f08: 6 checks passed'
        else
            print '(a, i0, a)', 'check_f08: ', total, ' failures'
        end if
    end if
    call MPI_Finalize()
    if (total /= 0) stop 1
end program check_f08
