#!/usr/bin/python3
"""tasks_dask.py -- what an empty Dask task costs end to end: COUNT tasks of
a function that returns at once, submitted with client.map to a
LocalCluster of WORKERS single-threaded processes and gathered.  Prints
"dask_us=X", the mean microseconds a task (cluster start not counted).

usage: tasks_dask.py [COUNT] [WORKERS]
"""
import os
import sys
import time


def empty(x):
    return x


def main():
    from dask.distributed import Client, LocalCluster
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 10000
    workers = int(sys.argv[2]) if len(sys.argv) > 2 else os.cpu_count()
    with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                      dashboard_address=None) as cluster, Client(cluster) as client:
        t0 = time.monotonic()
        client.gather(client.map(empty, range(count), pure=False))
        t1 = time.monotonic()
    print(f"dask_us={(t1 - t0) * 1e6 / count:.3f}")


if __name__ == "__main__":
    main()
