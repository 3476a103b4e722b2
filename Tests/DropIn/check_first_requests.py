"""mpi4py's Iallreduce under the drop-in (scripts/test-dropin.sh), as a data-parallel job with two
process groups uses it: the first requests on two communicators started in opposite orders on even
and odd ranks (legal MPI; mpi4py initialises MPI at MPI_THREAD_MULTIPLE, where the library takes
them), completed with MPI.Request.Waitall, then a second round on each. Then fifteen new
communicators whose first Iallreduce is followed at once by an Ibcast of 400 KB from rank 0, which
MPI runs while the library may still copy the communicator (MPI_Comm_idup: Open MPI 4.1 corrupts
memory when another thread starts a nonblocking collective there meanwhile, so the drop-in's
MPI_Ibcast waits for the copy first). float32 sums of small integers, exact in any order, checked
against the exact values. Prints "check_first_requests.py: passed, the library took N" on rank 0."""
import ctypes
import numpy as np
from mpi4py import MPI

comm = MPI.COMM_WORLD
rank, size = comm.Get_rank(), comm.Get_size()
a = comm.Dup()
b = comm.Split(0, size - rank)
n = 1 << 16
failures = 0
for round in range(2):
    requests, results, inputs = [], [], []   # the inputs stay alive until the requests are over
    for k, c in enumerate([a, b] if rank % 2 == 0 or round else [b, a]):
        x = ((np.arange(n) % 7) + c.Get_rank() + round).astype(np.float32)
        y = np.empty(n, dtype=np.float32)
        inputs.append(x)
        requests.append(c.Iallreduce(x, y, op=MPI.SUM))
        results.append((y, (size * (np.arange(n) % 7) + size * (size - 1) // 2 + size * round).astype(np.float32)))
    MPI.Request.Waitall(requests)
    failures += sum(int(not np.array_equal(y, want)) for y, want in results)

for j in range(15):
    g = comm.Dup()
    x = ((np.arange(n) % 7) + rank + j).astype(np.float32)
    y = np.empty(n, dtype=np.float32)
    z = (np.arange(100003) % 11 + j).astype(np.float32) if rank == 0 else np.zeros(100003, dtype=np.float32)
    MPI.Request.Waitall([g.Iallreduce(x, y, op=MPI.SUM), g.Ibcast(z, root=0)])
    failures += int(not np.array_equal(y, (size * (np.arange(n) % 7) + size * (size - 1) // 2 + size * j).astype(np.float32)))
    failures += int(not np.array_equal(z, (np.arange(100003) % 11 + j).astype(np.float32)))
    g.Free()

taken, passed = ctypes.c_longlong(0), ctypes.c_longlong(0)
try:
    ctypes.CDLL(None).torus_call_counts(ctypes.byref(taken), ctypes.byref(passed))
except AttributeError:
    pass
total = comm.allreduce(failures)
if rank == 0:
    print(f"check_first_requests.py: passed, the library took {taken.value}" if total == 0 else f"check_first_requests.py: {total} failures")
a.Free()
b.Free()
