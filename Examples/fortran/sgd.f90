! Data-parallel SGD in Fortran: softmax regression on a synthetic data set, REAL gradients summed
! across ranks with MPI_ALLREDUCE (use mpi). Run as is, or with libtorus_mpi.so preloaded:
!
!     mpif90 -O2 -o sgd_f Examples/fortran/sgd.f90
!     mpirun -np 4 ./sgd_f
!     mpirun -np 4 -x LD_PRELOAD=$bin/libtorus_mpi.so -x TORUS_MIN_BYTES=0 ./sgd_f
!
! As in Examples/c/sgd.c, gradients are rounded to multiples of 2^-14 before the sum, so that it
! is exact in any order: the final weights are bit-identical on every rank and in every run.
program sgd
    use mpi
    implicit none
    integer, parameter :: features = 32, classes = 4, samples = 512, steps = 60
    integer, parameter :: params = classes * features + classes
    real :: x(features, samples), hidden(features, classes), w(params), grad(params), p(classes)
    integer :: y(samples), rank, nranks, ierr, s, k, step, i
    integer(kind=8) :: state, hash, low, high
    real :: z, best, total, d
    real, parameter :: rate = 2.0, grid = 16384.0
    double precision :: local, loss, first

    call MPI_INIT(ierr)
    call MPI_COMM_RANK(MPI_COMM_WORLD, rank, ierr)
    call MPI_COMM_SIZE(MPI_COMM_WORLD, nranks, ierr)

    state = 12345
    do k = 1, classes
        do i = 1, features
            hidden(i, k) = uniform()
        end do
    end do
    state = 1000 + rank
    do s = 1, samples
        do i = 1, features
            x(i, s) = uniform()
        end do
        best = -huge(best)
        do k = 1, classes
            z = dot_product(hidden(:, k), x(:, s))
            if (z > best) then
                best = z
                y(s) = k
            end if
        end do
    end do

    w = 0.0
    total = real(samples) * real(nranks)
    do step = 0, steps
        grad = 0.0
        local = 0.0d0
        do s = 1, samples
            call softmax(w, x(:, s), p)
            local = local - log(dble(p(y(s))) + 1.0d-12)
            do k = 1, classes
                d = p(k) / total
                if (k == y(s)) d = (p(k) - 1.0) / total
                grad((k - 1) * features + 1 : k * features) = grad((k - 1) * features + 1 : k * features) + d * x(:, s)
                grad(classes * features + k) = grad(classes * features + k) + d
            end do
        end do
        grad = anint(grad * grid) / grid
        call MPI_ALLREDUCE(MPI_IN_PLACE, grad, params, MPI_REAL, MPI_SUM, MPI_COMM_WORLD, ierr)
        call MPI_ALLREDUCE(local, loss, 1, MPI_DOUBLE_PRECISION, MPI_SUM, MPI_COMM_WORLD, ierr)
        loss = loss / total
        if (step == 0) first = loss
        if (rank == 0 .and. mod(step, 10) == 0) print '(a, i4, a, f10.6)', 'step', step, '  loss', loss
        w = w - rate * grad
    end do

    hash = transfer(sum(dble(w) * [(dble(i), i = 1, params)]), hash)
    call MPI_ALLREDUCE(hash, low, 1, MPI_INTEGER8, MPI_MIN, MPI_COMM_WORLD, ierr)
    call MPI_ALLREDUCE(hash, high, 1, MPI_INTEGER8, MPI_MAX, MPI_COMM_WORLD, ierr)
    if (rank == 0) then
        print '(a, f10.6, a, f10.6, a, i0, a)', 'loss', first, ' ->', loss, ' on ', nranks, ' ranks'
        if (low == high) then
            print '(a, z16.16, a)', 'weights checksum ', hash, ', identical on every rank'
        else
            print '(a)', 'weights NOT identical on every rank'
        end if
    end if
    call MPI_FINALIZE(ierr)
    if (low /= high .or. loss >= 0.5d0 * first) stop 1

contains

    real function uniform()
        state = state * 6364136223846793005_8 + 1442695040888963407_8
        uniform = real(iand(ishft(state, -40), int(z'FFFFFF', 8))) / real(2**23) - 1.0
    end function uniform

    subroutine softmax(w, sample, p)
        real, intent(in) :: w(params), sample(features)
        real, intent(out) :: p(classes)
        integer :: k
        do k = 1, classes
            p(k) = w(classes * features + k) + dot_product(w((k - 1) * features + 1 : k * features), sample)
        end do
        p = exp(p - maxval(p))
        p = p / sum(p)
    end subroutine softmax
end program sgd
