"""cluster.py -- a cluster DVM on this host for the benchmarks
(bench/cluster_nodes, bench/recovery): a master and N nodes of R RComps,
each node kept running by a supervisor thread that starts it again when it
ends (as systemd's Restart=always does), so that a benchmark may kill
nodes.  Python 3 standard library only."""
import json
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
    the master serves /metrics on a free loopback port (metrics()).
    master_args: more options of the master (--results-with-data).  env:
    more environment of every process.  node_prefix: a function of the
    node number giving the words run before node k's command (taskset)."""

    def __init__(self, dvm, nodes, rcomps, host="127.0.0.1", heartbeat=None,
                 http=False, master_args=(), env=None, node_prefix=None):
        self.dir = tempfile.mkdtemp(prefix="dvm-bench-")
        self.dvm, self.rcomps = dvm, rcomps
        self.log = os.path.join(self.dir, "master.log")
        self.env = dict(os.environ, UCX_POSIX_DIR=self.dir, **(env or {}))
        self.prefix = node_prefix or (lambda k: [])
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
                 *self.sec, *self.hb, *(["--http", "127.0.0.1:0"] if http else []),
                 *master_args],
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
        if host == "127.0.0.1":     # every node homes pages before a program
            self._wait(lambda: self.homing() >= nodes)

    def _supervise(self, k):
        """Runs node k again 0.2 s after it ends, until stop()."""
        while not self.stopping:
            p = subprocess.Popen(
                [*self.prefix(k), self.dvm, "node", "--master", self.addr, "--rcomps",
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

    def homing(self):
        """How many times a node said where it serves its homes."""
        with open(self.log) as f:
            return sum(" serves the pages it homes " in line for line in f)

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

    def submit_cmd(self, args):
        """The command line of a `dvm submit` of args to this cluster."""
        return [self.dvm, "submit", "--master", self.addr, *self.sec, *args]

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


class NetnsCluster:
    """A master and N nodes of R RComps on N+1 "hosts": network namespaces
    joined by veth pairs to a bridge in the master's (10.78.0.0/24, as
    tests/cluster/netns_lib.sh does), so that every message crosses a real
    TCP stack.  The cluster has a secret; each node listens on its own
    address (10.78.0.1K) and homes page versions as a host would.  Needs
    root and ip netns (available() says).  submit_cmd(args) is the
    command line of a `dvm submit` from the master's host; qdisc(spec,
    nodes) puts a tc qdisc ("netem delay 200us", "tbf rate 100mbit ...") on
    both ends of the links of the given nodes (1..N; default all), False
    where the kernel lacks it; env: more environment of every process;
    stop() ends the processes and deletes the namespaces.  Several may
    exist at once (each has its own namespaces)."""

    made = 0

    @staticmethod
    def available():
        if os.geteuid() != 0:
            return False
        probe = "dvmbp%d" % os.getpid()
        if subprocess.run(["ip", "netns", "add", probe], capture_output=True).returncode:
            return False
        subprocess.run(["ip", "netns", "del", probe], capture_output=True)
        return True

    def __init__(self, dvm, nodes, rcomps, env=None):
        self.dir = tempfile.mkdtemp(prefix="dvm-bench-ns-")
        self.dvm, self.n = dvm, nodes
        NetnsCluster.made += 1
        self.tag = "b%d%s" % (os.getpid(), chr(ord("a") + NetnsCluster.made % 26))
        self.m = self.tag + "m"
        self.env = dict(os.environ, UCX_POSIX_DIR=self.dir, **(env or {}))
        self.procs = []
        self.sec = os.path.join(self.dir, "secret")
        with open(self.sec, "w") as f:
            f.write("bench-secret-" + os.urandom(16).hex() + "\n")
        os.chmod(self.sec, 0o600)
        try:
            self._links()
            self._start(rcomps)
        except BaseException:
            self.stop()
            raise

    def _ip(self, *args):
        subprocess.run(["ip", *args], check=True, capture_output=True)

    def _links(self):
        t, m = self.tag, self.m
        self._ip("netns", "add", m)
        self._ip("-n", m, "link", "set", "lo", "up")
        self._ip("-n", m, "link", "add", t + "br", "type", "bridge")
        self._ip("-n", m, "addr", "add", "10.78.0.1/24", "dev", t + "br")
        self._ip("-n", m, "link", "set", t + "br", "up")
        for k in range(1, self.n + 1):
            ns = "%sn%d" % (t, k)
            self._ip("netns", "add", ns)
            self._ip("-n", ns, "link", "set", "lo", "up")
            self._ip("link", "add", "%sa%d" % (t, k), "netns", m, "type", "veth",
                     "peer", "name", "%sb%d" % (t, k), "netns", ns)
            self._ip("-n", m, "link", "set", "%sa%d" % (t, k), "master", t + "br")
            self._ip("-n", ns, "addr", "add", "10.78.0.1%d/24" % k, "dev", "%sb%d" % (t, k))
            self._ip("-n", m, "link", "set", "%sa%d" % (t, k), "up")
            self._ip("-n", ns, "link", "set", "%sb%d" % (t, k), "up")

    def _exec(self, ns, args, log):
        with open(os.path.join(self.dir, log), "w") as lf:
            p = subprocess.Popen(["ip", "netns", "exec", ns, self.dvm, *args],
                                 stderr=lf, env=self.env)
        self.procs.append(p)
        return p

    def _start(self, rcomps):
        pf = os.path.join(self.dir, "port")
        self._exec(self.m, ["master", "--listen", "0.0.0.0:0", "--port-file", pf,
                            "--secret-file", self.sec], "master.log")
        Cluster._wait(self, lambda: os.path.exists(pf) and os.path.getsize(pf) > 0)
        with open(pf) as f:
            self.port = f.read().strip()
        for k in range(1, self.n + 1):
            self._exec("%sn%d" % (self.tag, k),
                       ["node", "--master", "10.78.0.1:" + self.port, "--rcomps",
                        str(rcomps), "--name", "n%d" % k, "--secret-file", self.sec,
                        "--listen", "10.78.0.1%d:0" % k], "node%d.log" % k)
        self.log = os.path.join(self.dir, "master.log")
        Cluster._wait(self, lambda: Cluster.joined(self) >= self.n)

    def submit_cmd(self, args):
        return ["ip", "netns", "exec", self.m, self.dvm, "submit", "--master",
                "127.0.0.1:" + self.port, "--secret-file", self.sec, *args]

    def status(self):
        """The master's `dvm status --json`, parsed."""
        out = subprocess.run(["ip", "netns", "exec", self.m, self.dvm, "status",
                              "--master", "127.0.0.1:" + self.port,
                              "--secret-file", self.sec, "--json"],
                             capture_output=True, text=True, check=True, env=self.env)
        return json.loads(out.stdout)

    def input_pages(self, name):
        """Node `name`'s input pages fetched so far (dvm status)."""
        return sum(h["input_pages_fetched"] for h in self.status()["hosts"]
                   if h["name"] == name)

    def qdisc(self, spec, nodes=None):
        for k in nodes or range(1, self.n + 1):
            for ns, dev in ((self.m, "%sa%d" % (self.tag, k)),
                            ("%sn%d" % (self.tag, k), "%sb%d" % (self.tag, k))):
                r = subprocess.run(["ip", "netns", "exec", ns, "tc", "qdisc", "add",
                                    "dev", dev, "root", *spec.split()],
                                   capture_output=True)
                if r.returncode:
                    return False
        return True

    def stop(self):
        for p in self.procs:
            p.terminate()
        for p in self.procs:
            try:
                p.wait(10)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        for k in range(1, self.n + 1):
            subprocess.run(["ip", "netns", "del", "%sn%d" % (self.tag, k)], capture_output=True)
        subprocess.run(["ip", "netns", "del", self.m], capture_output=True)
