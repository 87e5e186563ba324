#!/usr/bin/env python3
"""bigoutput.py DVM ENGINE -- a runner commits 256 MiB of output
(big_output.dasm); the bytes arrive whole and exact on standard output and
in a file bound with --out, and the master's peak resident set (VmHWM),
read while it is still writing (blocked on the pipe), stays far below the
output's size: the output is streamed from the frames the RComp wrote it
into, never held whole by the master.  The peak is compared with the same
master's for 1 MiB of output, so what the binary itself costs (LLVM,
sanitizers) does not count."""
import hashlib
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import procs  # noqa: E402

dvm, engine = sys.argv[1], sys.argv[2]
BOUND = 32 << 20            # the old master held all 256 MiB


def expected(pages):
    """The digest of the stdout big_output.dasm commits with PAGES pages."""
    h = hashlib.sha256()
    zeros = bytes(4096 - 8)
    for k in range(pages):
        h.update(k.to_bytes(8, "little"))
        h.update(zeros)
    return h.hexdigest()


def run(prog, pages, side):
    """Runs prog; returns the master's peak RSS halfway through its
    output.  Checks the output and the side channel's file."""
    p = subprocess.Popen([dvm, "run", "--engine", engine, "-n", "1",
                          "--out", "side=" + side, prog],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    h = hashlib.sha256()
    got, peak = 0, None
    while True:
        b = p.stdout.read(1 << 16)
        if not b:
            break
        h.update(b)
        got += len(b)
        if peak is None and got >= pages * 4096 // 2:
            # the master is alive: the rest of the output is still to come
            peak = procs.peak_rss(p.pid)
    err = p.stderr.read().decode()
    rc = p.wait(timeout=120)
    assert rc == 0, (rc, err)
    assert got == pages * 4096, (got, pages * 4096)
    assert h.hexdigest() == expected(pages), "stdout differs"
    with open(side, "rb") as f:
        assert f.read() == bytes(k & 0xFF for k in range(5000)), "side"
    return peak


src = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                   "big_output.dasm")
with tempfile.TemporaryDirectory() as d:
    small = os.path.join(d, "small.dasm")
    with open(src) as f, open(small, "w") as g:
        g.write(f.read().replace("PAGES, 65536", "PAGES, 256"))
    base = run(small, 256, os.path.join(d, "side0"))
    peak = run(src, 1 << 16, os.path.join(d, "side"))
grew = peak - base
assert grew < BOUND, f"master peak RSS {peak >> 20} MiB for 256 MiB of " \
                     f"output, {base >> 20} MiB for 1 MiB"
print(f"ok: 256 MiB exact; master peak RSS {peak >> 20} MiB "
      f"({base >> 20} MiB for 1 MiB of output)")
