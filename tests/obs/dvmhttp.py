"""dvmhttp.py -- shared by the observability tests: runs `dvm run --http
127.0.0.1:0 --linger ...` on a program, finds the URL it serves on from its
standard error, and reads its pages.  Traffic only to 127.0.0.1."""
import json
import os
import re
import signal
import socket
import subprocess
import time
import urllib.request

SKIP = 77  # ctest's SKIP_RETURN_CODE for these tests


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
