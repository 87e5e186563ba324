#!/usr/bin/python3
"""prime_dask.py -- the prime-checker with dask.distributed (a LocalCluster
of one single-threaded worker process per core, or WORKERS): one task per
runner chunk of N numbers, the counts summed by the client.  The task is
trial division as in prime_core.h, vectorised with numpy: the numbers not
yet decided are tested against blocks of odd divisors d (only where
d*d <= n), and a number leaves as soon as a divisor is found or d*d passes
it, so no number is tried against more divisors than in the C loop, give
or take one block.

usage: prime_dask.py START R N [WORKERS]
Prints the count of primes; the compute time (without the cluster start)
on stderr.
"""
import os
import sys
import time

import numpy as np

DBLOCK = 512  # divisors tried at once


def count_chunk(start, i, n):
    """Primes among start + i*n .. start + i*n + n - 1."""
    v = np.arange(start + i * n, start + i * n + n, dtype=np.int64)
    cnt = int(np.count_nonzero(v == 2))
    live = v[(v > 2) & (v % 2 == 1)]
    d0 = 3
    while live.size:
        d = np.arange(d0, d0 + 2 * DBLOCK, 2, dtype=np.int64)
        inrange = d[None, :] * d[None, :] <= live[:, None]
        hit = ((live[:, None] % d[None, :]) == 0) & inrange
        composite = hit.any(axis=1)
        decided = composite | ~inrange[:, -1]  # a divisor, or d*d passed n
        cnt += int(np.count_nonzero(decided & ~composite))
        live = live[~decided]
        d0 += 2 * DBLOCK
    return cnt


def main():
    from dask.distributed import Client, LocalCluster
    if len(sys.argv) not in (4, 5):
        sys.exit(__doc__)
    start, r, n = (int(a) for a in sys.argv[1:4])
    workers = int(sys.argv[4]) if len(sys.argv) == 5 else os.cpu_count()
    with LocalCluster(n_workers=workers, threads_per_worker=1,
                      processes=True, dashboard_address=None) as cluster, \
            Client(cluster) as client:
        t0 = time.monotonic()
        futs = client.map(count_chunk, [start] * r, range(r), [n] * r)
        total = sum(client.gather(futs))
        t1 = time.monotonic()
    print(total)
    print(f"compute_s={t1 - t0:.6f}", file=sys.stderr)


if __name__ == "__main__":
    main()
