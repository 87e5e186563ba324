"""dvmhttp.py -- shared by the observability tests: runs `dvm run --http
127.0.0.1:0 --linger ...` on a program, finds the URL it serves on from its
standard error, and reads its pages; runs a Prometheus server that scrapes
it, and the dashboard check in Chromium.  Traffic only to 127.0.0.1."""
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request

SKIP = 77  # ctest's SKIP_RETURN_CODE for these tests
HERE = os.path.dirname(os.path.abspath(__file__))


def free_port():
    """A loopback port nobody listens on now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get(url, timeout=5):
    with urllib.request.urlopen(url, timeout=timeout) as r:
        return r.read().decode()


class Dvm:
    """A `dvm run` serving on a free loopback port until stop() (or, with
    cmd, any command that says "dashboard at URL" on standard error)."""

    def __init__(self, dvm, prog, *args, linger=60, tmp=".", cmd=None):
        self.err_path = os.path.join(tmp, "dvm.err")
        self.out_path = os.path.join(tmp, "dvm.out")
        self.err = open(self.err_path, "w+")
        self.out = open(self.out_path, "w+")
        self.p = subprocess.Popen(
            cmd or [dvm, "run", "--http", "127.0.0.1:0", "--linger",
                    str(linger), *args, prog],
            stdout=self.out, stderr=self.err)
        self.url = self._wait_url()

    def _wait_url(self, timeout=20):
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            m = re.search(r"dashboard at (http://127\.0\.0\.1:\d+/)",
                          open(self.err_path).read())
            if m:
                return m.group(1)
            if self.p.poll() is not None:
                break
            time.sleep(0.05)
        raise AssertionError("dvm did not say where it serves: " +
                             open(self.err_path).read())

    def state(self):
        return json.loads(get(self.url + "api/state"))

    def wait_finished(self, timeout=60):
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if self.state()["finished"]:
                return
            time.sleep(0.1)
        raise AssertionError("the run did not finish in time")

    def stop(self):
        """Ends the linger with SIGTERM; returns the exit status."""
        if self.p.poll() is None:
            self.p.send_signal(signal.SIGTERM)
        try:
            return self.p.wait(timeout=20)
        finally:
            self.err.close()
            self.out.close()

    def stdout(self):
        return open(self.out_path).read()


def npm_packages(art):
    """tests/obs's locked packages under art/node (where the script is
    copied, so that its imports resolve there); None when npm cannot."""
    mods = os.path.join(art, "node")
    lock = os.path.join(HERE, "package-lock.json")
    stamp = os.path.join(mods, "node_modules", ".package-lock.json")
    if not os.path.exists(stamp) or \
            os.path.getmtime(stamp) < os.path.getmtime(lock):
        os.makedirs(mods, exist_ok=True)
        for f in ("package.json", "package-lock.json"):
            shutil.copy(os.path.join(HERE, f), mods)
        r = subprocess.run(["npm", "ci", "--prefer-offline", "--no-audit",
                            "--no-fund"], cwd=mods, capture_output=True,
                           text=True, timeout=300)
        if r.returncode:
            print(r.stdout + r.stderr)
            return None
    return os.path.join(mods, "node_modules")


def run_dashboard(art, url, shot, *look):
    """tests/obs/dashboard.mjs (copied beside the packages) on url: its
    output echoed; returns its exit status."""
    script = os.path.join(art, "node", "dashboard.mjs")
    shutil.copy(os.path.join(HERE, "dashboard.mjs"), script)
    r = subprocess.run(["node", script, url, shot, *look],
                       capture_output=True, text=True, timeout=60)
    print(r.stdout, end="")
    print(r.stderr, end="")
    return r.returncode


def need_dashboard(art):
    """Exits SKIP unless Chromium, node and the npm packages are there
    (installed into art/node when they are not yet)."""
    chromium = os.environ.get("CHROMIUM", "/usr/bin/chromium")
    if not os.access(chromium, os.X_OK) or not shutil.which("node"):
        print(f"SKIP: needs {chromium} and node (tools/setup.sh installs "
              "Debian's chromium and nodejs)")
        sys.exit(SKIP)
    if not npm_packages(art):
        print("SKIP: `npm ci` of tests/obs/package-lock.json failed "
              "(no npm registry and no cache?)")
        sys.exit(SKIP)
    os.makedirs(art, exist_ok=True)


PROMETHEUS_CONFIG = """global:
  scrape_interval: 200ms
  scrape_timeout: 150ms
scrape_configs:
  - job_name: dvm
    static_configs:
      - targets: ['{target}']
"""


class Prometheus:
    """Debian's prometheus on a free loopback port, scraping target
    ("HOST:PORT") every 0.2 s, its files in tmp, until stop()."""

    def __init__(self, prom, target, tmp):
        cfg = os.path.join(tmp, "prometheus.yml")
        with open(cfg, "w") as f:
            f.write(PROMETHEUS_CONFIG.format(target=target))
        port = free_port()
        self.log = open(os.path.join(tmp, "prometheus.log"), "w")
        self.p = subprocess.Popen(
            [prom, "--config.file=" + cfg,
             "--storage.tsdb.path=" + os.path.join(tmp, "data"),
             f"--web.listen-address=127.0.0.1:{port}"],
            stdout=self.log, stderr=subprocess.STDOUT)
        self.base = f"http://127.0.0.1:{port}/"

    def query(self, q):
        url = self.base + "api/v1/query?" + \
            urllib.parse.urlencode({"query": q})
        doc = json.loads(get(url))
        assert doc["status"] == "success", doc
        return doc["data"]["result"]

    def value(self, q, want=None, timeout=25):
        """The single sample of q, once Prometheus is up and has one (and,
        with want, once it is want: the last value seen otherwise)."""
        end = time.monotonic() + timeout
        v = None
        while time.monotonic() < end:
            try:
                r = self.query(q)
            except OSError:      # not listening yet
                r = None
            if r:
                assert len(r) == 1, (q, r)
                v = float(r[0]["value"][1])
                if want is None or v == want:
                    return v
            time.sleep(0.2)
        if v is not None:
            return v
        raise AssertionError(f"Prometheus has no sample of {q}")

    def stop(self):
        self.p.terminate()
        try:
            self.p.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.p.kill()
        self.log.close()


def doc_queries(path):
    """The PromQL of docs/observe.md's query tables (those whose header
    ends with "PromQL")."""
    qs, rows = [], None
    for line in open(path).read().splitlines():
        if line.startswith("| question") and line.endswith("| PromQL |"):
            rows = -1               # the separator line comes next
        elif rows is not None and line.startswith("|"):
            rows += 1
            if rows > 0:
                cell = line.split(" | ", 1)[1].replace("\\|", "|")
                qs += re.findall(r"`([^`]+)`", cell)
        else:
            rows = None
    assert len(qs) > 15, qs
    return qs
