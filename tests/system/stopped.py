#!/usr/bin/env python3
"""stopped.py DVM -- a stopped RComp does not stall the run.

The first runner counts for a while (about a second of interpreter time);
as soon as the RComps exist, every one of them gets SIGSTOP.  With
--heartbeat 1 the master must see that the RComp running the runner shows
no sign of life, replace it (with a warning) and finish the run on the
replacement with the right result.  Without a liveness bound the run
would hang until the time limit here."""
import os
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from procs import children  # noqa: E402

dvm = sys.argv[1]
PROG = """        .text
main:   mov $0, 0x200:q
again:  add 0x200:q, $1, 0x200
        br:l 0x200:q, $400000000, again
        mov $7, result:q
        exit:c
        .data
        .align 8
result: .quad 0
"""



def execed(pids):
    """Those of pids that run an RComp (past exec: `... __rcomp ...`)."""
    out = []
    for p in pids:
        try:
            with open("/proc/%d/cmdline" % p, "rb") as f:
                if b"__rcomp" in f.read().split(b"\0"):
                    out.append(p)
        except OSError:
            pass
    return out


with tempfile.TemporaryDirectory() as d:
    prog = os.path.join(d, "count.dasm")
    with open(prog, "w") as f:
        f.write(PROG)
    m = subprocess.Popen([dvm, "run", "--engine", "interp", "-n", "2",
                          "--heartbeat", "1", "--dump", "result:1:q", prog],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         text=True)
    # RComps that have run exec: the master starts each with vfork, and is
    # suspended until the child execs, so a child stopped before that
    # would stop the master itself (a hang of the test, not of the DVM:
    # it was seen once when a loaded machine slowed the exec down).
    end = time.monotonic() + 60
    while len(execed(children(m.pid))) < 2:
        if time.monotonic() > end or m.poll() is not None:
            sys.exit("FAIL: the RComps did not start")
        time.sleep(0.01)
    stopped = execed(children(m.pid))
    for p in stopped:
        os.kill(p, signal.SIGSTOP)
    try:
        out, err = m.communicate(timeout=120)
    except subprocess.TimeoutExpired:
        m.kill()
        out, err = m.communicate()
        sys.exit("FAIL: the run stalled behind stopped RComps (%d stopped: "
                 "%s; master's stderr:\n%s)" % (len(stopped), stopped, err))
    finally:
        for p in stopped:
            try:
                os.kill(p, signal.SIGKILL)
            except OSError:
                pass
    assert m.returncode == 0, (m.returncode, err)
    assert out.strip() == "7", out
    assert "showed no sign of life" in err, err
    print("ok: stopped RComps replaced; result", out.strip())
