#!/usr/bin/env python3
"""bigfile.py DVM ENGINE -- a program reads a 2 GiB input file through an
input channel; the DVM's memory use (largest resident set of the dvm
process and its RComps) stays far below the file size."""
import os
import resource
import subprocess
import sys
import tempfile

dvm, engine = sys.argv[1], sys.argv[2]
SIZE = 2 << 30
MARK = 1 << 20
with tempfile.TemporaryDirectory() as d:
    path = os.path.join(d, "big.bin")
    with open(path, "wb") as f:          # sparse, with a 1 every MiB
        f.truncate(SIZE)
        for off in range(0, SIZE, MARK):
            f.seek(off)
            f.write(b"\x01")
    prog = os.path.join(os.path.dirname(__file__), "..", "..", "examples",
                        "inputsum.dasm")
    r = subprocess.run([dvm, "run", "--engine", engine, "-n", "1",
                        "--in", "data=" + path, prog],
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr
    got = r.stdout.strip()
    assert got == str(SIZE // MARK), (got, SIZE // MARK)
rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024
assert rss < SIZE // 4, f"max RSS {rss >> 20} MiB for a {SIZE >> 30} GiB file"
print(f"ok: sum {got}, max RSS {rss >> 20} MiB for a {SIZE >> 30} GiB file")
