"""Data-parallel training with mpi4py and numpy: a small MLP learns a synthetic task, and the
gradients of all ranks are summed with comm.Allreduce(MPI.IN_PLACE, grads), as in any mpi4py
training loop. Run it plain, or with libtorus_mpi.so preloaded (nothing in the script changes):

    mpirun -np 4 /usr/bin/python3 Examples/python/train_mlp.py
    mpirun -np 4 -x LD_PRELOAD=$bin/libtorus_mpi.so -x TORUS_MIN_BYTES=0 /usr/bin/python3 Examples/python/train_mlp.py

Use Debian's python3-mpi4py (built against the system Open MPI, so the preload interposes its
MPI_Allreduce) with /usr/bin/python3. Each rank makes its own shard: 16 inputs, labels from a
hidden random teacher network over 4 classes. Prints the loss every 10 steps, then one line with
the whole loss curve's digest: two preloaded runs give the same digest (bit-identical); a plain
run gives the same curve to float tolerance (MPI may add the ranks' gradients in another order).
"""
import hashlib
import sys

import numpy as np
from mpi4py import MPI

comm = MPI.COMM_WORLD
rank, size = comm.Get_rank(), comm.Get_size()
inputs, hidden, classes, samples, steps, rate = 16, 64, 4, 256, 60, 0.5

# The teacher is the same on every rank; the samples are the rank's own.
teacher = np.random.default_rng(7)
t1, t2 = teacher.standard_normal((inputs, 32)), teacher.standard_normal((32, classes))
data = np.random.default_rng(100 + rank)
x = data.uniform(-1, 1, (samples, inputs)).astype(np.float32)
y = np.argmax(np.tanh(x @ t1) @ t2, axis=1)

# Parameters, and one flat float32 buffer holding all gradients (one Allreduce per step).
init = np.random.default_rng(1)
shapes = [(inputs, hidden), (hidden,), (hidden, classes), (classes,)]
params = [(init.standard_normal(s) * (0.5 if len(s) == 2 else 0)).astype(np.float32) for s in shapes]
grads = np.zeros(sum(p.size for p in params), dtype=np.float32)
views, offset = [], 0
for p in params:
    views.append(grads[offset:offset + p.size].reshape(p.shape))
    offset += p.size

total = samples * size
curve = []
for step in range(steps + 1):
    w1, b1, w2, b2 = params
    h = np.tanh(x @ w1 + b1)
    z = h @ w2 + b2
    z -= z.max(axis=1, keepdims=True)
    p = np.exp(z)
    p /= p.sum(axis=1, keepdims=True)
    loss = np.array([-np.log(p[np.arange(samples), y] + 1e-12).sum()], dtype=np.float64)
    dz = p.copy()
    dz[np.arange(samples), y] -= 1
    dz /= total
    dh = (dz @ w2.T) * (1 - h * h)
    views[0][...] = x.T @ dh
    views[1][...] = dh.sum(axis=0)
    views[2][...] = h.T @ dz
    views[3][...] = dz.sum(axis=0)
    comm.Allreduce(MPI.IN_PLACE, grads)            # the gradient sum: the library's call when preloaded
    comm.Allreduce(MPI.IN_PLACE, loss)
    curve.append(loss[0] / total)
    if rank == 0 and step % 10 == 0:
        print(f"step {step:3d}  loss {curve[-1]:.6f}", flush=True)
    for param, g in zip(params, views):
        param -= np.float32(rate) * g

digest = hashlib.sha256(np.array(curve).tobytes() + b"".join(p.tobytes() for p in params)).hexdigest()[:16]
mine = np.frombuffer(bytes.fromhex(digest), dtype=np.uint64).copy()
lowest, highest = mine.copy(), mine.copy()
comm.Allreduce(MPI.IN_PLACE, [lowest, MPI.UINT64_T], op=MPI.MIN)
comm.Allreduce(MPI.IN_PLACE, [highest, MPI.UINT64_T], op=MPI.MAX)
same = lowest[0] == highest[0]
if rank == 0:
    print(f"loss {curve[0]:.6f} -> {curve[-1]:.6f} on {size} ranks")
    print("loss curve: " + " ".join(f"{v:.6f}" for v in curve[::10]))
    print(f"digest {digest}, {'identical' if same else 'NOT identical'} on every rank")
sys.exit(0 if same and curve[-1] < 0.7 * curve[0] else 1)
