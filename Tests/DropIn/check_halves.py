"""mpi4py's Reduce_scatter_block and Allgather under the drop-in (scripts/test-dropin.sh): float32
sums of small integers (exact in any order) and int64 blocks, checked against the exact values.
Prints "check_halves.py: 4 checks passed" on rank 0."""
import numpy as np
from mpi4py import MPI

comm = MPI.COMM_WORLD
rank, size = comm.Get_rank(), comm.Get_size()
c = 50001
failures = 0

send = ((np.arange(size * c) % 13) + rank).astype(np.float32)
recv = np.empty(c, dtype=np.float32)
comm.Reduce_scatter_block(send, recv, op=MPI.SUM)
expected = (size * (np.arange(rank * c, (rank + 1) * c) % 13) + size * (size - 1) // 2).astype(np.float32)
failures += int(not np.array_equal(recv, expected))

inplace = send.copy()
comm.Reduce_scatter_block(MPI.IN_PLACE, inplace, op=MPI.SUM)
failures += int(not np.array_equal(inplace[:c], expected))

mine = (np.arange(c, dtype=np.int64) * 1000003 + rank)
gathered = np.empty(size * c, dtype=np.int64)
comm.Allgather(mine, gathered)
expected_all = np.concatenate([np.arange(c, dtype=np.int64) * 1000003 + r for r in range(size)])
failures += int(not np.array_equal(gathered, expected_all))

gathered2 = np.zeros(size * c, dtype=np.int64)
gathered2[rank * c:(rank + 1) * c] = mine
comm.Allgather(MPI.IN_PLACE, gathered2)
failures += int(not np.array_equal(gathered2, expected_all))

total = comm.allreduce(failures, op=MPI.SUM)
if rank == 0:
    print("check_halves.py: 4 checks passed" if total == 0 else f"check_halves.py: {total} failures")
raise SystemExit(1 if total else 0)
