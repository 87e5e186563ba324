#!/usr/bin/env python3
"""bigoutput.py DVM ENGINE -- a runner commits 256 MiB of output
(big_output.dasm); the bytes arrive whole and exact on standard output and
in a file bound with --out, and the master's peak resident set (VmHWM),
read while it is still writing (blocked on the pipe), stays far below the
output's size: the output is streamed from the frames the RComp wrote it
into, never held whole by the master."""
import hashlib
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import procs  # noqa: E402

dvm, engine = sys.argv[1], sys.argv[2]
PAGES = 1 << 16
SIZE = PAGES * 4096
BOUND = 64 << 20            # the old master held the whole 256 MiB


def expected():
    """The digest of the stdout big_output.dasm commits."""
    h = hashlib.sha256()
    zeros = bytes(4096 - 8)
    for k in range(PAGES):
        h.update(k.to_bytes(8, "little"))
        h.update(zeros)
    return h.hexdigest()


prog = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                    "big_output.dasm")
with tempfile.TemporaryDirectory() as d:
    side = os.path.join(d, "side")
    p = subprocess.Popen([dvm, "run", "--engine", engine, "-n", "1",
                          "--out", "side=" + side, prog],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    h = hashlib.sha256()
    got = 0
    peak = None
    while True:
        b = p.stdout.read(1 << 20)
        if not b:
            break
        h.update(b)
        got += len(b)
        if peak is None and got >= SIZE // 2:
            # the master is alive: the rest of the output is still to come
            peak = procs.peak_rss(p.pid)
    err = p.stderr.read().decode()
    rc = p.wait(timeout=120)
    assert rc == 0, (rc, err)
    assert got == SIZE, (got, SIZE)
    assert h.hexdigest() == expected(), "stdout differs"
    with open(side, "rb") as f:
        assert f.read() == bytes(k & 0xFF for k in range(5000)), "side differs"
assert peak is not None
assert peak < BOUND, f"master peak RSS {peak >> 20} MiB for {SIZE >> 20} MiB"
print(f"ok: {SIZE >> 20} MiB exact; master peak RSS {peak >> 20} MiB")
