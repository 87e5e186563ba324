#!/usr/bin/env python3
"""prometheus_check.py DVM PROMETHEUS SRC -- a real Prometheus server
scrapes a running DVM.  The DVM runs examples/counter.dasm (2000 runners
incrementing one counter: exactly 2000 increments commit, plus the first
runner) and keeps serving; Prometheus, started here on loopback with a
generated configuration, scrapes it every 0.2 s; its query API must then
return the series with the values the run implies, and every query of
docs/observe.md's "Useful queries" must be one it accepts.  Exits 77
(skipped) when Prometheus is not installed."""
import json
import re
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from dvmhttp import SKIP, Dvm, free_port, get  # noqa: E402

dvm, prom, src = sys.argv[1], sys.argv[2], sys.argv[3]
if not shutil.which(prom):
    print(f"SKIP: no Prometheus server ({prom}); tools/setup.sh installs "
          "Debian's prometheus")
    sys.exit(SKIP)

CONFIG = """global:
  scrape_interval: 200ms
  scrape_timeout: 150ms
scrape_configs:
  - job_name: dvm
    static_configs:
      - targets: ['{target}']
"""


def query(base, q):
    url = base + "api/v1/query?" + urllib.parse.urlencode({"query": q})
    doc = json.loads(get(url))
    assert doc["status"] == "success", doc
    return doc["data"]["result"]


def doc_queries(path):
    """The PromQL of the "Useful queries" table of docs/observe.md."""
    text = open(path).read().split("### Useful queries", 1)[1]
    table = text.split("\n\n", 2)[1]
    qs = []
    for row in table.splitlines()[2:]:
        cell = row.split(" | ", 1)[1].replace("\\|", "|")
        qs += re.findall(r"`([^`]+)`", cell)
    assert len(qs) > 10, qs
    return qs


def value(base, q):
    """The single sample of q, once Prometheus is up and has one."""
    end = time.monotonic() + 25
    while time.monotonic() < end:
        try:
            r = query(base, q)
        except OSError:          # not listening yet
            r = None
        if r:
            assert len(r) == 1, (q, r)
            return float(r[0]["value"][1])
        time.sleep(0.2)
    raise AssertionError(f"Prometheus has no sample of {q}")


with tempfile.TemporaryDirectory() as tmp:
    d = Dvm(dvm, os.path.join(src, "examples/counter.dasm"), "-n", "2",
            "--engine", "interp", tmp=tmp)
    prom_proc = None
    try:
        d.wait_finished()
        target = d.url[len("http://"):].rstrip("/")
        cfg = os.path.join(tmp, "prometheus.yml")
        with open(cfg, "w") as f:
            f.write(CONFIG.format(target=target))
        port = free_port()
        prom_log = open(os.path.join(tmp, "prometheus.log"), "w")
        prom_proc = subprocess.Popen(
            [prom, "--config.file=" + cfg,
             "--storage.tsdb.path=" + os.path.join(tmp, "data"),
             f"--web.listen-address=127.0.0.1:{port}"],
            stdout=prom_log, stderr=subprocess.STDOUT)
        base = f"http://127.0.0.1:{port}/"
        sel = '{job="dvm",node="local"}'
        # Wait until a scrape after the run is in: `up` is 1 then.
        assert value(base, 'up{job="dvm"}') == 1
        committed = value(base, "dvm_runners_committed_total" + sel)
        assert committed == 2001, committed   # 2000 increments + the first
        conflicts = value(base, "dvm_conflicts_total" + sel)
        dispatched = value(base, "dvm_runners_dispatched_total" + sel)
        assert dispatched == committed + conflicts, (dispatched, conflicts)
        assert value(base, "dvm_runners_reexecuted_total" + sel) == conflicts
        assert value(base, "dvm_runners_created_total" + sel) == 2001
        assert value(base, "dvm_runners_faulted_total" + sel) == 0
        assert value(base, "dvm_runners_aborted_total" + sel) == 0
        assert value(base, "dvm_commit_validation_seconds_count" + sel) == \
            dispatched
        assert value(base, "dvm_dispatch_start_seconds_count" + sel) == \
            dispatched
        assert value(base, "dvm_rcomps" + sel) == 2
        assert value(base, "dvm_nodes") == 1
        assert value(base, "dvm_runners_running" + sel) == 0
        assert value(base, "dvm_runners_queued" + sel) == 0
        assert value(base, 'dvm_info{disa="1.1",c0="1.0"}') == 1
        # Histogram buckets are usable by histogram_quantile.
        q = value(base, "histogram_quantile(0.5, dvm_dispatch_start_seconds"
                        "_bucket" + sel + ")")
        assert 0 < q < 10, q
        for dq in doc_queries(os.path.join(src, "docs/observe.md")):
            query(base, dq)     # accepted (status "success")
        out = d.stdout().split()
        assert out == [str(i) for i in range(1, 2001)], out[-3:]
        print(f"ok: Prometheus scraped {int(committed)} commits, "
              f"{int(conflicts)} conflicts, median dispatch-to-start {q:.6f} s")
    finally:
        if prom_proc:
            prom_proc.terminate()
            try:
                prom_proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                prom_proc.kill()
        rc = d.stop()
    assert rc == 0, (rc, open(d.err_path).read())
