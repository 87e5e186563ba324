#!/usr/bin/python3
"""kmeans_dask.py -- k-means with dask.distributed (a LocalCluster of one
single-threaded worker process per core, or WORKERS), the algorithm of
kmeans_core.h: the W chunks are scattered to the workers once; each
iteration runs one task per chunk that returns the chunk's partial sums, and
the client adds them in chunk order.  Distances are summed coordinate by
coordinate in order and the per-cluster sums are np.bincount (sequential in
point order), so the centroids equal the C peers' bit for bit.

usage: kmeans_dask.py FILE [WORKERS]
Prints the iteration count and the centroids (%.17g a line); the compute
time (scatter and iterations, without the cluster start) on stderr.
"""
import os
import sys
import time

import numpy as np

MAGIC = 0x31534E4D4B4D5644
BLOCK = 2048  # points per distance block, bounds the BLOCK x k matrix


def load(path):
    """Returns (header dict, points n x 4) of a data set."""
    with open(path, "rb") as f:
        h = np.frombuffer(f.read(64), dtype="<u8")
        if h[0] != MAGIC or h[2] != 4 or not 1 <= h[3] <= h[1] or h[5] < 1:
            sys.exit(f"{path}: not a k-means data set")
        n = int(h[1])
        pts = np.frombuffer(f.read(n * 32), dtype="<f8").reshape(n, 4)
    return dict(n=n, k=int(h[3]), iters=int(h[4]), chunks=int(h[5])), pts


def partial(x, cent):
    """k x 5 partial sums (4 coordinate sums, count) of the points x."""
    k = cent.shape[0]
    labels = np.empty(len(x), dtype=np.int64)
    for b in range(0, len(x), BLOCK):
        xb = x[b:b + BLOCK]
        t = xb[:, 0, None] - cent[None, :, 0]
        d = t * t
        for j in range(1, 4):
            t = xb[:, j, None] - cent[None, :, j]
            d += t * t
        labels[b:b + BLOCK] = d.argmin(axis=1)
    part = np.empty((k, 5))
    for j in range(4):
        part[:, j] = np.bincount(labels, weights=x[:, j], minlength=k)
    part[:, 4] = np.bincount(labels, minlength=k)
    return part


def combine(cent, parts):
    """New centroids from the partials, added in chunk order."""
    s = np.zeros_like(parts[0])
    for p in parts:
        s += p
    new = cent.copy()
    full = s[:, 4] != 0
    new[full] = s[full, :4] / s[full, 4:5]
    return new


def main():
    from dask.distributed import Client, LocalCluster
    if len(sys.argv) not in (2, 3):
        sys.exit(__doc__)
    workers = int(sys.argv[2]) if len(sys.argv) == 3 else os.cpu_count()
    hdr, pts = load(sys.argv[1])
    n, w = hdr["n"], hdr["chunks"]
    cent = pts[:hdr["k"]].copy()
    with LocalCluster(n_workers=workers, threads_per_worker=1,
                      processes=True, dashboard_address=None) as cluster, \
            Client(cluster) as client:
        t0 = time.monotonic()
        chunks = client.scatter([pts[i * n // w:(i + 1) * n // w]
                                 for i in range(w)])
        for _ in range(hdr["iters"]):
            futs = [client.submit(partial, c, cent, pure=False) for c in chunks]
            cent = combine(cent, client.gather(futs))
        t1 = time.monotonic()
    out = [str(hdr["iters"])] + ["%.17g" % v for v in cent.ravel()]
    print("\n".join(out))
    print(f"compute_s={t1 - t0:.6f}", file=sys.stderr)


if __name__ == "__main__":
    main()
