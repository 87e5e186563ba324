"""cluster.py -- a cluster DVM on this host for the benchmarks
(bench/cluster_nodes, bench/recovery): a master and N nodes of R RComps,
each node kept running by a supervisor thread that starts it again when it
ends (as systemd's Restart=always does), so that a benchmark may kill
nodes.  Python 3 standard library only."""
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request


class Cluster:
    """A master and N nodes of R RComps each; stop() ends them.

    host: the master's listen address; a loopback one (the default) makes
    every node listen on loopback and home page versions; another address
    of this host (with a secret, which the cluster then requires) starts
    nodes without a listen address, which home nothing.  heartbeat: the
    --heartbeat of the master and the nodes (None: the default).  http:
    the master serves /metrics on a free loopback port (metrics())."""

    def __init__(self, dvm, nodes, rcomps, host="127.0.0.1", heartbeat=None,
                 http=False):
        self.dir = tempfile.mkdtemp(prefix="dvm-bench-")
        self.dvm, self.rcomps = dvm, rcomps
        self.log = os.path.join(self.dir, "master.log")
        self.env = dict(os.environ, UCX_POSIX_DIR=self.dir)
        self.sec = []
        if host != "127.0.0.1":
            sf = os.path.join(self.dir, "secret")
            with open(sf, "w") as f:
                f.write("bench-secret-" + os.urandom(16).hex() + "\n")
            os.chmod(sf, 0o600)
            self.sec = ["--secret-file", sf]
        self.hb = ["--heartbeat", str(heartbeat)] if heartbeat else []
        self.stopping = False
        pf = os.path.join(self.dir, "port")
        with open(self.log, "w") as lf:
            self.master = subprocess.Popen(
                [dvm, "master", "--listen", host + ":0", "--port-file", pf,
                 *self.sec, *self.hb, *(["--http", "127.0.0.1:0"] if http else [])],
                stderr=lf, env=self.env)
        self._wait(lambda: os.path.exists(pf) and os.path.getsize(pf) > 0)
        with open(pf) as f:
            self.addr = host + ":" + f.read().strip()
        self.nodes = [None] * nodes
        self.starts = [0] * nodes
        self.threads = []
        for k in range(nodes):
            t = threading.Thread(target=self._supervise, args=(k,), daemon=True)
            t.start()
            self.threads.append(t)
        self._wait(lambda: self.joined() >= nodes)

    def _supervise(self, k):
        """Runs node k again 0.2 s after it ends, until stop()."""
        while not self.stopping:
            p = subprocess.Popen(
                [self.dvm, "node", "--master", self.addr, "--rcomps",
                 str(self.rcomps), "--name", "n%d" % k, *self.sec, *self.hb],
                stderr=subprocess.DEVNULL, env=self.env)
            self.nodes[k] = p
            self.starts[k] += 1
            p.wait()
            time.sleep(0.2)

    def joined(self):
        """How many times a node joined, by the master's log."""
        with open(self.log) as f:
            return sum(" joined " in line for line in f)

    def metrics(self):
        """The master's /metrics text (the cluster started with http)."""
        with open(self.log) as f:
            m = re.search(r"metrics at (\S+)", f.read())
        with urllib.request.urlopen(m.group(1), timeout=10) as r:
            return r.read().decode()

    def rcomp_pids(self, k):
        """The pids of node k's RComps (its child processes)."""
        p = subprocess.run(["pgrep", "-P", str(self.nodes[k].pid)],
                           capture_output=True, text=True)
        return [int(x) for x in p.stdout.split()]

    def kill(self, k, sig=signal.SIGKILL):
        """Sends sig to node k's process (SIGSTOP: to its RComps too)."""
        pids = [self.nodes[k].pid]
        if sig in (signal.SIGSTOP, signal.SIGCONT):
            pids += self.rcomp_pids(k)
        for pid in pids:
            try:
                os.kill(pid, sig)
            except ProcessLookupError:
                pass

    def _wait(self, cond, limit=30):
        end = time.monotonic() + limit
        while not cond():
            if time.monotonic() > end:
                self.stop()
                sys.exit("bench: the cluster did not start")
            time.sleep(0.05)

    def stop(self):
        self.stopping = True
        time.sleep(0.3)             # a supervisor between two runs sees it
        for k, p in enumerate(self.nodes):
            if p is not None:
                self.kill(k, signal.SIGCONT)
                p.terminate()
        self.master.terminate()
        for p in [*self.nodes, self.master]:
            if p is None:
                continue
            try:
                p.wait(10)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
