#!/usr/bin/env python3
"""prometheus_check.py DVM PROMETHEUS SRC -- a real Prometheus server
scrapes a running DVM.  The DVM runs examples/counter.dasm (2000 runners
incrementing one counter: exactly 2000 increments commit, plus the first
runner) and keeps serving; Prometheus, started here on loopback with a
generated configuration, scrapes it every 0.2 s; its query API must then
return the series with the values the run implies, and every query of
docs/observe.md's "Useful queries" must be one it accepts.  Exits 77
(skipped) when Prometheus is not installed."""
import os
import shutil
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from dvmhttp import SKIP, Dvm, Prometheus, doc_queries  # noqa: E402

dvm, prom, src = sys.argv[1], sys.argv[2], sys.argv[3]
if not shutil.which(prom):
    print(f"SKIP: no Prometheus server ({prom}); tools/setup.sh installs "
          "Debian's prometheus")
    sys.exit(SKIP)

with tempfile.TemporaryDirectory() as tmp:
    d = Dvm(dvm, os.path.join(src, "examples/counter.dasm"), "-n", "2",
            "--engine", "interp", tmp=tmp)
    prom_proc = None
    try:
        d.wait_finished()
        target = d.url[len("http://"):].rstrip("/")
        prom_proc = Prometheus(prom, target, tmp)
        value = prom_proc.value
        sel = '{job="dvm",node="local"}'
        # Wait until a scrape after the run is in: `up` is 1 then.
        assert value('up{job="dvm"}') == 1
        committed = value("dvm_runners_committed_total" + sel)
        assert committed == 2001, committed   # 2000 increments + the first
        conflicts = value("dvm_conflicts_total" + sel)
        dispatched = value("dvm_runners_dispatched_total" + sel)
        assert dispatched == committed + conflicts, (dispatched, conflicts)
        assert value("dvm_runners_reexecuted_total" + sel) == conflicts
        assert value("dvm_runners_created_total" + sel) == 2001
        assert value("dvm_runners_faulted_total" + sel) == 0
        assert value("dvm_runners_aborted_total" + sel) == 0
        assert value("dvm_commit_validation_seconds_count" + sel) == \
            dispatched
        assert value("dvm_dispatch_start_seconds_count" + sel) == \
            dispatched
        assert value("dvm_rcomps" + sel) == 2
        assert value("dvm_nodes") == 1
        assert value("dvm_runners_running" + sel) == 0
        assert value("dvm_runners_queued" + sel) == 0
        assert value('dvm_info{disa="1.1",c0="1.0"}') == 1
        # Histogram buckets are usable by histogram_quantile.
        q = value("histogram_quantile(0.5, dvm_dispatch_start_seconds"
                  "_bucket" + sel + ")")
        assert 0 < q < 10, q
        for dq in doc_queries(os.path.join(src, "docs/observe.md")):
            prom_proc.query(dq)     # accepted (status "success")
        out = d.stdout().split()
        assert out == [str(i) for i in range(1, 2001)], out[-3:]
        print(f"ok: Prometheus scraped {int(committed)} commits, "
              f"{int(conflicts)} conflicts, median dispatch-to-start {q:.6f} s")
    finally:
        if prom_proc:
            prom_proc.stop()
        rc = d.stop()
    assert rc == 0, (rc, open(d.err_path).read())
