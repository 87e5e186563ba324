#!/usr/bin/env python3
"""orphans.py DVM ENGINE -- RComps never outlive the master.

A runner loops forever; the master alone (not its process group) gets
SIGTERM, SIGINT, SIGHUP, SIGQUIT or SIGKILL.  Every RComp it had must be
gone (dead, at most a zombie of its new parent) soon after: the master
forwards the first three and reaps, and the kernel kills RComps whose
parent died (the others).  Waits are polls with generous deadlines, never
sleeps that guess a speed."""
import os
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from procs import children  # noqa: E402

dvm, engine = sys.argv[1], sys.argv[2]
SPIN = ".text\nmain: br:j main\n"



def alive(pid):
    """True unless pid is gone or a zombie."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def until(cond, secs, what):
    end = time.monotonic() + secs
    while not cond():
        if time.monotonic() > end:
            sys.exit("FAIL: " + what)
        time.sleep(0.05)


with tempfile.TemporaryDirectory() as d:
    prog = os.path.join(d, "spin.dasm")
    with open(prog, "w") as f:
        f.write(SPIN)
    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP,
                signal.SIGQUIT, signal.SIGKILL):
        m = subprocess.Popen([dvm, "run", "--engine", engine, "-n", "2",
                              prog], stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL,
                             start_new_session=True)
        until(lambda: len(children(m.pid)) == 2, 60,
              "%s: the RComps did not start" % sig.name)
        rcomps = children(m.pid)
        os.kill(m.pid, sig)                 # the master alone
        m.wait(timeout=60)
        until(lambda: not any(alive(p) for p in rcomps), 30,
              "%s to the master left RComps %s running" % (sig.name, rcomps))
        print("ok: %s: master %s, RComps gone" % (sig.name, m.returncode))
